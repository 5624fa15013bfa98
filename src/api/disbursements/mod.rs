//! Disbursement batches over HTTP, one file per action: make a batch
//! (`create`), read the list and one batch (`read`), the exceptions
//! (`exceptions`), release a held batch by hand (`release`). The work is
//! in `banking::disburse`.

pub mod create;
pub mod exceptions;
pub mod read;
pub mod release;

use crate::access::ProjectRole;
use crate::api::error::ApiError;

/// Reads are for the contractor, the owner and the region's regulators.
pub(crate) fn require_reader(role: ProjectRole) -> Result<(), ApiError> {
    if crate::banking::disburse::read::may_read(role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "只有总承包单位、建设单位和监管部门可查看代发批次 (subcontractors do not read disbursements)",
        ))
    }
}

/// Actions are the general contractor's.
pub(crate) fn require_contractor(role: ProjectRole) -> Result<(), ApiError> {
    if crate::banking::disburse::may_disburse(role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "只有项目的总承包单位可代发工资 (only the project's general contractor disburses)",
        ))
    }
}

/// A batch id from the path, read after the caller is known (so a request
/// without a key is answered 401 whatever its path says). Not a number: no
/// such batch.
pub(crate) fn batch_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("the disbursement batch"))
}
