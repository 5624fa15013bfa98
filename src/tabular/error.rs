//! Why an upload as a whole cannot be read, and short masked excerpts of
//! input for the messages that say so.
//!
//! A [`TableError`] knows its HTTP status as a number only, so this module
//! stays free of the web framework; the API turns it into a problem+json.

use std::fmt;

/// A limit an upload went over (named in the refusal, see [`super::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rows,
    Columns,
    Cells,
    LineBytes,
    CellChars,
    ZipEntries,
    UnpackedBytes,
    EntryBytes,
    CompressionRatio,
    SharedStrings,
    SharedStringBytes,
    XmlToken,
    XmlAttributes,
}

impl Limit {
    /// The name of the setting in [`super::Limits`].
    pub fn name(self) -> &'static str {
        match self {
            Limit::Rows => "max_rows",
            Limit::Columns => "max_columns",
            Limit::Cells => "max_cells",
            Limit::LineBytes => "max_line_bytes",
            Limit::CellChars => "max_cell_chars",
            Limit::ZipEntries => "max_zip_entries",
            Limit::UnpackedBytes => "max_unpacked_bytes",
            Limit::EntryBytes => "max_entry_bytes",
            Limit::CompressionRatio => "max_compression_ratio",
            Limit::SharedStrings => "max_shared_strings",
            Limit::SharedStringBytes => "max_shared_string_bytes",
            Limit::XmlToken => "max_xml_token_bytes",
            Limit::XmlAttributes => "max_xml_attributes",
        }
    }

    /// Size limits answer 413 (the upload unpacks to too much); count limits
    /// answer 422 (the content is readable but more than one upload may hold).
    pub fn status(self) -> u16 {
        match self {
            Limit::LineBytes
            | Limit::UnpackedBytes
            | Limit::EntryBytes
            | Limit::CompressionRatio
            | Limit::SharedStringBytes
            | Limit::XmlToken => 413,
            Limit::Rows
            | Limit::Columns
            | Limit::Cells
            | Limit::CellChars
            | Limit::ZipEntries
            | Limit::SharedStrings
            | Limit::XmlAttributes => 422,
        }
    }
}

/// An upload that cannot be read as a whole. `code` is as stable as the API's
/// codes; `detail` is English and never holds more than a short masked
/// excerpt of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// The HTTP status the API answers with: 400 unreadable, 413 too large,
    /// 415 unsupported content type, 422 over a count limit or a bad JSON field.
    pub status: u16,
    pub code: &'static str,
    /// The column or JSON field concerned, if one is.
    pub field: Option<String>,
    pub detail: String,
    /// The limit that was exceeded, if this is such a refusal.
    pub limit: Option<Limit>,
}

impl TableError {
    /// The file cannot be read (400).
    pub fn malformed(code: &'static str, detail: impl Into<String>) -> Self {
        TableError {
            status: 400,
            code,
            field: None,
            detail: detail.into(),
            limit: None,
        }
    }

    /// A field of a JSON body is wrong (422, as the API's field errors).
    pub fn invalid_field(
        field: impl Into<String>,
        code: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        TableError {
            status: 422,
            code,
            field: Some(field.into()),
            detail: detail.into(),
            limit: None,
        }
    }

    /// The content type is not one an upload may have (415).
    pub fn unsupported(media: &str, accepted: &[&str]) -> Self {
        TableError {
            status: 415,
            code: "UNSUPPORTED_MEDIA_TYPE",
            field: None,
            detail: format!(
                "content type {:?} is not accepted here; send {}",
                if media.is_empty() {
                    "(none)".to_owned()
                } else {
                    excerpt(media)
                },
                accepted.join(" or ")
            ),
            limit: None,
        }
    }

    /// The upload goes over `limit`, whose value is `max`.
    pub fn over_limit(code: &'static str, limit: Limit, max: u64, what: impl fmt::Display) -> Self {
        TableError {
            status: limit.status(),
            code,
            field: None,
            detail: format!("{what}; the limit ({}) is {max}", limit.name()),
            limit: Some(limit),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for TableError {}

/// How many characters of input a message may repeat.
const EXCERPT_CHARS: usize = 24;

/// A short excerpt of input for a message: numbers shaped like an ID, card or
/// phone number masked, then cut to a few characters.
pub fn excerpt(input: &str) -> String {
    // Only a bounded prefix is looked at, so a 1 MiB header costs nothing.
    let head: String = input.chars().take(EXCERPT_CHARS * 4).collect();
    let masked = mask_numbers(&head);
    let mut out: String = masked.chars().take(EXCERPT_CHARS).collect();
    if input.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Masks every run of 11 or more digits (with an optional trailing X, as a
/// resident ID ends): phone numbers, 13–19 digit cards, 18-character IDs.
pub fn mask_numbers(text: &str) -> String {
    crate::domain::mask_numbers(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cards_and_phones_are_masked_in_excerpts() {
        assert_eq!(mask_numbers("420111198503120012"), "4201**********0012");
        assert_eq!(mask_numbers("11010519491231002X,8"), "1101**********002X,8");
        assert_eq!(mask_numbers("6228480000000015"), "6228********0015");
        assert_eq!(mask_numbers("卡1234567890123"), "卡1234*****0123");
        assert_eq!(mask_numbers("13999999999"), "139****9999");
        assert_eq!(mask_numbers("2026-10-01 8"), "2026-10-01 8");
    }

    #[test]
    fn excerpts_are_short_and_never_hold_a_whole_number() {
        let long = format!("{}{}", "420111198503120012,", "x".repeat(1 << 20));
        let e = excerpt(&long);
        assert!(e.chars().count() <= EXCERPT_CHARS + 1);
        assert!(!e.contains("420111198503120012"));
        assert!(e.starts_with("4201**********0012"));
        assert_eq!(excerpt("姓名"), "姓名");
    }

    #[test]
    fn size_limits_are_413_and_count_limits_422() {
        let e = TableError::over_limit("UPLOAD_TOO_MANY_ROWS", Limit::Rows, 10, "11 rows");
        assert_eq!((e.status, e.limit), (422, Some(Limit::Rows)));
        assert!(e.detail.contains("max_rows"));
        assert_eq!(Limit::UnpackedBytes.status(), 413);
    }
}
