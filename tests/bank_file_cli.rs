//! `wagebridge bank-file inspect` and `validate`, as an integration engineer runs them.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");

fn samples() -> PathBuf {
    std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
        .join("iso20022/samples")
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wagebridge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_prints_a_statement_with_balances_counts_and_totals() {
    let file = samples().join("camt.053.001.02__genkgo__camt053.v2.multi.statement.xml");
    let (ok, stdout, stderr) = run(&["bank-file", "inspect", file.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(json["dialect"], "iso20022");
    assert_eq!(json["message"], "camt.053.001.02");
    let statements = json["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    let s = &statements[0];
    assert_eq!(s["account"], "NL26VAYB8060476890");
    assert_eq!(s["opening_balance"], "18.15");
    assert_eq!(s["closing_balance"], "27.00");
    assert_eq!(s["entry_count"], 1);
    assert_eq!(s["total_credits"], "8.85");
    assert_eq!(s["total_debits"], "0.00");
    assert_eq!(s["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn inspect_prints_a_status_report_line_by_line() {
    let file = samples().join("pain.002.001.03__corporatejs__rejected-payment-material-2.xml");
    let (ok, stdout, stderr) = run(&["bank-file", "inspect", file.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["message"], "pain.002.001.03");
    assert_eq!(json["original_message_id"], "1547478597597");
    assert_eq!(json["lines"][0]["end_to_end_id"], "1547478597597-G-1-P-1");
    assert_eq!(json["lines"][0]["status_code"], "RJCT");
    assert!(json["lines"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("AM01"));
}

#[test]
fn inspect_and_validate_fail_clearly_on_files_they_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.xml");
    std::fs::write(&garbage, "not xml at all").unwrap();
    let (ok, stdout, stderr) = run(&["bank-file", "inspect", garbage.to_str().unwrap()]);
    assert!(!ok && stdout.is_empty());
    assert!(stderr.contains("line 1"), "the error says where: {stderr}");

    let bomb = dir.path().join("bomb.xml");
    std::fs::write(
        &bomb,
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><Document>&lol;</Document>",
    )
    .unwrap();
    let (ok, _, stderr) = run(&["bank-file", "inspect", bomb.to_str().unwrap()]);
    assert!(!ok && stderr.contains("refused"), "{stderr}");

    let (ok, _, stderr) = run(&["bank-file", "inspect", "/nonexistent/file.xml"]);
    assert!(!ok && stderr.contains("/nonexistent/file.xml"), "{stderr}");
}

#[test]
fn validate_says_valid_or_where_it_fails() {
    let good = samples().join("camt.053.001.08__genkgo__camt053.v8.xml");
    let (ok, stdout, stderr) = run(&["bank-file", "validate", good.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("valid"));

    // This real sample has an empty <Id> on line 17: the schema says at least one character.
    let bad = samples().join("camt.053.001.02__corporatejs__op_statement.xml");
    let (ok, _, stderr) = run(&["bank-file", "validate", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains(":17:") && stderr.contains("minLength"),
        "{stderr}"
    );
}
