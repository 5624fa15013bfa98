//! pain.002 with several payment blocks (`OrgnlPmtInfAndSts`): each block's
//! status and reason reach that block's lines, a block without transactions
//! is reported as a block status, and `PART` is never read as "accepted".
//!
//! The fixtures (`tests/fixtures/pain.002.001.{10,03}_blocks.xml`) are shaped
//! like the real samples in `shared/iso20022/samples` and valid against the
//! official XSDs (checked here with xmllint).

use std::path::{Path, PathBuf};

use bank_adapters::dialect::{Dialect, ReadOptions};
use bank_adapters::iso20022::{
    read_status_report, validate_with_xmllint, validate_xml_with_xmllint, write_pain002,
    Pain001Version, Pain002Version,
};
use bank_adapters::model::{LineStatus, PaymentStatus, StatusReport};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn report(name: &str) -> StatusReport {
    let bytes = std::fs::read(fixture(name)).expect("fixture reads");
    read_status_report(bytes.as_slice()).expect("fixture parses")
}

fn line<'a>(report: &'a StatusReport, end_to_end_id: &str) -> &'a LineStatus {
    report
        .lines
        .iter()
        .find(|l| l.end_to_end_id == end_to_end_id)
        .unwrap_or_else(|| panic!("line {end_to_end_id} is reported"))
}

fn reason_code(line: &LineStatus) -> Option<&str> {
    line.reason.as_ref().and_then(|r| r.code.as_deref())
}

