//! Safe streaming XML reading shared by every dialect reader.
//!
//! Bank files come from outside, so this reader refuses anything that could
//! make us expand, fetch or hold more than the file itself: a DOCTYPE (and
//! with it every entity declaration, billion laughs and XXE) is refused
//! outright; of the entity references only the five predefined ones and
//! numeric character references are resolved, any other is refused; and
//! element depth, the size of one text node or tag, and optionally the whole
//! file are limited. Memory stays bounded by those limits however large the
//! file is: quick-xml only ever holds one event (a text node split by
//! references is joined under the same bound), and the byte guard below
//! stops it from buffering an endless text node.
//!
//! Every error carries the line, column (in bytes, 1-based) and element path
//! where it happened. Element names are compared by local name: namespace
//! prefixes are stripped, so `ns2:Document` and `Document` read alike.
//!
//! The input must be UTF-8 (a UTF-8 byte order mark is skipped). Dialects in
//! other encodings (GBK) decode to UTF-8 first and hand the UTF-8 bytes here;
//! the encoding named in the XML declaration is therefore not checked.
//!
//! This module must not know any dialect: it only turns bytes into a small
//! pull API (`next`, `name`, `path`, `read_text`, `attribute`, `skip`).
//!
//! Longer than our usual ~600 lines on purpose: every guard (entities, depth,
//! text and file size, joined text around references) lives in this one reader
//! that all dialects and fuzz targets share; about a sixth is its tests. The
//! byte-level size guard is the part to move into its own module next.

use std::io::{self, BufRead, Read};

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use crate::error::{Position, ReadError};

/// Limits that keep a hostile or broken file from exhausting memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting accepted (the root is depth 1).
    pub max_depth: usize,
    /// Longest text of one node, and (plus 64 KiB) longest raw tag, comment or
    /// text event, in bytes.
    pub max_text_len: usize,
    /// Largest file accepted, in bytes; `None` for no limit (streaming readers
    /// of statements with millions of entries).
    pub max_file_size: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_text_len: 1 << 20,
            max_file_size: None,
        }
    }
}

/// What [`XmlReader::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// An element opened; [`XmlReader::name`] is its local name and
    /// [`XmlReader::path`] ends with it. `<a/>` gives `Start` then `End`.
    Start,
    /// An element closed; [`XmlReader::name`] and [`XmlReader::path`] still
    /// name the element that just closed.
    End,
    /// Text (or CDATA) that is not only whitespace, in [`XmlReader::text`].
    Text,
    /// The document ended after the root element closed.
    Eof,
}

/// A pull reader over UTF-8 XML with limits and positions. See the module docs.
///
/// Built for speed on statements of millions of entries: no allocation per
/// event (buffers are reused and swapped, never rebuilt), and whitespace
/// between elements is recognised on its raw bytes without decoding. The
/// parser reports each entity or character reference apart from the text
/// around it; a text node with references is joined back into one here.
pub struct XmlReader<R: BufRead> {
    reader: Reader<Guard<R>>,
    /// The bytes of the event being handled (quick-xml reads into it).
    buf: Vec<u8>,
    limits: Limits,
    /// `/Document/BkToCstmrStmt/...`, local names only.
    path: String,
    /// Length of `path` before each open element was pushed.
    path_lens: Vec<usize>,
    /// The element reported by the last `End` is popped on the next call.
    pop_pending: bool,
    /// Text of the last text node, entities resolved, unless `blank` is set.
    text: String,
    /// The last text node was whitespace only and is `buf[at..at + len]`
    /// (not copied into `text`).
    blank: Option<(usize, usize)>,
    /// `read_text_str` joins the pieces of an element's text here.
    joined: String,
    /// Name and attributes of the last start tag, to answer `attribute`:
    /// `start_raw[..start_len]`. Swapped with `buf`, never copied.
    start_raw: Vec<u8>,
    start_len: usize,
    start_name_len: usize,
    /// Prefix of the root element's name, until its namespace is looked up.
    root_prefix: Option<Vec<u8>>,
    root_namespace: Option<String>,
    root_seen: bool,
    root_closed: bool,
    /// Byte offset where the event being handled started.
    event_start: u64,
    /// `trim_leading_whitespace` is on (quick-xml skips whitespace after a
    /// tag), and whether it is paused after a comment, CDATA or PI.
    trim: bool,
    trim_paused: bool,
}

impl<R: BufRead> XmlReader<R> {
    /// A reader with the default [`Limits`].
    pub fn new(input: R) -> Self {
        Self::with_limits(input, Limits::default())
    }

