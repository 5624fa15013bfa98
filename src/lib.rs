//! wagebridge: keeps migrant construction workers paid.
//!
//! - [`domain`]: pure types and rules (identifiers, money, periods), no I/O.
//! - [`clock`]: the business clock, real or simulated.
//! - [`access`]: who may see and change what.
//! - [`idempotent`]: the life of one Idempotency-Key in a use case.
//! - [`error`]: the use-case error and every problem code the API answers.
//! - [`db`]: PostgreSQL through diesel; the database guards the invariants.
//! - [`registry`]: registry use cases: organisations, projects, wage accounts, roster, attendance.
//! - [`payroll`]: payroll use cases: submit, read, approve, settings, pay slips.
//! - [`banking`]: the bank link: connections, disbursement batches, the bank outbox, inbound files, statements.
//! - [`jobs`]: the job runner: the bank outbox dispatcher, purges.
//! - [`api`]: the HTTP API (actix-web), problem+json errors, OpenAPI.
//! - [`server`]: assembling and running the HTTP server; [`tls`] its certificates.
//! - [`certs`]: development certificates (`wagebridge certs dev`).
//! - [`tabular`]: uploads (CSV, XLSX, JSON) read into one table, with limits.

pub mod access;
pub mod api;
pub mod banking;
pub mod certs;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod idempotent;
pub mod jobs;
pub mod notify;
pub mod paging;
pub mod payroll;
pub mod registry;
pub mod server;
pub mod tabular;
pub mod telemetry;
pub mod tls;
