//! Monthly payrolls (工资支付表):
//!
//! - `POST /v1/projects/{code}/payrolls`: submit (JSON, CSV, XLSX), with `Idempotency-Key`;
//!   every line is matched against the roster and attendance
//!   ([`crate::domain::payroll`]) and each accepted line's worker is sent a confirmation link.
//! - `GET /v1/projects/{code}/payrolls/{period}`: the period's payrolls with every
//!   line's match result, confirmation and approval; `?format=csv|xlsx` exports.
//! - `POST /v1/projects/{code}/payrolls/{period}/approve`: the general contractor
//!   freezes the lines that will be paid.
//! - `GET /v1/projects/{code}/payrolls/{period}/payslips/{id_number}`: a worker's pay slip.
//! - `GET|PUT /v1/projects/{code}/payroll-settings`: whether unconfirmed lines may be approved.

//!
//! HTTP only: each action's handler (one file per action) extracts and
//! authorises, calls one use case of [`crate::payroll`], and renders its outcome.

pub mod approve;
pub mod export;
pub mod lines;
pub mod payslip;
pub mod read;
pub mod settings;
pub mod submit;

use actix_web::{web, HttpRequest};

use super::error::ApiError;

// The OpenAPI document names the handlers as `payrolls::<action>`.
pub use approve::__path_approve;
pub use payslip::__path_payslip;
pub use read::__path_read;
pub use settings::{__path_get_settings, __path_put_settings};
pub use submit::__path_submit;

pub use crate::payroll::payslip::{pay_date, pay_slip};
pub use crate::payroll::tokens::{new_token, token_hash};
pub use crate::payroll::views::*;
pub use crate::payroll::CHANNELS;
pub use export::EXPORT_HEADER;

pub(crate) fn query<T: serde::de::DeserializeOwned + Default>(
    req: &HttpRequest,
) -> Result<T, ApiError> {
    if req.query_string().is_empty() {
        return Ok(T::default());
    }
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ApiError::bad_request("INVALID_QUERY", e.to_string()))
}
