//! Bank connections: how wagebridge talks to each bank (its dialect, its
//! transport, the bank codes that name it), set by `PUT
//! /v1/bank-connections/{bank_uscc}` and `wagebridge bank add`, and how a
//! wage account finds the connection its money moves through.
//!
//! Key files are referenced by path and checked to be readable PEM; their
//! contents are never stored or answered.

use std::path::Path;

use bank_adapters::dialect::Dialect;
use chrono::{DateTime, Utc};
use diesel::{Connection as _, PgConnection};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::OrgKind;
use crate::banking::config::TransportConfig;
use crate::db::bank_connections::{self as rows, BankConnection, ConnectionSettings};
use crate::db::projects::WageAccount;
use crate::db::{self, audit};
use crate::error::{AppError, ErrorCode};
use crate::registry::projects::registered;

/// China's offset, the default for date-times a bank writes without one.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 480;
/// The most bank codes one connection may carry.
pub const MAX_BANK_CODES: usize = 50;

/// The body of `PUT /v1/bank-connections/{bank_uscc}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutConnection {
    /// `{"dialect":"iso20022","pain001_version":"09"}` or
    /// `{"dialect":"icbc_cms","cis":"…","id":"…"}`.
    #[schema(value_type = Object)]
    pub dialect: serde_json::Value,
    /// `{"kind":"file_exchange","outbox":DIR,"inbox":DIR}` or
    /// `{"kind":"https","url":"https://…","client_certificate":F,"client_key":F,"ca_certificate":F}`.
    #[schema(value_type = Object)]
    pub transport: serde_json::Value,
    /// The wage accounts' bank codes this connection serves (e.g. `["102"]`).
    pub bank_codes: Vec<String>,
    /// Offset of date-times the bank writes without one (default 480, UTC+8).
    pub utc_offset_minutes: Option<i32>,
}

/// A connection as answered: settings and paths, never a key's content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionView {
    pub id: i64,
    pub bank_uscc: String,
    pub bank_name: String,
    #[schema(value_type = Object)]
    pub dialect: serde_json::Value,
    #[schema(value_type = Object)]
    pub transport: serde_json::Value,
    pub bank_codes: Vec<String>,
    pub utc_offset_minutes: i32,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A connection, read for use: its parsed settings.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: i64,
    pub bank_id: i64,
    pub dialect: Dialect,
    pub transport: TransportConfig,
    pub utc_offset_minutes: i32,
}

/// Checked settings, ready to store.
struct Checked {
    dialect: serde_json::Value,
    transport: serde_json::Value,
    codes: Vec<String>,
    utc_offset_minutes: i32,
}

fn invalid(field: &str, reason: impl Into<String>) -> AppError {
    AppError::field(field, ErrorCode::BankConnectionInvalid, reason)
}

/// The dialect, read strictly: a key the dialect does not know (a typo of
/// `pain001_version`) is refused rather than silently defaulted.
pub fn parse_dialect(value: &serde_json::Value) -> Result<Dialect, AppError> {
    let dialect: Dialect = serde_json::from_value(value.clone()).map_err(|e| {
        invalid(
            "dialect",
            format!("银行报文格式无法读取 (dialect cannot be read): {e}"),
        )
    })?;
    let known =
        serde_json::to_value(&dialect).map_err(|_| AppError::Invariant("a dialect serialises"))?;
    if let (Some(given), Some(known)) = (value.as_object(), known.as_object()) {
        if let Some(unknown) = given.keys().find(|k| !known.contains_key(*k)) {
            return Err(invalid(
                &format!("dialect.{unknown}"),
                format!("未知字段 {unknown} (unknown field)"),
            ));
        }
    }
    Ok(dialect)
}

fn parse_transport(value: &serde_json::Value) -> Result<TransportConfig, AppError> {
    serde_json::from_value(value.clone()).map_err(|e| {
        invalid(
            "transport",
            format!("传输配置无法读取 (transport cannot be read): {e}"),
        )
    })
}