    pub fn with_limits(input: R, limits: Limits) -> Self {
        let mut guard = Guard {
            inner: input,
            consumed: 0,
            mark: 0,
            max_event: (limits.max_text_len as u64).saturating_add(64 * 1024),
            max_total: limits.max_file_size,
            stop_at: 0,
            newlines: Vec::new(),
            head: 0,
            scanned: 0,
            lines_before_mark: 0,
            last_newline_before_mark: None,
            tripped: None,
            skips_whitespace: false,
            leading: false,
            content_start: 0,
        };
        guard.set_mark(0);
        let mut reader = Reader::from_reader(guard);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
        XmlReader {
            reader,
            buf: Vec::with_capacity(4096),
            limits,
            path: String::with_capacity(128),
            path_lens: Vec::with_capacity(limits.max_depth.min(64)),
            pop_pending: false,
            text: String::new(),
            blank: None,
            joined: String::new(),
            start_raw: Vec::with_capacity(256),
            start_len: 0,
            start_name_len: 0,
            root_prefix: None,
            root_namespace: None,
            root_seen: false,
            root_closed: false,
            event_start: 0,
            trim: false,
            trim_paused: false,
        }
    }

    /// For readers that only look at trimmed text ([`XmlReader::read_text`],
    /// or [`XmlReader::text`] trimmed): whitespace right after a tag is
    /// skipped by the parser, so indentation makes no events at all and
    /// [`XmlReader::text`] loses its leading whitespace. Text after a comment,
    /// CDATA section or processing instruction keeps it, so `read_text`
    /// returns exactly what it returns without this. Faster on indented files.
    pub fn trim_leading_whitespace(&mut self) {
        self.trim = true;
        self.trim_paused = false;
        self.reader.config_mut().trim_text_start = true;
        self.reader.get_mut().skips_whitespace = true;
    }

