//! The OpenAPI document, generated from the handlers and types, and a
//! self-contained docs page (no CDN: it works on a closed network).
//!
//! What is true of every operation (problem+json errors, 401 without a key,
//! the media types a body may have, unique operation ids) is added here in
//! one pass, [`Conventions`], rather than repeated in each handler's
//! annotation, where it drifts.

use std::collections::BTreeSet;

use actix_web::{get, HttpResponse};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::{Response, Responses};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::{
    attendance, bank_connections, bank_files, clock, confirmations, disbursements, error, health,
    organizations, payrolls, projects, whoami, workers,
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
        attendance::list_attendance,
        payrolls::submit,
        payrolls::read,
        payrolls::approve,
        payrolls::payslip,
        payrolls::get_settings,
        payrolls::put_settings,
        confirmations::confirm,
        confirmations::payslip,
        confirmations::worker_link,
        payrolls::lines::reissue_token,
        payrolls::lines::paper_confirmation,
        whoami::whoami,
        clock::get_clock,
        clock::put_clock,
        bank_files::upload,
        bank_files::list,
        bank_files::get_file,
        bank_connections::put_connection,
        bank_connections::get_connection,
        disbursements::create::disburse,
        disbursements::read::list,
        disbursements::read::read,
        disbursements::exceptions::exceptions,
        disbursements::release::release,
    ),
    components(schemas(error::Problem, crate::tabular::UploadReport, crate::tabular::RowResult, crate::tabular::RowProblem)),
    modifiers(&BearerAuth, &Conventions),
    tags(
        (name = "organizations", description = "Owners, contractors, subcontractors, banks and regulators"),
        (name = "projects", description = "Projects and their dedicated wage account (农民工工资专用账户)"),
        (name = "roster", description = "The real-name roster (实名制花名册)"),
        (name = "attendance", description = "Daily attendance (考勤)"),
        (name = "payrolls", description = "Monthly payrolls (工资支付表): submission, matching, approval, exports, pay slips (工资清单)"),
        (name = "confirmations", description = "Workers confirm their payroll line (本人签字确认) with the token they were sent; no API key"),
        (name = "bank", description = "Files banks send: status reports and statements, kept, applied once or quarantined"),
        (name = "bank connections", description = "How wagebridge talks to each bank: dialect, transport, bank codes"),
        (name = "disbursements", description = "Disbursement batches (代发) from the dedicated account to the workers' cards"),
        (name = "admin", description = "Operating the service: the simulated business clock"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The security scheme's name in the document.
const API_KEY: &str = "api_key";

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";
const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The uploads that read a table (`tabular::read_rows`): JSON rows under a
/// list key, CSV or XLSX. Every other body is read with `body::json` and
/// is JSON only; anything else is answered 415.
const TABLE_UPLOADS: &[(&str, &str, &str)] = &[
    ("put", "/v1/projects/{code}/workers", "workers"),
    ("post", "/v1/projects/{code}/attendance", "records"),
    ("post", "/v1/projects/{code}/payrolls", "lines"),
];

/// Operations whose body is a raw file of any content type (a bank file).
const RAW_UPLOADS: &[(&str, &str)] = &[("post", "/v1/bank/files")];

/// The conventions every operation follows, applied to the generated document.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut ids = BTreeSet::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                name(operation, method, path, &mut ids);
                if let Some(body) = operation.request_body.as_mut() {
                    accepted_media_types(body, method, path);
                    let responses = &mut operation.responses;
                    add_problem(
                        responses,
                        "400",
                        "MALFORMED_JSON or MALFORMED_BODY: the body cannot be read",
                    );
                    add_problem(
                        responses,
                        "413",
                        "BODY_TOO_LARGE: the body exceeds the configured limit",
                    );
                    add_problem(
                        responses,
                        "415",
                        "UNSUPPORTED_MEDIA_TYPE: a body of another media type",
                    );
                }
                if TABLE_UPLOADS
                    .iter()
                    .any(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path.as_str())
                {
                    add_problem(
                        &mut operation.responses,
                        "429",
                        "TOO_MANY_UPLOADS: too many uploads run at once; retry after Retry-After",
                    );
                }
                if requires_api_key(operation) {
                    add_problem(
                        &mut operation.responses,
                        "401",
                        "UNAUTHORIZED: no API key, or one that is not known or was revoked",
                    );
                }
                if path.starts_with("/v1/") {
                    add_problem(
                        &mut operation.responses,
                        "503",
                        "DATABASE_UNAVAILABLE: the database cannot be reached; try again shortly",
                    );
                }
                problems_as_problem_json(&mut operation.responses);
            }
        }
    }
}

/// The operations of a path, with their lower-case method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// A unique operationId from method and path: `POST /v1/projects/{code}/payrolls`
/// is `post_projects_code_payrolls`. utoipa fills in the handler's function
/// name, which repeats across modules (`create`, `payslip`), so it is replaced.
fn name(operation: &mut Operation, method: &str, path: &str, ids: &mut BTreeSet<String>) {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != "v1") {
        let word: String = segment
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let word = word.trim_matches('_');
        if !word.is_empty() {
            id.push('_');
            id.push_str(word);
        }
    }
    let mut unique = id.clone();
    let mut n = 2;
    while !ids.insert(unique.clone()) {
        unique = format!("{id}_{n}");
        n += 1;
    }
    operation.operation_id = Some(unique);
}

/// Keeps only the media types the handler reads; a table upload gets its three.
fn accepted_media_types(body: &mut RequestBody, method: &str, path: &str) {
    let upload = TABLE_UPLOADS
        .iter()
        .find(|(m, p, _)| *m == method && *p == path);
    if RAW_UPLOADS.contains(&(method, path)) {
        return;
    }
    // A String body is documented as text/plain, which no handler reads.
    body.content.retain(|media, _| media == JSON);
    let Some((_, _, list_key)) = upload else {
        return;
    };
    body.content.entry(JSON.to_owned()).or_insert_with(|| {
        let rows = ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Object));
        Content::new(Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(*list_key, rows)
                .required(*list_key),
        ))
    });
    body.content.insert(
        CSV.to_owned(),
        Content::new(Some(ObjectBuilder::new().schema_type(Type::String))),
    );
    body.content.insert(
        XLSX.to_owned(),
        Content::new(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type(XLSX),
        )),
    );
}

fn requires_api_key(operation: &Operation) -> bool {
    let api_key = SecurityRequirement::new(API_KEY, Vec::<String>::new());
    operation
        .security
        .as_ref()
        .is_some_and(|all| all.contains(&api_key))
}

/// Adds a problem response for `status` unless the handler documents one.
fn add_problem(responses: &mut Responses, status: &str, description: &str) {
    responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            let mut response = Response::new(description);
            response
                .content
                .insert(PROBLEM_JSON.to_owned(), problem_content());
            RefOr::T(response)
        });
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

/// Every 4xx and 5xx response is a [`error::Problem`], served as
/// application/problem+json. A response documented without a body (the
/// readiness check's own 503) is left so.
fn problems_as_problem_json(responses: &mut Responses) {
    for (status, response) in responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && !response.content.is_empty() {
            response.content.clear();
            response
                .content
                .insert(PROBLEM_JSON.to_owned(), problem_content());
        }
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