/// Checks that the transport can be used: directories made, files readable PEM.
fn check_transport(transport: &TransportConfig) -> Result<(), AppError> {
    match transport {
        TransportConfig::FileExchange { outbox, inbox } => {
            for (field, dir) in [("transport.outbox", outbox), ("transport.inbox", inbox)] {
                if dir.as_os_str().is_empty() {
                    return Err(invalid(field, "目录不能为空 (the directory is empty)"));
                }
                std::fs::create_dir_all(dir).map_err(|e| {
                    invalid(
                        field,
                        format!("无法创建目录 {} (cannot create it): {e}", dir.display()),
                    )
                })?;
            }
            Ok(())
        }
        TransportConfig::Https {
            url,
            client_certificate,
            client_key,
            ca_certificate,
            timeout_ms,
        } => {
            if *timeout_ms == 0 || *timeout_ms > 600_000 {
                return Err(invalid(
                    "transport.timeout_ms",
                    "超时须在 1 毫秒到 10 分钟之间 (the time-out must be 1 ms to 10 minutes)",
                ));
            }
            if !url.starts_with("https://") || url.len() <= "https://".len() {
                return Err(invalid(
                    "transport.url",
                    "地址必须以 https:// 开头 (the URL must be https://)",
                ));
            }
            check_certificates("transport.client_certificate", client_certificate)?;
            check_key("transport.client_key", client_key)?;
            check_certificates("transport.ca_certificate", ca_certificate)
        }
    }
}

fn readable(field: &str, path: &Path) -> Result<(), AppError> {
    std::fs::File::open(path).map(drop).map_err(|e| {
        invalid(
            field,
            format!("无法读取文件 {} (cannot read it): {e}", path.display()),
        )
    })
}

fn check_certificates(field: &str, path: &Path) -> Result<(), AppError> {
    readable(field, path)?;
    let certificates: Result<Vec<CertificateDer>, _> =
        CertificateDer::pem_file_iter(path).and_then(|iter| iter.collect());
    match certificates {
        Ok(certificates) if !certificates.is_empty() => Ok(()),
        Ok(_) => Err(invalid(
            field,
            format!(
                "{} 中没有 PEM 证书 (no PEM certificate in it)",
                path.display()
            ),
        )),
        Err(e) => Err(invalid(
            field,
            format!(
                "{} 不是 PEM 证书 (not a PEM certificate): {e}",
                path.display()
            ),
        )),
    }
}

fn check_key(field: &str, path: &Path) -> Result<(), AppError> {
    readable(field, path)?;
    PrivateKeyDer::from_pem_file(path).map(drop).map_err(|e| {
        invalid(
            field,
            format!(
                "{} 中没有 PEM 私钥 (no PEM private key in it): {e}",
                path.display()
            ),
        )
    })
}

fn check_codes(codes: &[String]) -> Result<Vec<String>, AppError> {
    if codes.is_empty() {
        return Err(AppError::field(
            "bank_codes",
            ErrorCode::MissingField,
            "至少需要一个银行代码 (at least one bank code)",
        ));
    }
    if codes.len() > MAX_BANK_CODES {
        return Err(AppError::field(
            "bank_codes",
            ErrorCode::TooLong,
            format!("最多 {MAX_BANK_CODES} 个银行代码 (at most {MAX_BANK_CODES} bank codes)"),
        ));
    }
    let mut checked = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let code = code.trim();
        if code.is_empty() || code.len() > 40 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(AppError::field(
                format!("bank_codes[{i}]"),
                ErrorCode::InvalidFormat,
                "银行代码为 1–40 位字母或数字 (1–40 letters or digits)",
            ));
        }
        checked.push(code.to_owned());
    }
    checked.sort();
    checked.dedup();
    Ok(checked)
}

fn check(input: &PutConnection) -> Result<Checked, AppError> {
    parse_dialect(&input.dialect)?;
    let transport = parse_transport(&input.transport)?;
    check_transport(&transport)?;
    let codes = check_codes(&input.bank_codes)?;
    let utc_offset_minutes = input
        .utc_offset_minutes
        .unwrap_or(DEFAULT_UTC_OFFSET_MINUTES);
    if !(-720..=840).contains(&utc_offset_minutes) {
        return Err(AppError::field(
            "utc_offset_minutes",
            ErrorCode::OutOfRange,
            "时差须在 -720 到 840 分钟之间 (between -720 and 840)",
        ));
    }
    Ok(Checked {
        // Stored as parsed, so what is read back is what the code understood.
        dialect: input.dialect.clone(),
        transport: serde_json::to_value(&transport)
            .map_err(|_| AppError::Invariant("a transport serialises"))?,
        codes,
        utc_offset_minutes,
    })
}

/// What a PUT did: the stored connection and whether it is new.
#[derive(Debug)]
pub struct PutOutcome {
    pub view: ConnectionView,
    pub created: bool,
}

