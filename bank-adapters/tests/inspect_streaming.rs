//! `bank-file inspect` streams: `dialect::inspect_to` describes an ISO 20022
//! statement entry by entry as it reads it (the same JSON value as the
//! in-memory `inspect`), stops reading when its output is gone, and shows
//! payment blocks and batch details.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bank_adapters::dialect::{inspect, inspect_to, InspectError};
use bank_adapters::iso20022::{camt053_source, generate_camt053};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn samples_dir() -> PathBuf {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    shared.join("iso20022/samples")
}

fn streamed(bytes: &[u8]) -> Value {
    let mut out = Vec::new();
    inspect_to(bytes, &mut out).expect("inspects");
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!("not JSON: {e}\n{}", String::from_utf8_lossy(&out));
    })
}

#[test]
fn streamed_json_is_the_in_memory_description_for_every_sample() {
    let mut compared = 0;
    for entry in std::fs::read_dir(samples_dir()).expect("samples") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "xml") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("reads");
        let Ok(expected) = inspect(&bytes) else {
            continue;
        };
        assert_eq!(streamed(&bytes), expected, "{}", path.display());
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} samples compared");
}

#[test]
fn a_generated_statement_streams_to_the_same_value() {
    let mut bytes = Vec::new();
    generate_camt053(&mut bytes, 2_000, 7).expect("generates");
    let value = streamed(&bytes);
    assert_eq!(value, inspect(&bytes).expect("inspects"));
    let statement = &value["statements"][0];
    assert_eq!(statement["entry_count"], 2_000);
    assert_eq!(statement["entries"].as_array().map(Vec::len), Some(2_000));
}

#[test]
fn a_statement_without_entries_streams_to_valid_json() {
    let mut bytes = Vec::new();
    generate_camt053(&mut bytes, 0, 7).expect("generates");
    let value = streamed(&bytes);
    assert_eq!(value, inspect(&bytes).expect("inspects"));
    assert_eq!(value["statements"][0]["entries"], Value::Array(Vec::new()));
}

#[test]
fn batch_details_are_shown() {
    let value = streamed(&fixture("camt.053.001.08_batches.xml"));
    let entry = &value["statements"][0]["entries"][0];
    assert_eq!(entry["batch"]["message_id"], "WB-20261104-0007");
    assert_eq!(
        entry["batch"]["payment_information_id"],
        "WB-20261104-0007-A"
    );
    assert_eq!(entry["batch"]["count"], 3);
    assert_eq!(entry["batch"]["total"], "16500.00");
    assert_eq!(entry["booked_at"], "2026-11-04T23:30:00Z");
    assert_eq!(entry["transactions"][1]["end_to_end_id"], "L-0002-1");
    assert_eq!(
        entry["transactions"][1]["payment_information_id"],
        "WB-20261104-0007-A"
    );
    let without_details = &value["statements"][0]["entries"][1];
    assert_eq!(without_details["batch"]["message_id"], "WB-20261104-0008");
    assert_eq!(without_details["transactions"], Value::Array(Vec::new()));
}

#[test]
fn payment_blocks_are_shown() {
    let bytes = fixture("pain.002.001.10_blocks.xml");
    let value = streamed(&bytes);
    assert_eq!(value, inspect(&bytes).expect("inspects"));
    assert_eq!(value["group_status"], "PARTLY_ACCEPTED");
    let blocks = value["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[1]["payment_information_id"], "WB-20261104-0007-B");
    assert_eq!(blocks[1]["status"], "REJECTED");
    assert_eq!(blocks[1]["reason"], "AM04 余额不足 (insufficient funds)");
    assert_eq!(blocks[1]["line_count"], 0);
    assert_eq!(
        value["lines"][0]["payment_information_id"],
        "WB-20261104-0007-A"
    );
    assert_eq!(value["lines"][3]["status"], "UNKNOWN");
}

#[test]
fn a_statement_in_another_encoding_is_described_whole() {
    let text = String::from_utf8(fixture("camt.053.001.08_batches.xml")).expect("UTF-8");
    let text = text.replacen("encoding=\"UTF-8\"", "encoding=\"GBK\"", 1);
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
    assert!(!lossy);
    let value = streamed(&gbk);
    assert_eq!(value, inspect(&gbk).expect("inspects"));
    assert_eq!(
        value["statements"][0]["account_name"],
        "某项目农民工工资专用账户"
    );
}

/// Counts what is read, and how much output had been written when reading
/// passed `mark` bytes.
struct Watched<R> {
    inner: R,
    read: u64,
    mark: u64,
    written: Rc<Cell<u64>>,
    written_at_mark: Option<u64>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read >= self.mark && self.written_at_mark.is_none() {
            self.written_at_mark = Some(self.written.get());
        }
        Ok(n)
    }
}

