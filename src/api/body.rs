//! Reading request bodies ourselves, so every fault becomes a precise problem:
//! the JSON path of a bad field, the accepted content types, the size limit.

use actix_web::{http::header, HttpRequest};
use serde::de::DeserializeOwned;

use super::error::{json_body_error, ApiError};

/// The body's media type, lower-case, without parameters (`text/csv`).
pub fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The `charset` parameter of the content type, if any.
pub fn charset(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("charset"))
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })
}

pub fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// Parses a JSON body into `T`, naming the exact path of a bad field.
pub fn json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    let media = media_type(req);
    if !is_json(&media) {
        return Err(unsupported(&media, &["application/json"]));
    }
    parse_json(body)
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let mut err = json_body_error(e.inner());
        let named = err.field.take();
        err.field = match (path.as_str(), named) {
            ("." | "", named) => named,
            (path, Some(f)) if !path.ends_with(f.as_str()) => Some(format!("{path}.{f}")),
            (path, _) => Some(path.to_owned()),
        };
        err
    })?;
    de.end().map_err(|e| json_body_error(&e))?;
    Ok(value)
}

pub fn unsupported(media: &str, accepted: &[&str]) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        format!(
            "content type {:?} is not accepted here; send {}",
            if media.is_empty() { "(none)" } else { media },
            accepted.join(" or ")
        ),
    )
}

/// The raw request body, read within the configured size limit; faults
/// become problems (413 `BODY_TOO_LARGE`, 400 `MALFORMED_BODY`).
pub struct Body(pub actix_web::web::Bytes);

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl actix_web::FromRequest for Body {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Body, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let read = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            read.await.map(Body).map_err(|e| {
                let status = e.as_response_error().status_code();
                if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        status,
                        "BODY_TOO_LARGE",
                        "the body is larger than the service accepts",
                    )
                } else {
                    ApiError::bad_request("MALFORMED_BODY", e.to_string())
                }
            })
        })
    }
}