    /// The next element start, element end, non-blank text, or the end of
    /// the document. Comments, processing instructions, the XML declaration
    /// and whitespace-only text are skipped.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Node, ReadError> {
        loop {
            match self.next_raw()? {
                Raw::Node(node) => return Ok(node),
                Raw::Blank | Raw::Skip => continue,
            }
        }
    }

    /// Local name of the element just opened or closed (or, after `Text`, of
    /// the element holding the text). Empty before the root.
    pub fn name(&self) -> &str {
        match self.path_lens.last() {
            // `path` holds `/name` from `len` on.
            Some(&len) => self.path.get(len + 1..).unwrap_or(""),
            None => "",
        }
    }

    /// Element path such as `/Document/BkToCstmrStmt/Stmt`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Depth of the current element (root = 1).
    pub fn depth(&self) -> usize {
        self.path_lens.len()
    }

    /// The text of the last `Text` node, entities resolved.
    pub fn text(&self) -> &str {
        match self.blank {
            // Whitespace only, so ASCII.
            Some((at, len)) => self
                .buf
                .get(at..at + len)
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .unwrap_or(""),
            None => &self.text,
        }
    }

    /// Namespace URI of the root element, once it has been read.
    pub fn root_namespace(&self) -> Option<&str> {
        self.root_namespace.as_deref()
    }

    /// The value of an attribute (matched by local name) of the element last
    /// opened, entities resolved.
    pub fn attribute(&self, local_name: &str) -> Result<Option<String>, ReadError> {
        let raw = self.start_raw.get(..self.start_len).unwrap_or_default();
        let Ok(content) = std::str::from_utf8(raw) else {
            return Err(self.malformed("attribute is not UTF-8".to_owned()));
        };
        let start = BytesStart::from_content(content, self.start_name_len);
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| self.malformed(format!("bad attribute: {e}")))?;
            if attribute.key.local_name().as_ref() == local_name.as_bytes() {
                return self.attribute_value(&attribute).map(Some);
            }
        }
        Ok(None)
    }

    /// Call right after `Start`: the element's whole text (text and CDATA
    /// pieces joined, comments skipped), trimmed of surrounding whitespace,
    /// up to and including its `End`. A child element is `Invalid`.
    pub fn read_text(&mut self) -> Result<String, ReadError> {
        Ok(self.read_text_str()?.to_owned())
    }

    /// [`XmlReader::read_text`] without allocating: the text is borrowed
    /// from the reader until its next call.
    pub fn read_text_str(&mut self) -> Result<&str, ReadError> {
        let depth = self.depth();
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        let result = self.join_text(depth, &mut joined);
        self.joined = joined;
        result?;
        Ok(self.joined.trim())
    }

    fn join_text(&mut self, depth: usize, out: &mut String) -> Result<(), ReadError> {
        loop {
            match self.next_raw()? {
                Raw::Node(Node::Text) | Raw::Blank => {
                    let piece = self.text();
                    if out.len() + piece.len() > self.limits.max_text_len {
                        return Err(self.limit(format!(
                            "text longer than {} bytes",
                            self.limits.max_text_len
                        )));
                    }
                    out.push_str(piece);
                }
                Raw::Node(Node::End) if self.depth() == depth => return Ok(()),
                Raw::Node(Node::Start) => {
                    return Err(self.invalid(format!(
                        "element <{}> found where only text is expected",
                        self.name()
                    )))
                }
                Raw::Skip => {}
                Raw::Node(Node::End | Node::Eof) => {
                    return Err(self.malformed("unexpected end of element".to_owned()))
                }
            }
        }
    }

    /// Call right after `Start`: skip the element's content up to and
    /// including its `End`.
    pub fn skip(&mut self) -> Result<(), ReadError> {
        let depth = self.depth();
        loop {
            match self.next()? {
                Node::End if self.depth() == depth => return Ok(()),
                Node::Eof => return Err(self.malformed("unexpected end of file".to_owned())),
                _ => {}
            }
        }
    }

    /// Where the reader is: start of the event last returned.
    pub fn position(&self) -> Position {
        self.position_at(self.event_start)
    }

    /// An `Invalid` error at the current position (for dialect readers).
    pub fn invalid(&self, message: impl Into<String>) -> ReadError {
        ReadError::Invalid {
            position: self.position(),
            message: message.into(),
        }
    }

    fn malformed(&self, message: String) -> ReadError {
        ReadError::Malformed {
            position: self.position(),
            message,
        }
    }

    fn limit(&self, message: String) -> ReadError {
        ReadError::Limit {
            position: self.position(),
            message,
        }
    }

    fn position_at(&self, offset: u64) -> Position {
        let (line, column) = self.reader.get_ref().line_column(offset);
        Position {
            line,
            column,
            path: self.path.clone(),
        }
    }

    fn next_raw(&mut self) -> Result<Raw, ReadError> {
        if self.pop_pending {
            self.pop_pending = false;
            if let Some(len) = self.path_lens.pop() {
                self.path.truncate(len);
            }
            if self.path_lens.is_empty() && self.root_seen {
                self.root_closed = true;
            }
        }
        self.blank = None;
        let start = self.reader.buffer_position();
        self.event_start = start;
        self.reader.get_mut().set_mark(start);
        // The buffer is taken out of `self` so the event can borrow it while
        // `self` is updated; it goes back afterwards to be reused.
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let result = self.handle_event(&mut buf, start);
        // The event no longer borrows `buf`: find its bytes in it.
        let result = match result {
            Ok(Step::Done(raw)) => Ok(raw),
            Ok(Step::Start(bytes)) => match bytes.within(&buf) {
                Some(0) => {
                    std::mem::swap(&mut buf, &mut self.start_raw);
                    Ok(Raw::Node(Node::Start))
                }
                Some(at) => {
                    self.start_raw.clear();
                    self.start_raw
                        .extend_from_slice(buf.get(at..at + bytes.len).unwrap_or_default());
                    Ok(Raw::Node(Node::Start))
                }
                None => Err(self.malformed("start tag lost by the parser".to_owned())),
            },
            Ok(Step::Blank(bytes)) => {
                match bytes.within(&buf) {
                    Some(at) => self.blank = Some((at, bytes.len)),
                    None => {
                        // Not expected; whitespace can be rebuilt anyway.
                        self.text.clear();
                        self.text.extend(std::iter::repeat_n(' ', bytes.len));
                    }
                }
                Ok(Raw::Blank)
            }
            Err(error) => Err(error),
        };
        self.buf = buf;
        if let Ok(Raw::Node(Node::Start)) = result {
            if !self.root_seen {
                self.root_seen = true;
                let prefix = std::mem::take(&mut self.root_prefix);
                self.root_namespace = self.namespace_declared(prefix.as_deref())?;
            }
        }
        result
    }

    /// The error for a failed read of the event that started at `start`:
    /// `Limit` when the byte guard stopped the input.
    #[cold]
    fn read_failed(&mut self, error: quick_xml::Error, start: u64) -> ReadError {
        let offset = self.reader.error_position().max(start);
        match self.reader.get_mut().tripped.take() {
            Some(message) => ReadError::Limit {
                position: self.position_at(self.reader.get_ref().consumed),
                message,
            },
            None => convert_error(error, self.position_at(offset)),
        }
    }

    fn handle_event(&mut self, buf: &mut Vec<u8>, start: u64) -> Result<Step, ReadError> {
        let event = match self.reader.read_event_into(buf) {
            Ok(event) => event,
            Err(error) => return Err(self.read_failed(error, start)),
        };
        // Positions of this event point past whitespace the parser skipped.
        self.event_start = self.reader.get_ref().content_start.max(start);
        match event {
            Event::Start(start_tag) => {
                if self.root_closed {
                    return Err(self.malformed("a second root element".to_owned()));
                }
                if self.path_lens.len() >= self.limits.max_depth {
                    return Err(self.limit(format!(
                        "elements nested deeper than {}",
                        self.limits.max_depth
                    )));
                }
                let local = start_tag.local_name();
                let Ok(local) = std::str::from_utf8(local.as_ref()) else {
                    return Err(self.malformed("element name is not UTF-8".to_owned()));
                };
                self.resume_trim();
                self.path_lens.push(self.path.len());
                self.path.push('/');
                self.path.push_str(local);
                self.start_name_len = start_tag.name().as_ref().len();
                self.start_len = start_tag.len();
                if !self.root_seen {
                    self.root_prefix = start_tag.name().prefix().map(|p| p.as_ref().to_vec());
                }
                Ok(Step::Start(Span::of(&start_tag)))
            }
            Event::End(_) => {
                self.resume_trim();
                self.pop_pending = true;
                Ok(Step::Done(Raw::Node(Node::End)))
            }
            Event::Empty(_) => {
                // expand_empty_elements is on, so this never comes.
                Ok(Step::Done(Raw::Skip))
            }
            Event::Text(text) => {
                let raw: &[u8] = &text;
                if self.reader.get_mut().text_continues() {
                    // A reference follows: the text goes on after it.
                    self.text.clear();
                    self.push_text(raw)?;
                    return self.join_text_pieces(buf).map(Step::Done);
                }
                // Indentation between elements: no decoding, no copy.
                if raw.iter().all(u8::is_ascii_whitespace) {
                    if raw.len() > self.limits.max_text_len {
                        return Err(self.limit(format!(
                            "text longer than {} bytes",
                            self.limits.max_text_len
                        )));
                    }
                    return Ok(Step::Blank(Span::of(raw)));
                }
                self.text.clear();
                self.push_text(raw)?;
                self.text_node().map(Step::Done)
            }
            Event::GeneralRef(reference) => {
                self.text.clear();
                self.push_reference(&reference, self.event_start)?;
                self.join_text_pieces(buf).map(Step::Done)
            }
            Event::CData(cdata) => {
                self.pause_trim();
                let Ok(decoded) = std::str::from_utf8(&cdata) else {
                    return Err(self.malformed("CDATA is not UTF-8".to_owned()));
                };
                if decoded.len() > self.limits.max_text_len {
                    return Err(self.limit(format!(
                        "text longer than {} bytes",
                        self.limits.max_text_len
                    )));
                }
                self.text.clear();
                self.text.push_str(decoded);
                self.text_node().map(Step::Done)
            }
            Event::DocType(_) => Err(ReadError::Refused {
                position: self.position(),
                message: "a DOCTYPE (DTD, entity declarations) is not accepted in bank files"
                    .to_owned(),
            }),
            Event::Comment(_) | Event::PI(_) => {
                self.pause_trim();
                Ok(Step::Done(Raw::Skip))
            }
            Event::Decl(_) => Ok(Step::Done(Raw::Skip)),
            Event::Eof => {
                if !self.path_lens.is_empty() {
                    Err(self.malformed(format!(
                        "the file ends inside <{}> (truncated?)",
                        self.name()
                    )))
                } else if !self.root_seen {
                    Err(self.malformed("no root element".to_owned()))
                } else {
                    Ok(Step::Done(Raw::Node(Node::Eof)))
                }
            }
        }
    }

    /// Appends a piece of text, as it is written (the parser leaves no
    /// reference in it).
    fn push_text(&mut self, raw: &[u8]) -> Result<(), ReadError> {
        match std::str::from_utf8(raw) {
            Ok(text) => {
                self.text.push_str(text);
                Ok(())
            }
            Err(error) => Err(self.malformed(format!("text is not UTF-8: {error}"))),
        }
    }

    /// Appends what an entity or character reference (read at `offset`)
    /// stands for. Only the predefined entities exist: without a DOCTYPE
    /// nothing can declare another, so any other name is refused.
    fn push_reference(&mut self, reference: &BytesRef, offset: u64) -> Result<(), ReadError> {
        match reference.resolve_char_ref() {
            Ok(Some(c)) => self.text.push(c),
            Ok(None) => {
                let Ok(name) = std::str::from_utf8(reference) else {
                    return Err(self.malformed("entity name is not UTF-8".to_owned()));
                };
                match resolve_xml_entity(name) {
                    Some(value) => self.text.push_str(value),
                    None => {
                        return Err(ReadError::Refused {
                            position: self.position_at(offset),
                            message: format!("undefined entity reference &{name};"),
                        })
                    }
                }
            }
            Err(error) => return Err(self.convert(error, offset)),
        }
        Ok(())
    }

    /// After a text piece or a reference, the rest of the text node: the
    /// pieces and references up to the next markup (or the end), joined into
    /// `text`. The byte guard's mark stays at the node's start, so the joined
    /// node is bounded like any single event.
    fn join_text_pieces(&mut self, buf: &mut Vec<u8>) -> Result<Raw, ReadError> {
        // What follows a reference continues the text: keep its whitespace.
        self.pause_trim();
        while self.reader.get_mut().text_continues() {
            if self.text.len() > self.limits.max_text_len {
                break;
            }
            let offset = self.reader.buffer_position();
            buf.clear();
            match self.reader.read_event_into(buf) {
                Ok(Event::Text(text)) => self.push_text(&text)?,
                Ok(Event::GeneralRef(reference)) => self.push_reference(&reference, offset)?,
                Ok(_) => return Err(self.malformed("text ended unexpectedly".to_owned())),
                Err(error) => return Err(self.read_failed(error, offset)),
            }
        }
        self.text_node()
    }

    /// Text after a comment, CDATA or PI keeps its leading whitespace: it
    /// may continue text that came before.
    fn pause_trim(&mut self) {
        if self.trim && !self.trim_paused {
            self.trim_paused = true;
            self.reader.config_mut().trim_text_start = false;
            self.reader.get_mut().skips_whitespace = false;
        }
    }

    #[inline]
    fn resume_trim(&mut self) {
        if self.trim_paused {
            self.trim_paused = false;
            self.reader.config_mut().trim_text_start = true;
            self.reader.get_mut().skips_whitespace = true;
        }
    }

    /// `text` holds a text or CDATA node: a `Text` node, or `Blank`.
    fn text_node(&mut self) -> Result<Raw, ReadError> {
        if self.text.len() > self.limits.max_text_len {
            return Err(self.limit(format!(
                "text longer than {} bytes",
                self.limits.max_text_len
            )));
        }
        let blank = self.text.bytes().all(|b| b.is_ascii_whitespace());
        if !blank && self.path_lens.is_empty() {
            return Err(self.malformed("text outside the root element".to_owned()));
        }
        Ok(if blank {
            Raw::Blank
        } else {
            Raw::Node(Node::Text)
        })
    }

    /// The namespace bound to `prefix` by the root's own `xmlns` attributes.
    fn namespace_declared(&self, prefix: Option<&[u8]>) -> Result<Option<String>, ReadError> {
        let wanted: &[u8] = match prefix {
            Some(p) => p,
            None => b"",
        };
        let raw = self.start_raw.get(..self.start_len).unwrap_or_default();
        let Ok(content) = std::str::from_utf8(raw) else {
            return Err(self.malformed("attribute is not UTF-8".to_owned()));
        };
        let start = BytesStart::from_content(content, self.start_name_len);
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| self.malformed(format!("bad attribute: {e}")))?;
            let key = attribute.key.as_ref();
            let declared = if key == b"xmlns" {
                Some(&b""[..])
            } else {
                key.strip_prefix(b"xmlns:")
            };
            if declared == Some(wanted) {
                return self
                    .attribute_value(&attribute)
                    .map(|value| Some(value.trim().to_owned()));
            }
        }
        Ok(None)
    }

    /// An attribute's value with the predefined entities and character
    /// references resolved (as written otherwise: not normalised).
    fn attribute_value(&self, attribute: &Attribute) -> Result<String, ReadError> {
        let Ok(raw) = std::str::from_utf8(&attribute.value) else {
            return Err(self.malformed("attribute is not UTF-8".to_owned()));
        };
        quick_xml::escape::unescape_with(raw, resolve_xml_entity)
            .map(std::borrow::Cow::into_owned)
            .map_err(|e| self.convert(e.into(), self.event_start))
    }

    fn convert(&self, error: quick_xml::Error, offset: u64) -> ReadError {
        convert_error(error, self.position_at(offset))
    }
}

