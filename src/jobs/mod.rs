//! Background work: the job runner and what it runs.
//!
//! - [`inbound`]: polling the bank connections' transports for files.

pub mod inbound;
