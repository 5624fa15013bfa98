//! The HTTPS transport against bank-sim's HTTPS server, over real mutual
//! TLS on loopback: the round trip, idempotent sending, refused clients,
//! 503 and time-outs as the retryable error, unusable settings.

mod bank_sim_support;

use std::time::Duration;

use bank_adapters::iso20022::read_status_report;
use bank_adapters::transport::{
    HttpsExchange, HttpsSettings, SendOutcome, Transport, TransportError,
};
use bank_sim_support::{books, collect, config, dec, now, pain001, pki, Bank, ACCOUNT};

/// The service keeps transports as `Box<dyn Transport + Send>`.
#[test]
fn the_transport_can_move_to_the_dispatcher_thread() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<HttpsExchange>();
}

#[test]
fn a_payment_goes_out_and_its_answers_come_back_archived_and_acknowledged() {
    let bank = Bank::start(&config());
    let client = bank.client();
    assert_eq!(
        client.send("WB-MSG-0001", &pain001("WB-MSG-0001")).unwrap(),
        SendOutcome::Sent
    );
    assert!(bank.sim.dir().join("to-bank/WB-MSG-0001.xml").exists());
    let summary = bank.sim.round(now()).unwrap();
    assert_eq!((summary.settled_lines, summary.rejected_lines), (2, 1));

    let receipt = client.receive().unwrap();
    let names: Vec<_> = receipt.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["SIMC530000000002.xml", "SIMP20000000001.xml"]);
    for file in &receipt.files {
        let sha = &file.sha256;
        let kept = bank.root.path().join("ours").join(&sha[..2]).join(sha);
        assert_eq!(file.archived_at, kept);
        assert_eq!(
            std::fs::read(&kept).unwrap(),
            file.bytes,
            "kept raw before returned"
        );
        assert!(!file.seen_before);
    }
    let report = read_status_report(receipt.files[1].bytes.as_slice()).unwrap();
    assert_eq!(report.original_message_id, "WB-MSG-0001");
    assert_eq!(report.group_status_code.as_deref(), Some("PART"));

    // Unacknowledged files are listed again; the same content is recognised.
    let again = client.receive().unwrap();
    assert_eq!(again.files.len(), 2);
    assert!(again.files.iter().all(|f| f.seen_before));
    for file in &again.files {
        client.confirm(file).unwrap();
    }
    assert!(client.receive().unwrap().files.is_empty());
    assert!(matches!(
        client.confirm(&again.files[0]),
        Err(TransportError::NotInInbox(_))
    ));
    assert!(bank
        .sim
        .dir()
        .join("from-bank/processed/SIMP20000000001.xml")
        .exists());
    assert_eq!(
        bank.sim.ledger().unwrap().accounts[ACCOUNT].balance,
        dec("4499.50")
    );
}

#[test]
fn the_same_id_again_is_already_sent_and_other_bytes_a_conflict() {
    let bank = Bank::start(&config());
    let client = bank.client();
    let xml = pain001("WB-MSG-0002");
    assert_eq!(client.send("WB-MSG-0002", &xml).unwrap(), SendOutcome::Sent);
    assert_eq!(
        client.send("WB-MSG-0002", &xml).unwrap(),
        SendOutcome::AlreadySent
    );
    bank.sim.round(now()).unwrap();
    // Still recognised after the bank executed it and moved it away.
    assert_eq!(
        client.send("WB-MSG-0002", &xml).unwrap(),
        SendOutcome::AlreadySent
    );
    assert!(matches!(
        client.send("WB-MSG-0002", b"<other/>"),
        Err(TransportError::Conflict { message_id }) if message_id == "WB-MSG-0002"
    ));
    assert!(matches!(
        client.send("../etc", &xml),
        Err(TransportError::BadMessageId(_))
    ));
    bank.sim.round(now()).unwrap();
    let ledger = bank.sim.ledger().unwrap();
    assert_eq!(ledger.executed.len(), 1);
    assert_eq!(
        ledger.bookings.len(),
        4,
        "two lines, each a debit and a credit, once"
    );
}

