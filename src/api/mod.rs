//! The HTTP API: thin actix-web handlers per resource. Handlers turn raw
//! input into domain types at the edge, ask `access` whether the caller may,
//! and leave the work to `db`.

pub mod admission;
pub mod attendance;
pub mod auth;
pub mod bank_connections;
pub mod bank_files;
pub mod body;
pub mod clock;
pub mod confirmations;
pub mod disbursements;
pub mod error;
pub mod health;
pub mod openapi;
pub mod organizations;
pub mod payrolls;
pub mod projects;
pub mod rate_limit;
pub mod spreadsheet;
pub mod whoami;
pub mod workers;

use actix_web::web;

use crate::clock::Clock;
use crate::db::PgPool;

/// What every handler can reach.
pub struct AppState {
    pub pool: PgPool,
    /// Where every business time and "today" comes from.
    pub clock: Clock,
    /// Per-address limit on the token endpoints (`/v1/confirmations`, `/v1/payslips`, `/w`).
    pub token_limiter: rate_limit::RateLimiter,
    /// The service's data directory: raw bank files are kept under it.
    pub data_dir: std::path::PathBuf,
}

/// Registers every route, body limits and error handlers on an actix app.
pub fn configure(max_body_bytes: usize) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::PayloadConfig::new(max_body_bytes))
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body_bytes)
                    .error_handler(error::json_error),
            )
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                error::ApiError::bad_request("INVALID_PATH", err.to_string()).into()
            }))
            .service(health::healthz)
            .service(health::readyz)
            .service(openapi::openapi_json)
            .service(openapi::docs)
            .service(organizations::create)
            .service(projects::create)
            .service(projects::get)
            .service(projects::attach_subcontractor)
            .service(projects::put_wage_account)
            .service(workers::put_workers)
            .service(workers::list_workers)
            .service(attendance::post_attendance)
            .service(attendance::list_attendance)
            .service(payrolls::submit::submit)
            .service(payrolls::read::read)
            .service(payrolls::approve::approve)
            .service(payrolls::payslip::payslip)
            .service(payrolls::settings::get_settings)
            .service(payrolls::settings::put_settings)
            .service(payrolls::lines::reissue_token)
            .service(payrolls::lines::paper_confirmation)
            .service(confirmations::confirm)
            .service(confirmations::payslip)
            .service(confirmations::worker_link)
            .service(whoami::whoami)
            .service(clock::get_clock)
            .service(clock::put_clock)
            .configure(bank_files::routes(bank_files::DEFAULT_MAX_BANK_FILE_BYTES))
            .service(bank_connections::put_connection)
            .service(bank_connections::get_connection)
            .service(disbursements::create::disburse)
            // Before `{id}`, which would take `exceptions` for an id.
            .service(disbursements::exceptions::exceptions)
            .service(disbursements::read::list)
            .service(disbursements::read::read)
            .service(disbursements::release::release)
            .default_service(web::to(not_found));
    }
}

async fn not_found(
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, error::ApiError> {
    Err(error::ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "NO_SUCH_ROUTE",
        format!("there is no {} {}", req.method(), req.path()),
    ))
}