/// Turns a quick-xml error into ours; unknown entities are refused, not
/// merely malformed, because they are how entity attacks show up once the
/// DOCTYPE is gone.
fn convert_error(error: quick_xml::Error, position: Position) -> ReadError {
    use quick_xml::escape::EscapeError;
    match error {
        quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => ReadError::Refused {
            position,
            message: format!("undefined entity reference &{name};"),
        },
        quick_xml::Error::Io(io) => ReadError::Io(io::Error::new(io.kind(), io.to_string())),
        other => ReadError::Malformed {
            position,
            message: other.to_string(),
        },
    }
}

/// What `handle_event` made of an event whose bytes may still be needed
/// from the read buffer once the event is dropped.
enum Step {
    Done(Raw),
    /// A start tag; its content (name and attributes) is these bytes.
    Start(Span),
    /// Whitespace-only text, these bytes.
    Blank(Span),
}

/// Where an event's bytes were, to find them in the read buffer afterwards.
#[derive(Clone, Copy)]
struct Span {
    address: usize,
    len: usize,
}

impl Span {
    fn of(bytes: &[u8]) -> Self {
        Span {
            address: bytes.as_ptr() as usize,
            len: bytes.len(),
        }
    }

    /// The offset of these bytes in `buf`, if they lie in it.
    fn within(self, buf: &[u8]) -> Option<usize> {
        let at = self.address.checked_sub(buf.as_ptr() as usize)?;
        (at.checked_add(self.len)? <= buf.len()).then_some(at)
    }
}