#[test]
fn a_client_without_a_certificate_or_from_another_ca_is_refused() {
    let bank = Bank::start(&config());
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&bank.pki.ca).unwrap()).unwrap();
    let anonymous = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let refused = anonymous.get(format!("{}/files", bank.url())).send();
    assert!(refused.is_err(), "no certificate, no answer: {refused:?}");

    let stranger = pki(bank.root.path(), "stranger");
    let settings = HttpsSettings {
        client_certificate: stranger.client_cert.clone(),
        client_key: stranger.client_key.clone(),
        ..bank.settings(Duration::from_secs(5))
    };
    let foreign = HttpsExchange::new(settings, bank.root.path().join("x")).unwrap();
    match foreign.send("WB-MSG-0003", &pain001("WB-MSG-0003")) {
        Err(TransportError::Unavailable { reason, .. }) => {
            assert!(!reason.is_empty());
        }
        other => panic!("a stranger's certificate must be refused: {other:?}"),
    }
    assert!(!bank.sim.dir().join("to-bank/WB-MSG-0003.xml").exists());

    // Nor do we talk to a server our CA did not issue.
    let settings = HttpsSettings {
        ca_certificate: stranger.ca.clone(),
        ..bank.settings(Duration::from_secs(5))
    };
    let fooled = HttpsExchange::new(settings, bank.root.path().join("y")).unwrap();
    assert!(matches!(
        fooled.receive(),
        Err(TransportError::Unavailable { .. })
    ));
}

#[test]
fn answers_503_are_retryable_and_the_bank_took_nothing() {
    let bank = Bank::start(&config());
    let client = bank.client();
    bank.set_faults(serde_json::json!({ "fail_next_n": 2 }));
    let xml = pain001("WB-MSG-0004");
    for _ in 0..2 {
        match client.send("WB-MSG-0004", &xml) {
            Err(TransportError::Unavailable { reason, .. }) => assert!(reason.contains("503")),
            other => panic!("503 expected: {other:?}"),
        }
    }
    assert_eq!(client.send("WB-MSG-0004", &xml).unwrap(), SendOutcome::Sent);
}

#[test]
fn a_time_out_is_retryable_and_the_retry_finds_the_message_taken() {
    let bank = Bank::start(&config());
    bank.set_faults(serde_json::json!({ "timeout_ms": 3000 }));
    let impatient = HttpsExchange::new(
        bank.settings(Duration::from_millis(300)),
        bank.root.path().join("ours"),
    )
    .unwrap();
    let xml = pain001("WB-MSG-0005");
    match impatient.send("WB-MSG-0005", &xml) {
        Err(TransportError::Unavailable { reason, .. }) => {
            assert!(reason.contains("timed out"), "{reason}")
        }
        other => panic!("a time-out expected: {other:?}"),
    }
    bank.set_faults(serde_json::json!({}));
    assert_eq!(
        impatient.send("WB-MSG-0005", &xml).unwrap(),
        SendOutcome::AlreadySent
    );
    bank.sim.round(now()).unwrap();
    assert_eq!(collect(&impatient).len(), 2);
}

#[test]
fn unusable_settings_name_the_file_and_never_show_its_contents() {
    let bank = Bank::start(&config());
    let archive = bank.root.path().join("ours");
    let missing = bank.root.path().join("missing.pem");
    let settings = HttpsSettings {
        client_certificate: missing.clone(),
        ..bank.settings(Duration::from_secs(1))
    };
    let error = HttpsExchange::new(settings, &archive)
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing.pem"), "{error}");

    let not_pem = bank.root.path().join("not-pem.key");
    std::fs::write(&not_pem, "secret-password-1234").unwrap();
    let settings = HttpsSettings {
        client_key: not_pem,
        ..bank.settings(Duration::from_secs(1))
    };
    let error = HttpsExchange::new(settings, &archive)
        .unwrap_err()
        .to_string();
    assert!(error.contains("not-pem.key"), "{error}");
    assert!(!error.contains("secret-password"), "{error}");

    let settings = HttpsSettings {
        ca_certificate: bank.pki.client_key.clone(),
        ..bank.settings(Duration::from_secs(1))
    };
    let error = HttpsExchange::new(settings, &archive)
        .unwrap_err()
        .to_string();
    assert!(error.contains("bank-client.key"), "{error}");
    assert!(!error.contains("PRIVATE"), "{error}");

    let plain = HttpsSettings {
        url: format!("http://127.0.0.1:{}", bank.running.https.unwrap().port()),
        ..bank.settings(Duration::from_secs(1))
    };
    assert!(matches!(
        HttpsExchange::new(plain, &archive),
        Err(TransportError::Setup { .. })
    ));
}

