//! Logging with `tracing`: `RUST_LOG` filters, text for terminals or JSON
//! for collectors, and one span per request carrying its id and the caller.
//! Personal data never reaches a log line: the domain types' `Debug` masks
//! ID and card numbers, and request bodies are not logged.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::Error;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; later calls (as in tests) are ignored.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The per-request span: tracing-actix-web's fields plus `org_id` and `auth_method`
/// (`key` or `certificate`), filled in once the caller is identified.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        use actix_web::HttpMessage;
        // Built by hand rather than with `root_span!`, whose `http.target` is the raw
        // path: ours may carry a worker's ID number or a confirmation token.
        let target = match request.query_string() {
            "" => redact_path(request.path()),
            query => format!("{}?{}", redact_path(request.path()), redact_query(query)),
        };
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = request.match_pattern().unwrap_or_default(),
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
            request_id = %request_id,
            org_id = tracing::field::Empty,
            auth_method = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Path segments that are secrets or personal data, masked for logs:
/// anything after `confirmations/` or `payslips/`, and anything shaped like
/// an ID or card number (long runs of digits).
pub fn redact_path(path: &str) -> String {
    let mut after_secret_marker = false;
    path.split('/')
        .map(|segment| {
            let secret = after_secret_marker || looks_personal(segment);
            after_secret_marker = matches!(segment, "confirmations" | "payslips");
            if secret && !segment.is_empty() {
                crate::domain::mask_middle(segment, 4, 4)
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value))
                if looks_personal(value) || key.contains("token") || key.contains("id_number") =>
            {
                format!("{key}={}", crate::domain::mask_middle(value, 4, 4))
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// 15 or more characters of which at least 14 are digits: an ID number or a bank card.
fn looks_personal(segment: &str) -> bool {
    segment.len() >= 15 && segment.chars().filter(char::is_ascii_digit).count() >= 14
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_tokens_and_cards_in_paths_are_masked() {
        assert_eq!(
            redact_path("/v1/projects/WH-1/payrolls/2026-04/payslips/42011119850312001X"),
            "/v1/projects/WH-1/payrolls/2026-04/payslips/4201**********001X"
        );
        let masked = redact_path("/v1/confirmations/q2Xk9LmPz81hTT0aB3cd");
        assert!(
            masked.starts_with("/v1/confirmations/q2Xk")
                && masked.ends_with("B3cd")
                && masked.contains("****")
        );
        assert_eq!(
            redact_path("/v1/projects/WH-2026-001/workers"),
            "/v1/projects/WH-2026-001/workers"
        );
        assert_eq!(
            redact_query("format=csv&card=6222023202001234565"),
            "format=csv&card=6222***********4565"
        );
    }
}
