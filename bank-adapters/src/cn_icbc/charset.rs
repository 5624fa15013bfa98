//! Character sets of ICBC CMS messages: GBK on the wire, UTF-8 inside.
//!
//! ICBC packages declare `GBK` or `GB2312` (sometimes `GB18030`) and are sent
//! as GBK bytes. We honour the declaration, decode to UTF-8 before any XML
//! parsing, and never replace a byte or a character we cannot map: a wrong
//! name on a wage payment is worse than a refused file.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, EncoderResult, Encoding, GBK, UTF_8};

use crate::error::{Position, ReadError, WriteError};

/// The encoding named by the XML declaration at the start of `bytes`
/// (`<?xml version="1.0" encoding = "GBK"?>`), UTF-8 when there is no
/// declaration or no encoding pseudo-attribute (the XML default).
///
/// In encoding_rs (WHATWG labels) `GB2312`, `GBK`, `x-gbk` and `CP936` all
/// name the GBK decoder, which decodes the GB18030 superset; `GB18030` names
/// GB18030 itself. Encodings that are not ASCII-compatible (UTF-16, the
/// "replacement" encoding) cannot have been declared in ASCII and are refused.
pub fn declared_encoding(bytes: &[u8]) -> Result<&'static Encoding, ReadError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok(UTF_8);
    }
    let Some(label) = declared_label(bytes) else {
        return Ok(UTF_8);
    };
    match Encoding::for_label(label) {
        Some(encoding) if encoding.output_encoding() == encoding => Ok(encoding),
        _ => Err(ReadError::Malformed {
            position: Position {
                line: 1,
                column: 1,
                path: String::new(),
            },
            message: format!(
                "the XML declaration names the encoding {:?}, which we do not read",
                String::from_utf8_lossy(label)
            ),
        }),
    }
}

/// The raw `encoding` value of the XML declaration, if any.
fn declared_label(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = &rest[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let after = decl[at + 8..].trim_ascii_start();
    let after = after.strip_prefix(b"=")?.trim_ascii_start();
    let quote = *after.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &after[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Some(value[..close].trim_ascii())
}

/// Decode a whole message to UTF-8 in the encoding its declaration names.
///
/// A byte sequence that is not valid in that encoding is a
/// [`ReadError::Malformed`] with the line and column where it starts.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ReadError> {
    let encoding = declared_encoding(bytes)?;
    let body = if encoding == UTF_8 {
        bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
    } else {
        bytes
    };
    if encoding == UTF_8 {
        return match std::str::from_utf8(body) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(e) => {
                let good = &body[..e.valid_up_to()];
                // `valid_up_to` guarantees this prefix is valid UTF-8.
                let decoded = std::str::from_utf8(good).unwrap_or_default();
                Err(bad_bytes(decoded, encoding))
            }
        };
    }
    decode_with(encoding, body).map(Cow::Owned)
}

/// Decode a prefix of a message, for sniffing: a multi-byte character cut at
/// the end of the prefix is not an error.
pub fn decode_prefix(bytes: &[u8], max: usize) -> Result<String, ReadError> {
    let encoding = declared_encoding(bytes)?;
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let whole = body.len() <= max;
    let prefix = &body[..body.len().min(max)];
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(prefix.len() * 3 / 2 + 8);
    let mut src = prefix;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(src, &mut out, whole);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => return Ok(out),
            DecoderResult::OutputFull => out.reserve(src.len() * 3 + 16),
            DecoderResult::Malformed(..) => return Err(bad_bytes(&out, encoding)),
        }
    }
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, ReadError> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut out = String::with_capacity(capacity);
    let mut src = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(src, &mut out, true);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => return Ok(out),
            DecoderResult::OutputFull => out.reserve(src.len() * 3 + 16),
            DecoderResult::Malformed(..) => return Err(bad_bytes(&out, encoding)),
        }
    }
}

/// The error for bytes that are not valid in `encoding`, positioned after
/// the text decoded so far (columns count characters).
fn bad_bytes(decoded_so_far: &str, encoding: &'static Encoding) -> ReadError {
    ReadError::Malformed {
        position: end_position(decoded_so_far),
        message: format!("bytes that are not valid {}", encoding.name()),
    }
}

/// Line and column just after `text`.
pub fn end_position(text: &str) -> Position {
    let line = text.matches('\n').count() as u64 + 1;
    let last_line = text.rsplit('\n').next().unwrap_or("");
    Position {
        line,
        column: last_line.chars().count() as u64 + 1,
        path: String::new(),
    }
}

/// Encode `text` as GBK, refusing any character GBK has no code for
/// (encoding_rs would otherwise write an HTML numeric character reference).
/// `field` names the offending value in the error.
pub fn encode_gbk(text: &str, field: &str) -> Result<Vec<u8>, WriteError> {
    let mut encoder = GBK.new_encoder();
    let capacity = encoder
        .max_buffer_length_from_utf8_without_replacement(text.len())
        .unwrap_or(text.len().saturating_mul(4));
    let mut out = Vec::with_capacity(capacity);
    let mut src = text;
    loop {
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(src, &mut out, true);
        src = &src[read..];
        match result {
            EncoderResult::InputEmpty => return Ok(out),
            EncoderResult::OutputFull => out.reserve(src.len() * 4 + 16),
            EncoderResult::Unmappable(character) => {
                return Err(WriteError::BadCharacter {
                    field: field.to_owned(),
                    character,
                })
            }
        }
    }
}

/// Length of `text` in GBK bytes: ICBC's field limits count bytes, so one
/// Chinese character uses two of them.
pub fn gbk_len(text: &str, field: &str) -> Result<usize, WriteError> {
    if text.is_ascii() {
        return Ok(text.len());
    }
    encode_gbk(text, field).map(|bytes| bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_labels_map_to_whatwg_encodings() {
        let gbk = declared_encoding(b"<?xml version=\"1.0\" encoding = \"GBK\"?><CMS/>").unwrap();
        assert_eq!(gbk, GBK);
        let gb2312 = declared_encoding(b"<?xml version='1.0' encoding='GB2312'?>").unwrap();
        assert_eq!(gb2312, GBK);
        let gb18030 = declared_encoding(b"<?xml version=\"1.0\" encoding=\"GB18030\" ?>").unwrap();
        assert_eq!(gb18030, encoding_rs::GB18030);
        assert_eq!(declared_encoding(b"<CMS/>").unwrap(), UTF_8);
        assert!(declared_encoding(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>").is_err());
        assert!(declared_encoding(b"<?xml version=\"1.0\" encoding=\"klingon\"?>").is_err());
    }

    #[test]
    fn invalid_gbk_bytes_are_reported_with_their_position() {
        let bytes =
            b"<?xml version=\"1.0\" encoding=\"GBK\"?>\n<CMS>\n<a>\xB9\xA4\x81\x20</a></CMS>";
        match decode(bytes) {
            Err(ReadError::Malformed { position, .. }) => {
                assert_eq!(position.line, 3);
                assert_eq!(position.column, 5);
            }
            other => panic!("expected a malformed error, got {other:?}"),
        }
    }

    #[test]
    fn characters_outside_gbk_are_refused_not_replaced() {
        assert_eq!(
            encode_gbk("工资", "x").unwrap(),
            vec![0xB9, 0xA4, 0xD7, 0xCA]
        );
        let err = encode_gbk("工资😀", "RecAccNameCN").unwrap_err();
        assert_eq!(
            err,
            WriteError::BadCharacter {
                field: "RecAccNameCN".into(),
                character: '😀'
            }
        );
        assert_eq!(gbk_len("工资ab", "x").unwrap(), 6);
    }
}
