//! Banking use cases: the money path between a project's dedicated account
//! and the workers' cards.
//!
//! - [`config`]: what a bank connection is configured with (dialect, transport).
//! - [`transport`]: opening a connection's transport from that configuration.
//! - [`outbox_admin`]: listing bank outbox entries and reviving dead ones.
//! - [`inbound`]: every file a bank sends: kept, recognised, applied once or quarantined.
//!
//! The tables are in `migrations/2026-12-02-000001_bank_link`: connections,
//! disbursement batches with one attempt per payroll line (the states are
//! [`crate::domain::disbursement`]), the bank outbox, inbound bank files and
//! the statements read from them. Like every use case here, these hold no
//! actix type and own their transactions; the job runner (`crate::jobs`)
//! drives the outbox and the inboxes.

pub mod cli;
pub mod config;
pub mod connections;
pub mod disburse;
pub mod inbound;
pub mod outbox_admin;
pub mod reasons;
pub mod transport;
