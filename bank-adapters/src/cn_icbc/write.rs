//! Building a CMS package: `<CMS><eb><pub>…</pub><in>…</in></eb></CMS>`,
//! compact, in the samples' element order, GBK-encoded at the end.
//!
//! Every value is checked where it is written, so an error names the field:
//! characters GBK cannot encode and control characters XML cannot carry are
//! refused, and ICBC's byte-length limits are enforced, never truncated.

use super::charset;
use crate::error::WriteError;

/// One package being written.
pub struct CmsWriter {
    xml: String,
    /// Field path prefix for errors, e.g. `rd[3]/`.
    context: String,
}

impl CmsWriter {
    /// Starts `<?xml …encoding="GBK"?><CMS><eb>`.
    pub fn new() -> Self {
        let mut xml = String::with_capacity(4096);
        xml.push_str("<?xml version=\"1.0\" encoding=\"GBK\"?><CMS><eb>");
        CmsWriter {
            xml,
            context: String::new(),
        }
    }

    /// Sets the prefix used in error field names (`rd[2]/`), or clears it.
    pub fn set_context(&mut self, context: String) {
        self.context = context;
    }

    pub fn open(&mut self, tag: &str) {
        self.xml.push('<');
        self.xml.push_str(tag);
        self.xml.push('>');
    }

    pub fn close(&mut self, tag: &str) {
        self.xml.push_str("</");
        self.xml.push_str(tag);
        self.xml.push('>');
    }

    /// `<tag>value</tag>`, value checked for GBK and XML and escaped.
    /// Leading and trailing spaces are not significant to readers (they trim).
    pub fn field(&mut self, tag: &str, value: &str) -> Result<(), WriteError> {
        self.check_characters(tag, value)?;
        self.push(tag, value);
        Ok(())
    }

    /// `<tag></tag>`: the samples send every optional element, empty.
    pub fn empty(&mut self, tag: &str) {
        self.push(tag, "");
    }

    /// A field ICBC limits to `max_bytes` GBK bytes (UseCN, Summary: 20;
    /// PostScript: 60). Longer values are refused, never cut.
    pub fn limited(&mut self, tag: &str, value: &str, max_bytes: usize) -> Result<(), WriteError> {
        self.check_characters(tag, value)?;
        let name = self.name(tag);
        let length = charset::gbk_len(value, &name)?;
        if length > max_bytes {
            return Err(WriteError::TooLong {
                field: format!("{name} (GBK bytes)"),
                length,
                max: max_bytes,
            });
        }
        self.push(tag, value);
        Ok(())
    }

    /// A value that must be present: an empty one is refused.
    pub fn required(&mut self, tag: &str, value: &str) -> Result<(), WriteError> {
        if value.trim().is_empty() {
            return Err(WriteError::Invalid {
                field: self.name(tag),
                message: "must not be empty".to_owned(),
            });
        }
        self.field(tag, value)
    }

    /// Closes `</eb></CMS>` and encodes as GBK.
    pub fn finish(mut self) -> Result<Vec<u8>, WriteError> {
        self.xml.push_str("</eb></CMS>");
        charset::encode_gbk(&self.xml, "message")
    }

    fn name(&self, tag: &str) -> String {
        format!("{}{}", self.context, tag)
    }

    fn check_characters(&self, tag: &str, value: &str) -> Result<(), WriteError> {
        // A bank field is one line of text: no control characters (XML 1.0
        // cannot carry most of them, and readers trim or normalise the rest).
        if let Some(character) = value.chars().find(|c| c.is_control()) {
            return Err(WriteError::BadCharacter {
                field: self.name(tag),
                character,
            });
        }
        charset::encode_gbk(value, &self.name(tag)).map(|_| ())
    }

    fn push(&mut self, tag: &str, value: &str) {
        self.open(tag);
        escape_into(&mut self.xml, value);
        self.close(tag);
    }
}

/// XML text escaping (control characters were refused before).
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
}
