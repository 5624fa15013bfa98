//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{get, web, HttpResponse, ResponseError};
use diesel::RunQueryDsl;

use super::error::ApiError;
use super::AppState;
use crate::db;

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The service can reach its database.
#[utoipa::path(tag = "health", responses((status = 200, description = "ready"), (status = 503, description = "database unreachable")))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ok = db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok::<(), db::DbError>(())
    })
    .await;
    match ok {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "database": "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            // The same problem every other request answers while the database is away.
            ApiError::from(e).error_response()
        }
    }
}
