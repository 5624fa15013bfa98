//! Admission of heavy uploads (roster, attendance, payroll): a limit per
//! organisation and one for the whole process, checked before the body is read.
//!
//! An upload holds a database connection for as long as it is matched and
//! stored. Without a limit, one tenant's burst of large uploads takes every
//! pooled connection and everyone else's reads and the health checks wait
//! behind it. With it, uploads beyond an organisation's share are refused at
//! once with 429 and `Retry-After` (nothing is read or stored, so a retry is
//! safe), and all uploads together never hold more than `total` connections
//! (two each at most: the work and an idempotency claim), which leaves the
//! rest of the pool to reads and `/readyz`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use super::error::ApiError;
use super::AppState;
use crate::db;
use crate::error::ErrorCode;

/// How many uploads may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Per organisation (all its keys together).
    pub per_organization: usize,
    /// For the whole process; keep `2 × total` below the pool's size.
    pub total: usize,
}

impl Default for UploadLimits {
    /// For the default pool of 16 connections: 6 uploads hold at most 12.
    fn default() -> Self {
        UploadLimits {
            per_organization: 2,
            total: 6,
        }
    }
}

/// Seconds a refused client is asked to wait.
const RETRY_AFTER_SECONDS: u32 = 5;

/// The uploads running now, per organisation and in all.
#[derive(Debug)]
pub struct Admission {
    limits: UploadLimits,
    running: Mutex<Running>,
}

#[derive(Debug, Default)]
struct Running {
    total: usize,
    per_organization: HashMap<i64, usize>,
}

impl Admission {
    pub fn new(limits: UploadLimits) -> Arc<Admission> {
        Arc::new(Admission {
            limits,
            running: Mutex::new(Running::default()),
        })
    }

    /// A permit for one upload of `organization_id`, or the limit it would pass.
    fn admit(self: &Arc<Self>, organization_id: i64) -> Result<Permit, Refusal> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let mine = running
            .per_organization
            .get(&organization_id)
            .copied()
            .unwrap_or(0);
        if mine >= self.limits.per_organization {
            return Err(Refusal::Organization(self.limits.per_organization));
        }
        if running.total >= self.limits.total {
            return Err(Refusal::Total(self.limits.total));
        }
        running.total += 1;
        *running.per_organization.entry(organization_id).or_insert(0) += 1;
        Ok(Permit {
            admission: Arc::clone(self),
            organization_id,
        })
    }
}

/// Held while an upload runs; dropping it (whatever the outcome) frees the place.
struct Permit {
    admission: Arc<Admission>,
    organization_id: i64,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut running = self
            .admission
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        running.total = running.total.saturating_sub(1);
        if let Some(n) = running.per_organization.get_mut(&self.organization_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.per_organization.remove(&self.organization_id);
            }
        }
    }
}

enum Refusal {
    Organization(usize),
    Total(usize),
}

impl Refusal {
    fn problem(&self) -> ApiError {
        let detail = match self {
            Refusal::Organization(n) => format!(
                "本机构已有 {n} 个上传正在处理，请等待完成后再试 \
                 (at most {n} uploads of one organisation run at once; retry after {RETRY_AFTER_SECONDS} s)"
            ),
            Refusal::Total(n) => format!(
                "服务正在处理 {n} 个上传，请稍后再试 \
                 (at most {n} uploads run at once; retry after {RETRY_AFTER_SECONDS} s)"
            ),
        };
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyUploads,
            detail,
        )
    }
}

/// Whether the request is an upload that matches and stores many rows.
fn is_upload(method: &Method, pattern: Option<&str>) -> bool {
    matches!(
        (method, pattern),
        (&Method::PUT, Some("/v1/projects/{code}/workers"))
            | (&Method::POST, Some("/v1/projects/{code}/attendance"))
            | (&Method::POST, Some("/v1/projects/{code}/payrolls"))
    )
}

/// The organisation a bearer key belongs to; `None` when there is no known
/// key (the handler then answers 401 itself).
async fn organization_of(req: &ServiceRequest) -> Result<Option<i64>, ApiError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Ok(None);
    };
    let key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Ok(None);
    };
    let org = db::run(&state.pool, move |conn| {
        db::organizations::find_by_key(conn, &key)
    })
    .await?;
    Ok(org.map(|o| o.id))
}

/// The middleware: uploads pass with a permit or are refused with 429;
/// every other request passes untouched.
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !is_upload(req.method(), req.match_pattern().as_deref()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(admission) = req.app_data::<web::Data<Arc<Admission>>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let organization = match organization_of(&req).await {
        Ok(org) => org,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let Some(organization) = organization else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match admission.admit(organization) {
        Ok(permit) => {
            let response = next.call(req).await;
            drop(permit);
            Ok(response?.map_into_boxed_body())
        }
        Err(refusal) => {
            tracing::warn!(organization, "upload refused: too many at once");
            let mut response = refusal.problem().error_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(RETRY_AFTER_SECONDS),
            );
            Ok(req.into_response(response))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_gets_its_share_and_the_process_its_total() {
        let admission = Admission::new(UploadLimits {
            per_organization: 2,
            total: 3,
        });
        let a1 = admission.admit(1).ok();
        let a2 = admission.admit(1).ok();
        assert!(a1.is_some() && a2.is_some());
        assert!(matches!(admission.admit(1), Err(Refusal::Organization(2))));
        let b1 = admission.admit(2).ok();
        assert!(b1.is_some());
        assert!(matches!(admission.admit(3), Err(Refusal::Total(3))));
        drop(a1);
        assert!(
            admission.admit(1).is_ok(),
            "a finished upload frees its place"
        );
    }

    #[test]
    fn only_uploads_are_limited() {
        let pattern = Some("/v1/projects/{code}/workers");
        assert!(is_upload(&Method::PUT, pattern));
        assert!(!is_upload(&Method::GET, pattern));
        assert!(is_upload(
            &Method::POST,
            Some("/v1/projects/{code}/payrolls")
        ));
        assert!(!is_upload(&Method::GET, Some("/v1/projects/{code}")));
        assert!(!is_upload(&Method::POST, None));
    }
}
