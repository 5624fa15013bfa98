//! Bank file formats: a neutral payment and statement model, and the dialects that
//! turn it into the files banks exchange and back. Knows nothing of the database.

pub mod error;
pub mod model;
