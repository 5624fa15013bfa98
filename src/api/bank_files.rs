//! `POST /v1/bank/files` (a bank uploads a file it sends us, raw),
//! `GET /v1/bank/files` and `GET /v1/bank/files/{id}` (an admin sees every
//! file, a bank its own).

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::OrgKind;
use crate::api::auth::Caller;
use crate::api::body;
use crate::api::error::{ApiError, Problem};
use crate::api::payrolls::query;
use crate::api::AppState;
use crate::banking::inbound::list::{
    file_detail, list_files, masked_findings, FileDetail, FileList, FileStatus, Viewer,
};
use crate::banking::inbound::{take_in, Arrival, Channel, Intake};
use crate::db;
use crate::paging::PageQuery;

/// The largest file a bank may upload, unless configured otherwise: larger
/// than the JSON body limit, since a month's statement of a busy account is
/// big. It applies to this route only.
pub const DEFAULT_MAX_BANK_FILE_BYTES: usize = 256 * 1024 * 1024;

/// Registers the routes, with the upload's own body limit.
pub fn routes(max_file_bytes: usize) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::resource("/v1/bank/files")
                .app_data(web::PayloadConfig::new(max_file_bytes))
                .route(web::post().to(upload))
                .route(web::get().to(list)),
        )
        .service(get_file);
    }
}

/// A bank file's bytes, as the bank wrote them.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct RawFile(#[allow(dead_code)] Vec<u8>);

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, as the bank calls it (kept with the receipt).
    pub name: Option<String>,
}

/// A bank sends us a file: a status report (pain.002, ICBC PAYPER/QPAYPER
/// answer) or statements (camt.052/053/054, ICBC QHISD), raw, any content type.
///
/// The bytes are kept first; the same bytes again are recognised (200,
/// `duplicate: true`) and not applied again. A file that cannot be read or
/// names nothing we know is quarantined with its reason (still 201).
#[utoipa::path(
    post,
    path = "/v1/bank/files",
    tag = "bank",
    params(UploadQuery),
    request_body(content = RawFile, content_type = "application/octet-stream", description = "the file, raw (any content type)"),
    responses(
        (status = 201, body = Intake),
        (status = 200, description = "the same bytes came before", body = Intake),
        (status = 403, body = Problem),
        (status = 413, description = "BODY_TOO_LARGE", body = Problem),
    ),
    security(("api_key" = []))
)]
pub async fn upload(
    req: HttpRequest,
    bytes: body::Body,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if caller.kind() != OrgKind::Bank {
        return Err(ApiError::forbidden(
            "只有银行可以上传银行文件 (only a bank uploads bank files)",
        ));
    }
    let name = query::<UploadQuery>(&req)?
        .name
        .map(|n| n.chars().take(255).collect::<String>());
    let arrival = Arrival {
        connection_id: None,
        bank_id: Some(caller.id()),
        channel: Channel::Upload,
        name,
        bytes: bytes.0.to_vec(),
    };
    let clock = state.clock.clone();
    let data_dir = state.data_dir.clone();
    let mut intake = db::run(&state.pool, move |conn| {
        take_in(conn, &clock, &data_dir, arrival)
    })
    .await?;
    intake.findings = masked_findings(std::mem::take(&mut intake.findings));
    intake.reason = intake
        .reason
        .map(|r| crate::domain::mask_numbers(&r).into_owned());
    Ok(if intake.duplicate {
        HttpResponse::Ok().json(intake)
    } else {
        HttpResponse::Created().json(intake)
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// received, applied or quarantined.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn viewer(caller: &Caller) -> Result<Viewer, ApiError> {
    match caller.kind() {
        OrgKind::Admin => Ok(Viewer::Admin),
        OrgKind::Bank => Ok(Viewer::Bank(caller.id())),
        _ => Err(ApiError::forbidden(
            "只有管理员和银行可以查看银行文件 (only an admin or a bank reads bank files)",
        )),
    }
}

/// The files banks sent, newest first (`?status=quarantined` for the quarantine).
#[utoipa::path(
    get,
    path = "/v1/bank/files",
    tag = "bank",
    params(ListQuery),
    responses(
        (status = 200, body = FileList),
        (status = 400, description = "INVALID_QUERY", body = Problem),
        (status = 403, body = Problem),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&caller)?;
    let q = query::<ListQuery>(&req)?;
    let status = q.status.as_deref().map(FileStatus::parse).transpose()?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let files = db::run(&state.pool, move |conn| {
        list_files(conn, viewer, status, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(files))
}

/// One file with what applying it found.
#[utoipa::path(
    tag = "bank",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = FileDetail),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/bank/files/{id}")]
pub async fn get_file(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&caller)?;
    let raw = path.into_inner();
    // Any id that is not ours is "not found", whatever it looks like.
    let id = raw
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("bank file {raw:?}")))?;
    let detail = db::run(&state.pool, move |conn| file_detail(conn, viewer, id)).await?;
    Ok(HttpResponse::Ok().json(detail))
}