#[test]
fn fixtures_are_valid_against_the_official_schemas() {
    for name in ["pain.002.001.10_blocks.xml", "pain.002.001.03_blocks.xml"] {
        validate_with_xmllint(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn group_status_part_is_partly_accepted_never_accepted() {
    assert_eq!(
        PaymentStatus::from_iso_code("PART"),
        PaymentStatus::PartlyAccepted
    );
    assert!(!PaymentStatus::PartlyAccepted.is_final());
    for name in ["pain.002.001.10_blocks.xml", "pain.002.001.03_blocks.xml"] {
        let report = report(name);
        assert_eq!(report.group_status_code.as_deref(), Some("PART"), "{name}");
        assert_eq!(
            report.group_status,
            Some(PaymentStatus::PartlyAccepted),
            "{name}"
        );
    }
}

#[test]
fn every_block_is_reported_with_its_status_reason_and_count() {
    let report = report("pain.002.001.10_blocks.xml");
    let blocks: Vec<_> = report
        .blocks
        .iter()
        .map(|b| {
            (
                b.original_payment_information_id.as_deref(),
                b.status_code.as_deref(),
                b.status,
                b.reason.as_ref().and_then(|r| r.code.as_deref()),
                b.original_count,
                b.line_count,
            )
        })
        .collect();
    assert_eq!(
        blocks,
        [
            (
                Some("WB-20261104-0007-A"),
                Some("ACSC"),
                Some(PaymentStatus::Settled),
                None,
                Some(3),
                3
            ),
            (
                Some("WB-20261104-0007-B"),
                Some("RJCT"),
                Some(PaymentStatus::Rejected),
                Some("AM04"),
                Some(2),
                0
            ),
            (
                Some("WB-20261104-0007-C"),
                Some("PART"),
                Some(PaymentStatus::PartlyAccepted),
                None,
                Some(1),
                1
            ),
        ]
    );
    let rejected = &report.blocks[1];
    assert_eq!(
        rejected
            .original_control_sum
            .map(|d| d.to_string())
            .as_deref(),
        Some("9000.00")
    );
    assert_eq!(
        rejected.reason.as_ref().and_then(|r| r.text.as_deref()),
        Some("余额不足 (insufficient funds)")
    );
}

#[test]
fn a_transaction_without_its_own_status_takes_its_blocks_status() {
    let report = report("pain.002.001.10_blocks.xml");
    let first = line(&report, "L-0001-1");
    assert_eq!(first.status, PaymentStatus::Settled);
    assert_eq!(first.status_code, "ACSC");
    assert_eq!(
        first.payment_information_id.as_deref(),
        Some("WB-20261104-0007-A")
    );
    assert_eq!(first.instruction_id.as_deref(), Some("A-1"));
    // Its own status wins over the block's.
    let closed = line(&report, "L-0003-1");
    assert_eq!(closed.status, PaymentStatus::Rejected);
    assert_eq!(reason_code(closed), Some("AC04"));
    assert_eq!(
        closed.payment_information_id.as_deref(),
        Some("WB-20261104-0007-A")
    );
}

#[test]
fn a_line_under_a_partly_accepted_block_is_unknown_not_accepted() {
    let report = report("pain.002.001.10_blocks.xml");
    let line = line(&report, "L-0006-1");
    assert_eq!(line.status_code, "PART");
    assert_eq!(line.status, PaymentStatus::Unknown);
    assert_eq!(
        line.payment_information_id.as_deref(),
        Some("WB-20261104-0007-C")
    );
}

#[test]
fn a_block_without_transactions_names_no_line_but_is_kept() {
    let report = report("pain.002.001.10_blocks.xml");
    assert_eq!(report.lines.len(), 4);
    assert!(report
        .lines
        .iter()
        .all(|l| l.payment_information_id.as_deref() != Some("WB-20261104-0007-B")));
    let block = report
        .blocks
        .iter()
        .find(|b| b.original_payment_information_id.as_deref() == Some("WB-20261104-0007-B"))
        .expect("the rejected block is reported");
    assert_eq!(block.status, Some(PaymentStatus::Rejected));
    assert_eq!(block.line_count, 0);
}

#[test]
fn version_03_lines_inherit_their_blocks_status_and_reason() {
    let report = report("pain.002.001.03_blocks.xml");
    assert_eq!(report.original_message_id, "WB-20261104-0008");
    assert_eq!(report.blocks.len(), 2);
    let settled = line(&report, "L-0101-1");
    assert_eq!(settled.status, PaymentStatus::Settled);
    assert_eq!(settled.reason, None);
    // ACCP (accepted for execution) is inherited as accepted, not settled.
    let accepted = line(&report, "L-0102-1");
    assert_eq!(accepted.status, PaymentStatus::Accepted);
    assert_eq!(accepted.status_code, "ACCP");
    for id in ["L-0103-1", "L-0104-1"] {
        let rejected = line(&report, id);
        assert_eq!(rejected.status, PaymentStatus::Rejected, "{id}");
        assert_eq!(reason_code(rejected), Some("AC01"), "{id}");
        assert_eq!(
            rejected.reason.as_ref().and_then(|r| r.text.as_deref()),
            Some("付款账号有误 (incorrect account number)")
        );
        assert_eq!(
            rejected.payment_information_id.as_deref(),
            Some("WB-20261104-0008-B")
        );
    }
    // The group reason is not taken from one of several blocks.
    assert_eq!(report.group_reason, None);
}

#[test]
fn blocks_with_different_statuses_and_no_group_status_give_no_group_status() {
    let text = std::fs::read_to_string(fixture("pain.002.001.03_blocks.xml")).expect("reads");
    let text = text.replace("      <GrpSts>PART</GrpSts>\n", "");
    let report = read_status_report(text.as_bytes()).expect("parses");
    assert_eq!(report.group_status_code, None);
    assert_eq!(report.group_status, None);
    // One block only: its status stands for the group, as before.
    let one_block = text
        .split("    <OrgnlPmtInfAndSts>")
        .take(2)
        .collect::<Vec<_>>()
        .join("    <OrgnlPmtInfAndSts>")
        + "  </CstmrPmtStsRpt>\n</Document>\n";
    let report = read_status_report(one_block.as_bytes()).expect("parses");
    assert_eq!(report.group_status_code.as_deref(), Some("ACCP"));
    assert_eq!(report.group_status, Some(PaymentStatus::Accepted));
}

#[test]
fn the_dialect_reads_blocks_too() {
    let bytes = std::fs::read(fixture("pain.002.001.10_blocks.xml")).expect("reads");
    let dialect = Dialect::Iso20022 {
        pain001: Pain001Version::V09,
    };
    let report = dialect
        .read_status_with(&bytes, &ReadOptions::default())
        .expect("reads");
    assert_eq!(report.blocks.len(), 3);
    assert_eq!(report, dialect.read_status(&bytes).expect("reads"));
}

#[test]
fn blocks_round_trip_through_the_writer_in_both_versions() {
    for (name, version) in [
        ("pain.002.001.10_blocks.xml", Pain002Version::V10),
        ("pain.002.001.03_blocks.xml", Pain002Version::V03),
    ] {
        let report = report(name);
        let xml = write_pain002(&report, version).expect("writes");
        validate_xml_with_xmllint(&xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
        assert_eq!(
            read_status_report(xml.as_bytes()).expect("reads back"),
            report,
            "{name}"
        );
    }
}

#[test]
fn lines_without_a_block_are_written_in_one_block_named_after_the_batch() {
    let mut report = report("pain.002.001.10_blocks.xml");
    report.blocks.clear();
    for line in &mut report.lines {
        line.payment_information_id = None;
    }
    let xml = write_pain002(&report, Pain002Version::V10).expect("writes");
    let again = read_status_report(xml.as_bytes()).expect("reads back");
    assert_eq!(again.blocks.len(), 1);
    assert_eq!(
        again.blocks[0].original_payment_information_id.as_deref(),
        Some("WB-20261104-0007")
    );
    assert_eq!(again.blocks[0].line_count, report.lines.len());
    assert!(again
        .lines
        .iter()
        .all(|l| l.payment_information_id.as_deref() == Some("WB-20261104-0007")));
}