enum Raw {
    Node(Node),
    /// Whitespace-only text (kept in `text` for `read_text`).
    Blank,
    /// Comment, processing instruction, declaration.
    Skip,
}

/// Wraps the input to count bytes and lines, and to stop quick-xml from
/// buffering more than one bounded event: `fill_buf` fails once the current
/// event (since `mark`) or the whole file grows past its limit.
struct Guard<R> {
    inner: R,
    consumed: u64,
    mark: u64,
    max_event: u64,
    max_total: Option<u64>,
    /// `fill_buf` fails once `consumed` passes this: the smaller of
    /// `mark + max_event` and `max_total`.
    stop_at: u64,
    /// Offsets of newlines, from `newlines[head]` on at or after `mark`,
    /// for line/column of errors in the current event. Newlines are found
    /// ahead of consumption, a window at a time (`scanned` is where the
    /// search stopped), so the count is bounded by the window and the
    /// longest event.
    newlines: Vec<u64>,
    head: usize,
    scanned: u64,
    lines_before_mark: u64,
    last_newline_before_mark: Option<u64>,
    /// Set when a limit stopped the input, so the error is reported as `Limit`.
    tripped: Option<String>,
    /// The parser skips whitespace before an event (`trim_leading_whitespace`):
    /// watch for it after each mark, so that positions point past it.
    skips_whitespace: bool,
    /// Still consuming only whitespace since the mark.
    leading: bool,
    /// Where the current event's own bytes start (after skipped whitespace).
    content_start: u64,
}

