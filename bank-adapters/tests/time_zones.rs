//! Date-times written without an offset (ISO 20022's local form
//! `2026-11-05T10:15:00`, ICBC's `TranDate`+`TranTime` and history
//! `Date`+`Time`) are read at the connection's UTC offset (+08:00 unless the
//! caller says otherwise), never as UTC; a date-time with an offset or `Z`
//! is read as written. The boundary cases: 07:30 local on the 5th is 23:30
//! UTC on the 4th, 00:30 local is 16:30 UTC the day before; 23:30 local is
//! still the same day in UTC (15:30).

use std::path::{Path, PathBuf};

use bank_adapters::cn_icbc::{self, IcbcConnection};
use bank_adapters::dialect::{BankCodec, Dialect, ReadOptions};
use bank_adapters::iso20022::{
    read_cash_message, read_cash_message_with, read_status_report, read_status_report_with,
    Pain001Version,
};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn icbc_sample(name: &str) -> Vec<u8> {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let path = shared.join("cn-bank/samples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn offset_hours(hours: i32) -> ReadOptions {
    ReadOptions::at_offset(FixedOffset::east_opt(hours * 3600).unwrap())
}

/// Replaces an ASCII value in a (GBK) file, leaving every other byte alone.
fn replace_ascii(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} is in the file"));
    [&bytes[..at], to.as_bytes(), &bytes[at + from.len()..]].concat()
}

#[test]
fn default_offset_is_beijing_time() {
    assert_eq!(
        ReadOptions::default().utc_offset,
        FixedOffset::east_opt(8 * 3600).unwrap()
    );
}

#[test]
fn iso_time_without_offset_is_read_at_the_given_offset() {
    let bytes = fixture("pain.002.001.10_blocks.xml"); // CreDtTm 2026-11-05T10:15:00
    let beijing = read_status_report(bytes.as_slice()).unwrap();
    assert_eq!(beijing.created_at, Some(utc(2026, 11, 5, 2, 15, 0)));
    let as_utc = read_status_report_with(bytes.as_slice(), &ReadOptions::utc()).unwrap();
    assert_eq!(as_utc.created_at, Some(utc(2026, 11, 5, 10, 15, 0)));
    let zurich = read_status_report_with(bytes.as_slice(), &offset_hours(1)).unwrap();
    assert_eq!(zurich.created_at, Some(utc(2026, 11, 5, 9, 15, 0)));
}

#[test]
fn iso_time_with_an_offset_is_read_as_written_whatever_the_options() {
    let bytes = fixture("pain.002.001.03_blocks.xml"); // CreDtTm 2026-11-05T23:30:00+08:00
    for options in [ReadOptions::default(), ReadOptions::utc(), offset_hours(-5)] {
        let report = read_status_report_with(bytes.as_slice(), &options).unwrap();
        assert_eq!(report.created_at, Some(utc(2026, 11, 5, 15, 30, 0)));
    }
}

#[test]
fn early_morning_local_booking_is_the_previous_day_in_utc() {
    let message = read_cash_message(fixture("camt.053.001.08_batches.xml").as_slice()).unwrap();
    let statement = &message.statements[0];
    // FrDtTm 2026-11-05T00:00:00 (local): 16:00 UTC on the 4th.
    assert_eq!(statement.from, Some(utc(2026, 11, 4, 16, 0, 0)));
    // ToDtTm 2026-11-05T23:59:59+08:00 is read as written.
    assert_eq!(statement.to, Some(utc(2026, 11, 5, 15, 59, 59)));
    // CreDtTm 2026-11-05T23:30:00 (local): the same day in UTC.
    assert_eq!(statement.created_at, Some(utc(2026, 11, 5, 15, 30, 0)));
    let early = &statement.entries[0]; // BookgDt/DtTm 2026-11-05T07:30:00
    assert_eq!(early.booked_at, Some(utc(2026, 11, 4, 23, 30, 0)));
    // The booking date is the bank's own day, as written.
    assert_eq!(early.booking_date, Some(day(2026, 11, 5)));
    let late = &statement.entries[1]; // 2026-11-05T23:30:00+08:00
    assert_eq!(late.booked_at, Some(utc(2026, 11, 5, 15, 30, 0)));
    // A booking date without time has no instant.
    assert_eq!(statement.entries[2].booked_at, None);
}

#[test]
fn the_same_statement_read_as_utc_moves_only_the_offsetless_times() {
    let bytes = fixture("camt.053.001.08_batches.xml");
    let message = read_cash_message_with(bytes.as_slice(), &ReadOptions::utc()).unwrap();
    let statement = &message.statements[0];
    assert_eq!(statement.from, Some(utc(2026, 11, 5, 0, 0, 0)));
    assert_eq!(statement.to, Some(utc(2026, 11, 5, 15, 59, 59)));
    assert_eq!(
        statement.entries[0].booked_at,
        Some(utc(2026, 11, 5, 7, 30, 0))
    );
    assert_eq!(
        statement.entries[1].booked_at,
        Some(utc(2026, 11, 5, 15, 30, 0))
    );
}

