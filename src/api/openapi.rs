//! The OpenAPI document, generated from the handlers and types, and a
//! self-contained docs page (no CDN: it works on a closed network).

use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    attendance, confirmations, error, health, organizations, payrolls, projects, tabular, workers,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wagebridge",
        description = "Keeps migrant construction workers paid: projects and their dedicated wage accounts, real-name rosters, attendance, payrolls, bank files and arrears warnings. Errors are RFC 9457 problem+json with a stable `code`.",
    ),
    paths(
        health::healthz,
        health::readyz,
        organizations::create,
        projects::create,
        projects::get,
        projects::attach_subcontractor,
        projects::put_wage_account,
        workers::put_workers,
        workers::list_workers,
        attendance::post_attendance,
        payrolls::submit,
        payrolls::read,
        payrolls::approve,
        payrolls::payslip,
        payrolls::get_settings,
        payrolls::put_settings,
        confirmations::confirm,
        confirmations::payslip,
    ),
    components(schemas(error::Problem, tabular::UploadReport, tabular::RowResult, tabular::RowProblem)),
    modifiers(&BearerAuth),
    tags(
        (name = "organizations", description = "Owners, contractors, subcontractors, banks and regulators"),
        (name = "projects", description = "Projects and their dedicated wage account (农民工工资专用账户)"),
        (name = "roster", description = "The real-name roster (实名制花名册)"),
        (name = "attendance", description = "Daily attendance (考勤)"),
        (name = "payrolls", description = "Monthly payrolls (工资支付表): submission, matching, approval, exports, pay slips (工资清单)"),
        (name = "confirmations", description = "Workers confirm their payroll line (本人签字确认) with the token they were sent; no API key"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("docs.html"))
}