impl<R> Guard<R> {
    /// A new event starts at `offset`; forget line detail before it.
    fn set_mark(&mut self, offset: u64) {
        self.mark = offset;
        self.content_start = offset;
        self.leading = self.skips_whitespace;
        let event_end = offset.saturating_add(self.max_event);
        self.stop_at = match self.max_total {
            Some(max) => event_end.min(max),
            None => event_end,
        };
        while let Some(&newline) = self.newlines.get(self.head) {
            if newline >= offset {
                break;
            }
            self.head += 1;
            self.lines_before_mark += 1;
            self.last_newline_before_mark = Some(newline);
        }
        if self.head == self.newlines.len() {
            self.newlines.clear();
            self.head = 0;
        } else if self.head >= 4096 && self.head * 2 >= self.newlines.len() {
            self.newlines.drain(..self.head);
            self.head = 0;
        }
    }

    /// 1-based line and byte column of `offset` (exact for offsets at or
    /// after the current mark, which is where errors happen).
    fn line_column(&self, offset: u64) -> (u64, u64) {
        let current = self.newlines.get(self.head..).unwrap_or_default();
        let later = current.partition_point(|&nl| nl < offset);
        let last = if later > 0 {
            current.get(later - 1).copied()
        } else {
            self.last_newline_before_mark
        };
        let line = self.lines_before_mark + later as u64 + 1;
        let column = match last {
            Some(nl) => offset.saturating_sub(nl),
            None => offset + 1,
        };
        (line, column.max(1))
    }
}

