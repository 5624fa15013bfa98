//! Entity and character references in text: the parser reports each one
//! apart from the text around it, and the reader must give back one text
//! node, resolved, with its whitespace, whether or not leading whitespace is
//! trimmed; anything but the predefined entities is refused where it stands.
//! Also: a start tag with very many attributes is read in linear time.

use std::time::{Duration, Instant};

use bank_adapters::error::ReadError;
use bank_adapters::xml::{Limits, Node, XmlReader};

/// Every node as (kind, text or path), with or without trimming.
fn nodes(xml: &str, trim: bool) -> Result<Vec<(Node, String)>, ReadError> {
    let mut reader = XmlReader::new(xml.as_bytes());
    if trim {
        reader.trim_leading_whitespace();
    }
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

fn texts(xml: &str, trim: bool) -> Vec<String> {
    nodes(xml, trim)
        .expect("reads")
        .into_iter()
        .filter(|(node, _)| *node == Node::Text)
        .map(|(_, text)| text)
        .collect()
}

#[test]
fn a_text_with_references_is_one_node() {
    let xml = "<a><b> x &amp; y &lt;&gt; &#x5DE5;&#36164; z </b><c>&quot;q&apos;</c></a>";
    assert_eq!(texts(xml, false), [" x & y <> 工资 z ", "\"q'"]);
    // Trimming drops only the node's leading whitespace, never the spaces
    // around a reference inside it.
    assert_eq!(texts(xml, true), ["x & y <> 工资 z ", "\"q'"]);
}

#[test]
fn read_text_is_the_same_with_and_without_trimming() {
    let xml = "<a>\n  <b>\n    &amp; x\n  </b>\n  <c> a &amp;&amp; b <!-- c --> &lt; d</c>\n</a>";
    for trim in [false, true] {
        let mut reader = XmlReader::new(xml.as_bytes());
        if trim {
            reader.trim_leading_whitespace();
        }
        assert_eq!(reader.next().expect("root"), Node::Start);
        assert_eq!(reader.next().expect("b"), Node::Start);
        assert_eq!(reader.read_text().expect("b's text"), "& x", "trim {trim}");
        assert_eq!(reader.next().expect("c"), Node::Start);
        assert_eq!(
            reader.read_text().expect("c's text"),
            "a && b  < d",
            "trim {trim}"
        );
    }
}

#[test]
fn a_reference_to_whitespace_is_blank_text() {
    // As before: a node that resolves to whitespace only is no Text node.
    assert!(texts("<a>&#32;&#x9;\n</a>", false).is_empty());
    let mut reader = XmlReader::new(&b"<a><b>&#32;</b></a>"[..]);
    reader.next().expect("a");
    reader.next().expect("b");
    assert_eq!(reader.read_text().expect("text"), "");
}

#[test]
fn an_undefined_entity_is_refused_where_it_stands() {
    let xml = "<a>\n  <b>text\n  on two lines &nope; after</b></a>";
    for trim in [false, true] {
        match nodes(xml, trim) {
            Err(ReadError::Refused { position, message }) => {
                assert_eq!((position.line, position.column), (3, 16), "trim {trim}");
                assert_eq!(position.path, "/a/b");
                assert!(message.contains("&nope;"), "{message}");
            }
            other => panic!("expected Refused, got {other:?}"),
        }
    }
}

#[test]
fn broken_references_are_malformed() {
    for xml in [
        "<a>a & b</a>",
        "<a>a &amp b</a>",
        "<a>&#0;</a>",
        "<a>&#xD800;</a>",
        "<a>&#x110000;</a>",
        "<a>&#12a;</a>",
        "<a>x &amp;",
    ] {
        let result = nodes(xml, false);
        assert!(
            matches!(result, Err(ReadError::Malformed { .. })),
            "{xml}: {result:?}"
        );
    }
}

#[test]
fn references_outside_the_root_are_malformed() {
    for xml in ["&amp;<a/>", "<a/>&lt;", "<a/>\n&#x41;"] {
        let result = nodes(xml, false);
        assert!(
            matches!(result, Err(ReadError::Malformed { .. })),
            "{xml}: {result:?}"
        );
    }
}

#[test]
fn the_text_limit_counts_the_whole_node() {
    let limits = Limits {
        max_text_len: 100,
        ..Limits::default()
    };
    let xml = format!("<a>{}</a>", "ab&amp;".repeat(40));
    let mut reader = XmlReader::with_limits(xml.as_bytes(), limits);
    reader.next().expect("root");
    assert!(matches!(reader.next(), Err(ReadError::Limit { .. })));
    // Just under the limit reads.
    let xml = format!("<a>{}</a>", "ab&amp;".repeat(33));
    let mut reader = XmlReader::with_limits(xml.as_bytes(), limits);
    reader.next().expect("root");
    assert_eq!(reader.next().expect("text"), Node::Text);
    assert_eq!(reader.text(), "ab&".repeat(33));
}

#[test]
fn attribute_values_resolve_references() {
    let xml = r#"<a k="x &amp; &#x5DE5; &lt;y&gt;" bad="&nope;"/>"#;
    let mut reader = XmlReader::new(xml.as_bytes());
    reader.next().expect("a");
    assert_eq!(
        reader.attribute("k").expect("k").as_deref(),
        Some("x & 工 <y>")
    );
    assert!(matches!(
        reader.attribute("bad"),
        Err(ReadError::Refused { .. })
    ));
}

/// RUSTSEC-2026-0194: the duplicate-attribute check of quick-xml before 0.41
/// was quadratic. 150,000 distinct attributes on the root (the namespace is
/// looked up among them) and on a child (`attribute` scans them) took
/// minutes there; linear, well under a second even unoptimised.
#[test]
fn a_start_tag_with_many_attributes_reads_in_linear_time() {
    let attributes: String = (0..150_000).map(|i| format!(" a{i}=\"\"")).collect();
    let xml = format!("<r{attributes} xmlns=\"urn:x\"><c{attributes} k=\"v\"/></r>",);
    let limits = Limits {
        max_text_len: 4 << 20,
        ..Limits::default()
    };
    let started = Instant::now();
    let mut reader = XmlReader::with_limits(xml.as_bytes(), limits);
    assert_eq!(reader.next().expect("root"), Node::Start);
    assert_eq!(reader.root_namespace(), Some("urn:x"));
    assert_eq!(reader.next().expect("child"), Node::Start);
    assert_eq!(reader.attribute("k").expect("k").as_deref(), Some("v"));
    assert_eq!(reader.attribute("missing").expect("scan"), None);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "{elapsed:?} for 150,000 attributes"
    );
}
