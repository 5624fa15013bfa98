//! Logging with `tracing`: `RUST_LOG` filters, text for terminals or JSON
//! for collectors, and one span per request carrying its id and the caller.
//!
//! Personal data never reaches a log line. The domain types' `Debug` masks ID
//! and card numbers, request bodies are not logged, the request span's target
//! is masked, and, as the last line of defence, every formatted line passes
//! through [`MaskingWriter`]: numbers shaped like an ID, card or phone number
//! are masked and the line is bounded, whoever logged it and with what.

use std::io::{self, Write};

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::Error;
use serde_json::Value;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::domain::{excerpt, mask_numbers, truncate_chars};

/// The most characters of a text log line (its newline aside).
pub const LOG_LINE_MAX_CHARS: usize = 4096;
/// The most characters of one value in a JSON log line.
pub const LOG_VALUE_MAX_CHARS: usize = 1024;
/// The most characters of a request's target (path and query) in its span.
pub const TARGET_MAX_CHARS: usize = 300;

/// Installs the global subscriber; later calls (as in tests) are ignored.
pub fn init(format: LogFormat) {
    let _ = subscriber(format, std::io::stderr).try_init();
}

/// The service's subscriber writing to `writer`: what `init` installs, and
/// what a test installs to read the lines the service writes.
pub fn subscriber<W>(format: LogFormat, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(MaskingWriter {
            inner: writer,
            format,
        });
    match format {
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
        LogFormat::Text => Box::new(builder.finish()),
    }
}

/// Wraps a log writer: masks personal numbers in every line and bounds it.
/// The formatter hands over each event as one complete line in one write.
#[derive(Debug, Clone)]
pub struct MaskingWriter<W> {
    inner: W,
    format: LogFormat,
}

impl<'w, W: MakeWriter<'w>> MakeWriter<'w> for MaskingWriter<W> {
    type Writer = MaskingLine<W::Writer>;

    fn make_writer(&'w self) -> Self::Writer {
        MaskingLine {
            inner: self.inner.make_writer(),
            format: self.format,
        }
    }
}

/// One line's writer of a [`MaskingWriter`].
pub struct MaskingLine<W> {
    inner: W,
    format: LogFormat,
}

impl<W: Write> Write for MaskingLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        let safe = match self.format {
            LogFormat::Json => safe_json_line(&line),
            LogFormat::Text => None,
        }
        .unwrap_or_else(|| safe_text_line(&line));
        self.inner.write_all(safe.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A text line masked and cut to [`LOG_LINE_MAX_CHARS`], its newline kept.
fn safe_text_line(line: &str) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (line, ""),
    };
    format!("{}{newline}", excerpt(body, LOG_LINE_MAX_CHARS))
}

/// A JSON line with every string masked and bounded, and every number long
/// enough to be personal data turned into a masked string, so it stays JSON.
fn safe_json_line(line: &str) -> Option<String> {
    let mut value: Value = serde_json::from_str(line.trim_end()).ok()?;
    mask_json(&mut value);
    Some(format!("{value}\n"))
}

fn mask_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(safe) = excerpt(s, LOG_VALUE_MAX_CHARS) {
                *s = safe;
            }
        }
        Value::Number(n) => {
            let text = n.to_string();
            if let std::borrow::Cow::Owned(masked) = mask_numbers(&text) {
                *value = Value::String(masked);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::Object(map) => map.values_mut().for_each(mask_json),
        Value::Bool(_) | Value::Null => {}
    }
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
        let target = truncate_chars(&target, TARGET_MAX_CHARS);
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
/// anything after `confirmations/` or `payslips/`, and every number shaped
/// like an ID, card or phone number ([`mask_numbers`]).
pub fn redact_path(path: &str) -> String {
    let mut after_secret_marker = false;
    path.split('/')
        .map(|segment| {
            let secret = after_secret_marker;
            after_secret_marker = matches!(segment, "confirmations" | "payslips");
            if secret && !segment.is_empty() {
                crate::domain::mask_middle(segment, 4, 4)
            } else {
                mask_numbers(segment).into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The query with tokens and ID numbers masked whatever their shape, and
/// every personal-looking number masked, in keys as in values.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if key.contains("token") || key.contains("id_number") => {
                let key = mask_numbers(key);
                format!("{key}={}", crate::domain::mask_middle(value, 4, 4))
            }
            _ => mask_numbers(pair).into_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
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

    #[test]
    fn short_cards_and_numbers_in_query_keys_are_masked() {
        assert_eq!(
            redact_path("/v1/projects/6228480000015/workers"),
            "/v1/projects/6228*****0015/workers"
        );
        assert_eq!(
            redact_query("420111198503120012=1&period=2026-10"),
            "4201**********0012=1&period=2026-10"
        );
    }

    #[test]
    fn log_lines_are_masked_bounded_and_json_stays_json() {
        let text = safe_text_line(&format!(
            "WARN id=420111198503120012 {}\n",
            "h".repeat(1 << 20)
        ));
        assert!(text.ends_with('\n') && !text.contains("420111198503120012"));
        assert!(text.chars().count() <= LOG_LINE_MAX_CHARS + 1);

        let line = format!(
            "{{\"message\":\"bad 6222023202001234565\",\"n\":420111198503120012,\"h\":\"{}\"}}\n",
            "h".repeat(1 << 20)
        );
        let json = safe_json_line(&line).unwrap();
        assert!(json.len() < 4 * LOG_VALUE_MAX_CHARS);
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["message"], "bad 6222***********4565");
        assert_eq!(value["n"], "4201**********0012");
    }
}