impl<R> Guard<R> {
    /// A limit was passed: the error that stops the input.
    #[cold]
    fn trip(&mut self) -> io::Error {
        let message = if self.consumed.saturating_sub(self.mark) > self.max_event {
            format!(
                "one text, tag or comment is longer than {} bytes",
                self.max_event
            )
        } else {
            let max = self.max_total.unwrap_or_default();
            format!("the file is larger than {max} bytes")
        };
        self.tripped = Some(message.clone());
        io::Error::other(message)
    }
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.stop_at {
            return Err(self.trip());
        }
        self.inner.fill_buf()
    }

    #[inline]
    fn consume(&mut self, amount: usize) {
        if self.leading {
            self.watch_leading(amount);
        }
        let end = self.consumed + amount as u64;
        if end > self.scanned {
            self.scan_newlines(amount);
        }
        self.consumed = end;
        self.inner.consume(amount);
    }
}

/// How far ahead of consumption `Guard` looks for newlines at once.
const NEWLINE_WINDOW: usize = 64 * 1024;

impl<R: BufRead> Guard<R> {
    /// Whether the text being read goes on: the parser stopped a text piece
    /// or a reference and the next byte is neither markup nor the end. On an
    /// I/O error, yes: the parser then meets the error and reports it.
    #[inline]
    fn text_continues(&mut self) -> bool {
        match self.inner.fill_buf() {
            Ok(bytes) => bytes.first().is_some_and(|&b| b != b'<'),
            Err(_) => true,
        }
    }