/// Creates or replaces the bank's connection, in one transaction, with an
/// audit row. The checks on files and directories run before it.
pub fn put(
    conn: &mut PgConnection,
    bank_uscc: &str,
    actor: Option<i64>,
    input: &PutConnection,
    now: DateTime<Utc>,
) -> Result<PutOutcome, AppError> {
    let checked = check(input)?;
    conn.transaction(|conn| {
        let bank = registered(conn, bank_uscc, OrgKind::Bank, "bank_uscc")?;
        let settings = ConnectionSettings {
            dialect: &checked.dialect,
            transport: &checked.transport,
            utc_offset_minutes: checked.utc_offset_minutes,
        };
        let (stored, created) = rows::upsert(conn, bank.id, &settings, now)?;
        if let Some(code) = rows::taken_code(conn, stored.id, &checked.codes)? {
            return Err(code_taken(&code));
        }
        rows::replace_codes(conn, stored.id, &checked.codes)?;
        // A code claimed by another PUT meanwhile was skipped by the insert.
        if let Some(code) = rows::taken_code(conn, stored.id, &checked.codes)? {
            return Err(code_taken(&code));
        }
        audit::record(
            conn,
            now,
            actor,
            "bank_connection",
            Some(stored.id),
            if created { "created" } else { "replaced" },
            serde_json::json!({
                "bank_uscc": bank.uscc,
                "revision": stored.revision,
                "dialect": stored.dialect,
                "transport": stored.transport,
                "bank_codes": checked.codes,
                "utc_offset_minutes": stored.utc_offset_minutes,
            }),
        )?;
        Ok(PutOutcome {
            view: view_of(stored, &bank, checked.codes.clone()),
            created,
        })
    })
}

fn code_taken(code: &str) -> AppError {
    AppError::field(
        "bank_codes",
        ErrorCode::BankCodeTaken,
        format!("银行代码 {code} 已属于另一银行的连接 (already another bank's connection)"),
    )
}

fn view_of(
    stored: BankConnection,
    bank: &db::organizations::Organization,
    codes: Vec<String>,
) -> ConnectionView {
    ConnectionView {
        id: stored.id,
        bank_uscc: bank.uscc.clone(),
        bank_name: bank.name.clone(),
        dialect: stored.dialect,
        transport: stored.transport,
        bank_codes: codes,
        utc_offset_minutes: stored.utc_offset_minutes,
        revision: stored.revision,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}

/// The bank's connection; 404 when the bank or its connection is unknown.
pub fn get(conn: &mut PgConnection, bank_uscc: &str) -> Result<ConnectionView, AppError> {
    let not_found = || AppError::not_found("a connection of this bank");
    let bank = db::organizations::find_by_uscc(conn, bank_uscc)?
        .filter(|o| o.kind() == OrgKind::Bank)
        .ok_or_else(not_found)?;
    let stored = rows::of_bank(conn, bank.id)?.ok_or_else(not_found)?;
    let codes = rows::codes(conn, stored.id)?;
    Ok(view_of(stored, &bank, codes))
}

/// Reads a stored connection's settings for use.
pub fn parsed(stored: BankConnection) -> Result<Connection, AppError> {
    let dialect = serde_json::from_value(stored.dialect)
        .map_err(|_| AppError::Invariant("a stored dialect reads back"))?;
    let transport = serde_json::from_value(stored.transport)
        .map_err(|_| AppError::Invariant("a stored transport reads back"))?;
    Ok(Connection {
        id: stored.id,
        bank_id: stored.bank_id,
        dialect,
        transport,
        utc_offset_minutes: stored.utc_offset_minutes,
    })
}

/// The connection a wage account's money moves through, by its bank code;
/// 409 BANK_NOT_CONNECTED when the bank has none.
pub fn for_wage_account(
    conn: &mut PgConnection,
    wage_account: &WageAccount,
) -> Result<Connection, AppError> {
    match rows::for_bank_code(conn, &wage_account.bank_code)? {
        Some(stored) => parsed(stored),
        None => Err(AppError::new(
            ErrorCode::BankNotConnected,
            format!(
                "专用账户的开户银行 (银行代码 {}) 尚未接入，无法代发 (the account's bank has no connection)",
                wage_account.bank_code
            ),
        )),
    }
}

/// The body `wagebridge bank add` builds from its flags.
pub fn cli_input(
    bank_codes: Vec<String>,
    transport: TransportConfig,
    dialect: Option<serde_json::Value>,
) -> Result<PutConnection, AppError> {
    Ok(PutConnection {
        dialect: dialect.unwrap_or_else(|| serde_json::json!({"dialect": "iso20022"})),
        transport: serde_json::to_value(&transport)
            .map_err(|_| AppError::Invariant("a transport serialises"))?,
        bank_codes,
        utc_offset_minutes: None,
    })
}
