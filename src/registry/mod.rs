//! Registry use cases: organisations, projects and their subcontractors, the
//! dedicated wage account (农民工工资专用账户), the real-name roster (实名制花名册)
//! and attendance (考勤).
//!
//! No HTTP here: a handler in `api/` extracts and authorises, calls one use
//! case and renders what it returns. Each use case takes a connection, owns
//! its transaction and answers [`AppError`](crate::error::AppError), so a
//! refusal inside the transaction rolls it back. Uploads arrive as raw bytes
//! ([`Upload`]) and are read here, on the blocking pool with the database
//! work, never on the async workers.

pub mod attendance;
pub mod attendance_read;
pub mod organizations;
pub mod projects;
pub mod roster;
mod roster_store;
pub mod views;
pub mod wage_account;

use chrono::NaiveDate;

use crate::domain::ResidentId;
use crate::error::AppError;
use crate::tabular::{self, FieldError, Limits, Schema, Table};

pub use views::{OrgSummary, ProjectView, RegionView, WageAccountView};

/// An upload as received, owned so it can move to the blocking pool.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Lower-case, without parameters (`text/csv`).
    pub media_type: String,
    /// The content type's `charset` parameter, if any.
    pub charset: Option<String>,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// Reads it as a table of `schema`; a file that cannot be read as a whole
    /// is the problem its [`tabular::TableError`] names.
    pub fn read(&self, schema: &Schema) -> Result<Table, AppError> {
        let upload = tabular::Upload {
            media_type: &self.media_type,
            charset: self.charset.as_deref(),
            bytes: &self.bytes,
        };
        Ok(tabular::read_upload(upload, schema, &Limits::configured())?)
    }
}

/// A resident ID number, its birth date checked against the business
/// clock's today rather than the machine's.
pub(crate) fn resident_id_on(
    field: &'static str,
    value: &str,
    today: NaiveDate,
) -> Result<ResidentId, FieldError> {
    ResidentId::parse_on(value, today).map_err(|e| FieldError {
        field,
        code: e.code(),
        reason: e.to_string(),
    })
}