/// Counts bytes written; fails once `limit` is reached (a closed pipe).
struct Output {
    written: Rc<Cell<u64>>,
    limit: u64,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written.get() >= self.limit {
            return Err(io::Error::from(io::ErrorKind::BrokenPipe));
        }
        self.written.set(self.written.get() + buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn entries_are_written_while_the_file_is_still_being_read() {
    // About 37 MB, generated as it is read: never in memory whole.
    let written = Rc::new(Cell::new(0));
    let mut input = Watched {
        inner: camt053_source(20_000, 3),
        read: 0,
        mark: 30_000_000,
        written: Rc::clone(&written),
        written_at_mark: None,
    };
    let mut out = Output {
        written: Rc::clone(&written),
        limit: u64::MAX,
    };
    inspect_to(&mut input, &mut out).expect("inspects");
    assert!(input.read > 35_000_000, "read {} bytes", input.read);
    // By the time 30 MB were read, most of their entries were already written.
    let early = input.written_at_mark.expect("the mark was passed");
    assert!(
        early > written.get() / 2,
        "{early} of {} bytes written before the last 20% was read",
        written.get()
    );
}

#[test]
fn reading_stops_when_the_output_is_closed() {
    let written = Rc::new(Cell::new(0));
    let mut input = Watched {
        inner: camt053_source(20_000, 3),
        read: 0,
        mark: u64::MAX,
        written: Rc::clone(&written),
        written_at_mark: None,
    };
    let mut out = Output {
        written: Rc::clone(&written),
        limit: 10_000,
    };
    match inspect_to(&mut input, &mut out) {
        Err(InspectError::Write(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
        other => panic!("expected the write error, got {other:?}"),
    }
    // The sniffed head and one read buffer, not the 37 MB file.
    assert!(input.read < 2_000_000, "read {} bytes", input.read);
}

#[test]
fn a_broken_entry_ends_the_description_with_the_readers_error() {
    let mut bytes = Vec::new();
    generate_camt053(&mut bytes, 50, 7).expect("generates");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let at = text
        .match_indices("<CdtDbtInd>DBIT</CdtDbtInd>")
        .nth(20)
        .expect("a debit")
        .0;
    let broken = format!(
        "{}<CdtDbtInd>SIDEWAYS</CdtDbtInd>{}",
        &text[..at],
        &text[at + "<CdtDbtInd>DBIT</CdtDbtInd>".len()..]
    );
    let mut out = Vec::new();
    match inspect_to(broken.as_bytes(), &mut out) {
        Err(InspectError::Read(e)) => assert!(e.to_string().contains("SIDEWAYS"), "{e}"),
        other => panic!("expected a read error, got {other:?}"),
    }
    // What came before the broken entry was written.
    assert!(String::from_utf8_lossy(&out).contains("\"entries\": ["));
}

#[test]
fn a_file_that_is_no_bank_file_is_refused_before_anything_is_written() {
    let mut out = Vec::new();
    let result = inspect_to(&b"<html><body>hello</body></html>"[..], &mut out);
    assert!(matches!(result, Err(InspectError::Read(_))), "{result:?}");
    assert!(out.is_empty());
}

#[test]
fn a_statement_with_a_byte_order_mark_streams_to_the_same_value() {
    let bytes = [
        &[0xEF, 0xBB, 0xBF][..],
        &fixture("camt.053.001.08_batches.xml"),
    ]
    .concat();
    assert_eq!(streamed(&bytes), inspect(&bytes).expect("inspects"));
}