#[test]
fn dialect_and_codec_take_the_connections_offset() {
    let bytes = fixture("camt.053.001.08_batches.xml");
    let dialect = Dialect::Iso20022 {
        pain001: Pain001Version::V09,
    };
    let default = dialect.read_statements(&bytes).unwrap();
    let with_default = dialect
        .read_statements_with(&bytes, &ReadOptions::default())
        .unwrap();
    assert_eq!(default, with_default);
    let codec = BankCodec::plain(dialect);
    let as_utc = codec
        .decode_statements_with(bytes.clone(), &ReadOptions::utc())
        .unwrap();
    assert_eq!(
        as_utc[0].entries[0].booked_at,
        Some(utc(2026, 11, 5, 7, 30, 0))
    );
    let status = codec
        .decode_status_with(fixture("pain.002.001.10_blocks.xml"), &ReadOptions::utc())
        .unwrap();
    assert_eq!(status.created_at, Some(utc(2026, 11, 5, 10, 15, 0)));
}

#[test]
fn icbc_package_time_is_beijing_time_unless_told_otherwise() {
    // TranDate 20200702, TranTime 115323989.
    let bytes = icbc_sample("icbc.QPAYPER.response__york-young-NC.xml");
    let at = utc(2020, 7, 2, 3, 53, 23) + chrono::Duration::milliseconds(989);
    assert_eq!(cn_icbc::read_qpayper(&bytes).unwrap().created_at, Some(at));
    let as_utc = cn_icbc::read_qpayper_with(&bytes, &ReadOptions::utc()).unwrap();
    assert_eq!(as_utc.created_at, Some(at + chrono::Duration::hours(8)));
}

#[test]
fn icbc_history_row_time_is_read_at_the_offset() {
    let name = "icbc.QHISD.response__JackLijm-springmvcdemo-template-reconstructed.xml";
    let bytes = icbc_sample(name);
    let statement = cn_icbc::read_qhisd(&bytes).unwrap();
    // Time 2020-09-18-09.12.30.123456 (Beijing).
    let first = &statement.entries[0];
    assert_eq!(
        first.booked_at,
        Some(utc(2020, 9, 18, 1, 12, 30) + chrono::Duration::microseconds(123_456))
    );
    // BeginDate 20200901 starts at Beijing midnight: 16:00 UTC the day before.
    assert_eq!(statement.from, Some(utc(2020, 8, 31, 16, 0, 0)));

    // 00:30 in Beijing is the previous day in UTC; the booking date stays the bank's.
    let just_after_midnight = replace_ascii(
        &bytes,
        "2020-09-18-09.12.30.123456",
        "2020-09-18-00.30.00.000000",
    );
    let statement = cn_icbc::read_qhisd(&just_after_midnight).unwrap();
    assert_eq!(
        statement.entries[0].booked_at,
        Some(utc(2020, 9, 17, 16, 30, 0))
    );
    assert_eq!(statement.entries[0].booking_date, Some(day(2020, 9, 18)));

    let as_utc = cn_icbc::read_qhisd_with(&just_after_midnight, &ReadOptions::utc()).unwrap();
    assert_eq!(
        as_utc.entries[0].booked_at,
        Some(utc(2020, 9, 18, 0, 30, 0))
    );
    assert_eq!(as_utc.from, Some(utc(2020, 9, 1, 0, 0, 0)));
}

#[test]
fn icbc_dialect_reads_history_at_the_connections_offset() {
    let name = "icbc.QHISD.response__JackLijm-springmvcdemo-template-reconstructed.xml";
    let bytes = icbc_sample(name);
    let dialect = Dialect::IcbcCms(IcbcConnection::new("190190001488331", "test.y.1901"));
    let statements = dialect
        .read_statements_with(&bytes, &offset_hours(0))
        .unwrap();
    assert_eq!(
        statements[0].entries[1].booked_at,
        Some(utc(2020, 9, 21, 10, 30, 20) + chrono::Duration::microseconds(654_321))
    );
}

#[test]
fn an_icbc_row_time_that_is_no_time_is_refused_with_its_field() {
    let name = "icbc.QHISD.response__JackLijm-springmvcdemo-template-reconstructed.xml";
    let bytes = replace_ascii(
        &icbc_sample(name),
        "2020-09-18-09.12.30.123456",
        "2020-09-18-25.12.30.123456",
    );
    let error = cn_icbc::read_qhisd(&bytes).unwrap_err().to_string();
    assert!(error.contains("Time"), "{error}");
}