#[test]
fn a_file_over_the_limit_is_refused_and_left_at_the_bank() {
    let bank = Bank::start(&config());
    let client = bank.client().with_max_file_bytes(100);
    client.send("WB-MSG-0006", &pain001("WB-MSG-0006")).unwrap();
    bank.sim.round(now()).unwrap();
    let receipt = client.receive().unwrap();
    assert!(receipt.files.is_empty());
    assert_eq!(receipt.refused.len(), 2);
    assert!(receipt.refused[0].reason.contains("100 bytes"));
    assert_eq!(
        bank.sim.waiting_files().unwrap().len(),
        2,
        "not acknowledged"
    );
}

#[test]
fn the_admin_api_credits_debits_shows_the_ledger_and_runs_a_round() {
    let bank = Bank::start(&config());
    let http = reqwest::blocking::Client::new();
    let credit = http
        .post(bank.admin(&format!("/accounts/{ACCOUNT}/credit")))
        .json(&serde_json::json!({"amount": "800.00", "from": "6200000000001", "from_name": "建设单位"}))
        .send()
        .unwrap();
    assert_eq!(credit.status(), 201);
    let too_much = http
        .post(bank.admin(&format!("/accounts/{ACCOUNT}/debit")))
        .json(&serde_json::json!({"amount": "99999.00", "to": "6200000000009"}))
        .send()
        .unwrap();
    assert_eq!(too_much.status(), 422);
    let error: serde_json::Value = too_much.json().unwrap();
    let text = error["error"].as_str().unwrap();
    assert!(
        text.contains("余额不足") && text.contains("****2345"),
        "{text}"
    );
    assert!(!text.contains(ACCOUNT), "masked: {text}");
    let unknown = http
        .post(bank.admin("/accounts/999/credit"))
        .json(&serde_json::json!({"amount": "1.00", "from": "1"}))
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 422);

    let round: serde_json::Value = http
        .post(bank.admin("/round"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(round["statements"], 1);
    let ledger: serde_json::Value = http
        .get(bank.admin("/ledger"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ledger["accounts"][ACCOUNT]["balance"], "10800.00");

    bank.set_faults(serde_json::json!({"hold_rounds": 1, "duplicate_status": true}));
    let faults: serde_json::Value = http
        .get(bank.admin("/faults"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(faults["faults"]["hold_rounds"], 1);
    assert_eq!(faults["faults"]["duplicate_status"], true);
    assert_eq!(faults["closed_cards"][0], bank_sim_support::CLOSED_CARD);
    let typo = http
        .put(bank.admin("/faults"))
        .json(&serde_json::json!({"faults": {"lose_answers": true}}))
        .send()
        .unwrap();
    assert_eq!(
        typo.status(),
        400,
        "an unknown fault is refused, not ignored"
    );
    let config = bank_adapters::sim::Config::load(bank.sim.dir()).unwrap();
    assert_eq!(config.accounts.len(), 1, "the accounts stay");
    assert!(config.faults.duplicate_status);
}

/// Reads the child's stderr until it printed both addresses.
fn addresses(stderr: std::process::ChildStderr) -> (String, String) {
    use std::io::BufRead;
    let (mut https, mut admin) = (None, None);
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("bank-sim: HTTPS on ") {
            https = Some(url.to_owned());
        } else if let Some(url) = line.strip_prefix("bank-sim: admin API on ") {
            admin = Some(url.to_owned());
        }
        if let (Some(https), Some(admin)) = (&https, &admin) {
            return (https.clone(), admin.clone());
        }
    }
    panic!("bank-sim ended before it listened");
}

#[test]
fn the_bank_sim_binary_serves_https_and_its_admin_api() {
    let root = tempfile::tempdir().unwrap();
    let pki = pki(root.path(), "bin");
    let dir = root.path().join("bank");
    config().save(&dir).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bank-sim"))
        .arg("--dir")
        .arg(&dir)
        .args(["--https", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&pki.server_cert)
        .arg("--tls-key")
        .arg(&pki.server_key)
        .arg("--client-ca")
        .arg(&pki.ca)
        // Rounds only when asked (POST /round), so the test decides when.
        .args(["--interval-ms", "86400000"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (https, admin) = addresses(child.stderr.take().unwrap());
    let settings = HttpsSettings {
        url: https,
        client_certificate: pki.client_cert.clone(),
        client_key: pki.client_key.clone(),
        ca_certificate: pki.ca.clone(),
        timeout: Duration::from_secs(10),
    };
    let client = HttpsExchange::new(settings, root.path().join("ours")).unwrap();
    let sent = client.send("WB-MSG-0007", &pain001("WB-MSG-0007"));
    let round = reqwest::blocking::Client::new()
        .post(format!("{admin}/round"))
        .send()
        .and_then(|r| r.json::<serde_json::Value>());
    let files = client.receive().map(|r| r.files.len());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(sent.unwrap(), SendOutcome::Sent);
    assert_eq!(round.unwrap()["executed_messages"], 1);
    assert_eq!(files.unwrap(), 2);
}

#[test]
fn a_list_too_long_or_with_a_name_that_is_no_plain_file_name_is_a_protocol_error() {
    let bank = Bank::start(&config());
    let from_bank = bank.sim.dir().join("from-bank");
    std::fs::write(from_bank.join("a.xml"), b"<a/>").unwrap();
    std::fs::write(from_bank.join("b.xml"), b"<b/>").unwrap();
    let short = bank.client().with_max_list_len(1);
    match short.receive() {
        Err(TransportError::Protocol { reason, .. }) => {
            assert!(reason.contains("limit 1"), "{reason}")
        }
        other => panic!("a protocol error expected: {other:?}"),
    }
    assert_eq!(bank.client().receive().unwrap().files.len(), 2);
    std::fs::write(from_bank.join("c d.xml"), b"<c/>").unwrap();
    match bank.client().receive() {
        Err(TransportError::Protocol { reason, .. }) => {
            assert!(reason.contains("c d.xml"), "{reason}")
        }
        other => panic!("a protocol error expected: {other:?}"),
    }
}

/// Sends until the bank answers (what the dispatcher does with
/// `Unavailable`), at most ten times.
fn send_until_answered(client: &HttpsExchange, id: &str) -> SendOutcome {
    for _ in 0..10 {
        match client.send(id, &pain001(id)) {
            Err(TransportError::Unavailable { .. }) => continue,
            other => return other.unwrap(),
        }
    }
    panic!("{id}: the bank never answered");
}

#[test]
fn the_ledger_after_503s_time_outs_and_resends_equals_the_ledger_without_them() {
    let ids = ["WB-MSG-0301", "WB-MSG-0302"];
    let clean = Bank::start(&config());
    for id in ids {
        assert_eq!(send_until_answered(&clean.client(), id), SendOutcome::Sent);
    }
    clean.sim.round(now()).unwrap();
    collect(&clean.client());

    let faulty = Bank::start(&config());
    let impatient = HttpsExchange::new(
        faulty.settings(Duration::from_millis(300)),
        faulty.root.path().join("ours"),
    )
    .unwrap();
    faulty.set_faults(serde_json::json!({ "fail_next_n": 3 }));
    assert_eq!(send_until_answered(&impatient, ids[0]), SendOutcome::Sent);
    faulty.set_faults(serde_json::json!({ "timeout_ms": 2000 }));
    assert!(matches!(
        impatient.send(ids[1], &pain001(ids[1])),
        Err(TransportError::Unavailable { .. })
    ));
    faulty.set_faults(serde_json::json!({}));
    assert_eq!(
        send_until_answered(&impatient, ids[1]),
        SendOutcome::AlreadySent
    );
    faulty.sim.round(now()).unwrap();
    collect(&impatient);
    // A dispatcher that lost its own record resends everything.
    for id in ids {
        assert_eq!(
            send_until_answered(&impatient, id),
            SendOutcome::AlreadySent
        );
    }
    faulty.sim.round(now()).unwrap();
    assert!(collect(&impatient).is_empty(), "nothing new to say");

    let (clean_ledger, faulty_ledger) = (clean.sim.ledger().unwrap(), faulty.sim.ledger().unwrap());
    assert_eq!(books(&faulty_ledger), books(&clean_ledger));
    assert_eq!(faulty_ledger.executed.len(), 2);
}
