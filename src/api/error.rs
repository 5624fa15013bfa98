//! One error type for the whole API, written as RFC 9457 problem details
//! (`application/problem+json`) with a stable `code` clients can branch on.
//!
//! Whatever an error says leaves the service masked and bounded: `detail` and
//! `field` pass through [`crate::domain::excerpt`] when the problem is rendered
//! and when the error is logged (its `Display` and `Debug`), so a message built
//! from input can never echo a whole ID or card number, nor a megabyte header.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;
use crate::domain::excerpt;
use crate::error::{AppError, ErrorCode};

/// The most characters of `detail` an answer or a log line carries.
pub const DETAIL_MAX_CHARS: usize = 200;
/// The most characters of `field`: a JSON path or a column as the client named it.
pub const FIELD_MAX_CHARS: usize = 100;

/// An error answered to a client.
#[derive(Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: `INVALID_FIELD`, `NOT_FOUND`, ...
    pub code: ErrorCode,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// The request field at fault, when there is one (`contract_amount`, `workers[3].id_number`).
    pub field: Option<String>,
}

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable error code.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<ErrorCode>, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A request field holds a value we cannot accept.
    pub fn invalid_field(
        field: impl Into<String>,
        code: impl Into<ErrorCode>,
        detail: impl Into<String>,
    ) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_field(field)
    }

    pub fn bad_request(code: impl Into<ErrorCode>, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// Also used when the caller may not learn that the thing exists.
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{} was not found", what.into()),
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, detail)
    }

    pub fn conflict(code: impl Into<ErrorCode>, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, detail)
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "something went wrong on our side; it has been logged",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!(
                "urn:wagebridge:problem:{}",
                self.code.as_str().to_ascii_lowercase()
            ),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.shown_detail(),
            code: self.code.as_str().to_owned(),
            field: self.shown_field(),
        }
    }

    /// `detail` as it may leave the service: numbers masked, length bounded.
    fn shown_detail(&self) -> String {
        excerpt(&self.detail, DETAIL_MAX_CHARS).into_owned()
    }

    fn shown_field(&self) -> Option<String> {
        self.field
            .as_deref()
            .map(|f| excerpt(f, FIELD_MAX_CHARS).into_owned())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (status, code, detail) = (self.status.as_u16(), self.code, self.shown_detail());
        match self.shown_field() {
            Some(field) => write!(f, "{status} {code} ({field}): {detail}"),
            None => write!(f, "{status} {code}: {detail}"),
        }
    }
}

/// Written by hand: tracing-actix-web logs every failed request's error with
/// `{:?}`, which must mask exactly as the answer does.
impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status.as_u16())
            .field("code", &self.code)
            .field("detail", &self.shown_detail())
            .field("field", &self.shown_field())
            .finish()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, "application/problem+json"))
            .json(self.problem())
    }
}

impl From<crate::tabular::FieldError> for ApiError {
    fn from(e: crate::tabular::FieldError) -> Self {
        AppError::from(e).into()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Problem(p) => ApiError {
                status: StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code: p.code,
                detail: p.detail,
                field: p.field,
            },
            AppError::Unavailable(cause) => {
                tracing::error!(error = %excerpt(&cause, DETAIL_MAX_CHARS), "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::DatabaseUnavailable,
                    "the database cannot be reached; try again shortly",
                )
            }
            AppError::Db(e) => {
                // A failed statement's message can quote a value (a unique-key violation names it).
                tracing::error!(error = %excerpt(&e.to_string(), DETAIL_MAX_CHARS), "database error");
                ApiError::internal()
            }
            AppError::Invariant(what) => {
                tracing::error!(invariant = what, "broken invariant");
                ApiError::internal()
            }
        }
    }
}

/// The HTTP-side helpers (upload readers, extractors) answer ApiError; a use
/// case that calls them keeps their refusal as it is.
impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        AppError::Problem(crate::error::Problem {
            code: e.code,
            status: e.status.as_u16(),
            detail: e.detail,
            field: e.field,
        })
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        AppError::from(e).into()
    }
}

/// Turns actix's own extractor errors (bad JSON, wrong content type, too large)
/// into problems rather than plain-text 400s.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { length, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("the body is {length} bytes; at most {limit} are accepted"),
        ),
        E::Overflow { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("the body is larger than the {limit} bytes accepted"),
        ),
        E::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ),
        E::Deserialize(e) => json_body_error(e),
        other => ApiError::bad_request(ErrorCode::MalformedBody, other.to_string()),
    };
    api.into()
}

/// Describes a serde_json error as a client-facing problem, naming the field when serde knows it.
pub fn json_body_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        ),
        Category::Data => {
            let message = e.to_string();
            let field = message
                .split('`')
                .nth(1)
                .filter(|_| message.contains("field"))
                .map(str::to_owned);
            let code = if message.starts_with("unknown field") {
                ErrorCode::UnknownField
            } else if message.starts_with("missing field") {
                ErrorCode::MissingField
            } else {
                ErrorCode::InvalidField
            };
            let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
            err.field = field;
            err
        }
    }
}