    /// The parser skips whitespace in pieces of whitespace only, and no
    /// other piece starts with whitespace while it skips (the text after it
    /// starts with something else): the first piece that does not start with
    /// whitespace is the event itself.
    #[inline]
    fn watch_leading(&mut self, amount: usize) {
        if let Ok(bytes) = self.inner.fill_buf() {
            if amount > 0 && matches!(bytes.first(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.content_start = self.consumed + amount as u64;
                return;
            }
        }
        self.leading = false;
    }

    /// Records the newlines of the next `amount` bytes to be consumed, and
    /// of up to `NEWLINE_WINDOW` bytes after them that are already buffered
    /// (so that small consumes cost nothing).
    fn scan_newlines(&mut self, amount: usize) {
        // `fill_buf` on a non-empty buffer returns the same bytes without I/O
        // (BufRead's contract), so these are the bytes about to be consumed.
        if let Ok(bytes) = self.inner.fill_buf() {
            let from = usize::try_from(self.scanned.saturating_sub(self.consumed))
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let to = from
                .saturating_add(NEWLINE_WINDOW)
                .max(amount)
                .min(bytes.len());
            if let Some(window) = bytes.get(from..to) {
                let base = self.consumed + from as u64;
                for at in memchr::memchr_iter(b'\n', window) {
                    self.newlines.push(base + at as u64);
                }
                self.scanned = self.consumed + to as u64;
            }
        }
        self.scanned = self.scanned.max(self.consumed + amount as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(xml: &str) -> Result<Vec<(Node, String)>, ReadError> {
        let mut reader = XmlReader::new(xml.as_bytes());
        let mut out = Vec::new();
        loop {
            let node = reader.next()?;
            let what = match node {
                Node::Text => reader.text().to_owned(),
                _ => reader.path().to_owned(),
            };
            out.push((node, what));
            if node == Node::Eof {
                return Ok(out);
            }
        }
    }

    #[test]
    fn prefixes_are_stripped_and_paths_kept() {
        let xml = "<?xml version='1.0'?>\n<ns2:Document xmlns:ns2='urn:x'><ns2:A>1 &amp; 2</ns2:A><B/></ns2:Document>";
        let nodes = all(xml).unwrap();
        assert_eq!(
            nodes,
            vec![
                (Node::Start, "/Document".into()),
                (Node::Start, "/Document/A".into()),
                (Node::Text, "1 & 2".into()),
                (Node::End, "/Document/A".into()),
                (Node::Start, "/Document/B".into()),
                (Node::End, "/Document/B".into()),
                (Node::End, "/Document".into()),
                (Node::Eof, "".into()),
            ]
        );
        let mut reader = XmlReader::new(xml.as_bytes());
        reader.next().unwrap();
        assert_eq!(reader.root_namespace(), Some("urn:x"));
    }

    #[test]
    fn read_text_joins_cdata_and_trims() {
        let xml = "<a><b> x<![CDATA[<y>]]>z </b><c k=\"v&lt;\"/></a>";
        let mut reader = XmlReader::new(xml.as_bytes());
        assert_eq!(reader.next().unwrap(), Node::Start);
        assert_eq!(reader.next().unwrap(), Node::Start);
        assert_eq!(reader.read_text().unwrap(), "x<y>z");
        assert_eq!(reader.name(), "b");
        assert_eq!(reader.next().unwrap(), Node::Start);
        assert_eq!(reader.attribute("k").unwrap().as_deref(), Some("v<"));
        assert_eq!(reader.attribute("missing").unwrap(), None);
    }

    #[test]
    fn trimming_leading_whitespace_keeps_read_text() {
        let xml = "<a>\n  <b>  x <!--c-->  y <![CDATA[ z ]]> w </b>\n  <c>\n  </c>\n  <d> <?pi?> v</d>\n  <e><![CDATA[p]]> q</e></a>";
        let texts = |trim: bool| {
            let mut reader = XmlReader::new(xml.as_bytes());
            if trim {
                reader.trim_leading_whitespace();
            }
            let mut out = Vec::new();
            assert_eq!(reader.next().unwrap(), Node::Start);
            loop {
                match reader.next().unwrap() {
                    Node::Start => {
                        out.push((reader.name().to_owned(), reader.read_text().unwrap()))
                    }
                    Node::Eof => return out,
                    _ => {}
                }
            }
        };
        let plain = texts(false);
        assert_eq!(plain[0], ("b".to_owned(), "x   y  z  w".to_owned()));
        assert_eq!(plain[3], ("e".to_owned(), "p q".to_owned()));
        assert_eq!(texts(true), plain);
    }

    #[test]
    fn trimming_leaves_element_positions_alone() {
        let mut xml = Vec::new();
        crate::iso20022::generate_camt053(&mut xml, 30, 5).unwrap();
        xml.extend_from_slice(b"\n<!-- after -->\n");
        let tags = |trim: bool| {
            let mut reader = XmlReader::new(&xml[..]);
            if trim {
                reader.trim_leading_whitespace();
            }
            let mut out = Vec::new();
            loop {
                match reader.next().unwrap() {
                    node @ (Node::Start | Node::End) => {
                        let position = reader.position();
                        out.push((node, position.path, position.line, position.column));
                    }
                    Node::Text => {}
                    Node::Eof => return out,
                }
            }
        };
        let plain = tags(false);
        assert!(plain.len() > 1000);
        assert_eq!(plain[1].2, 3, "{:?}", plain[1]);
        assert_eq!(tags(true), plain);
    }

    #[test]
    fn text_errors_point_past_skipped_whitespace() {
        let xml = "<a>\n  <b>\n\n   &nope;</b></a>";
        let mut reader = XmlReader::new(xml.as_bytes());
        reader.trim_leading_whitespace();
        let err = (0..10)
            .try_for_each(|_| reader.next().map(|_| ()))
            .unwrap_err();
        match err {
            ReadError::Refused { position, .. } => {
                assert_eq!((position.line, position.column), (4, 4));
                assert_eq!(position.path, "/a/b");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn doctype_is_refused() {
        let xml = "<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY x 'y'>]>\n<a>&x;</a>";
        assert!(matches!(all(xml), Err(ReadError::Refused { .. })));
    }

    #[test]
    fn undefined_entity_is_refused_with_position() {
        let err = all("<a>\n  <b>&nope;</b></a>").unwrap_err();
        match err {
            ReadError::Refused { position, .. } => {
                assert_eq!(position.line, 2);
                assert_eq!(position.path, "/a/b");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn depth_and_text_limits() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(matches!(all(&deep), Err(ReadError::Limit { .. })));
        let limits = Limits {
            max_text_len: 10,
            ..Limits::default()
        };
        let long = format!("<a>{}</a>", "x".repeat(200_000));
        let mut reader = XmlReader::with_limits(long.as_bytes(), limits);
        reader.next().unwrap();
        assert!(matches!(reader.next(), Err(ReadError::Limit { .. })));
        let limits = Limits {
            max_file_size: Some(100),
            ..Limits::default()
        };
        let big = format!("<a>{}</a>", "<b>1</b>\n".repeat(1000));
        let mut reader = XmlReader::with_limits(big.as_bytes(), limits);
        let result = (0..10_000).try_for_each(|_| reader.next().map(|_| ()));
        assert!(matches!(result, Err(ReadError::Limit { .. })));
    }

    #[test]
    fn truncated_file_names_its_line() {
        let err = all("<a>\n<b>1</b>\n<c>").unwrap_err();
        match err {
            ReadError::Malformed { position, .. } => assert!(position.line >= 3, "{position}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn structure_errors() {
        assert!(all("<a></b>").is_err());
        assert!(all("<a></a><b></b>").is_err());
        assert!(all("text").is_err());
        assert!(all("").is_err());
        assert!(all("<a>\u{feff}</a>").is_ok());
        assert!(all("\u{feff}<a/>").is_ok());
    }
}
