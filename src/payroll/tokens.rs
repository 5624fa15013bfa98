//! Confirmation tokens: random, sent only to the worker, stored only as their
//! SHA-256 (in `line_tokens`, one current token per accepted line), valid
//! until they expire or are re-issued.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::payrolls::{ApprovedLine, Confirmation, LineState, Payroll, PayrollLine};
use crate::db::schema::{approved_lines, line_confirmations, line_tokens, payroll_lines, payrolls};
use crate::db::DbError;

/// How long a token works when nothing else is configured (`WAGEBRIDGE_TOKEN_DAYS`).
pub const DEFAULT_TOKEN_DAYS: u32 = 60;

/// A confirmation token: 32 random bytes, base64url. Returns it and its SHA-256.
pub fn new_token(rng: &mut impl RngCore) -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 a token is stored and looked up by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

type TokenRow = (
    PayrollLine,
    Payroll,
    Option<DateTime<Utc>>,
    Option<Confirmation>,
    Option<ApprovedLine>,
);

/// The line a token belongs to, with its payroll, state and expiry.
pub struct TokenLine {
    pub line: LineState,
    pub payroll: Payroll,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The line whose current token has this hash.
pub fn find_by_hash(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<TokenLine>, DbError> {
    let row: Option<TokenRow> = line_tokens::table
        .inner_join(payroll_lines::table.inner_join(payrolls::table))
        .left_join(
            line_confirmations::table.on(line_confirmations::line_id.eq(line_tokens::line_id)),
        )
        .left_join(approved_lines::table.on(approved_lines::line_id.eq(line_tokens::line_id)))
        .filter(line_tokens::token_hash.eq(hash))
        .select((
            PayrollLine::as_select(),
            Payroll::as_select(),
            line_tokens::expires_at,
            Option::<Confirmation>::as_select(),
            Option::<ApprovedLine>::as_select(),
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(line, payroll, expires_at, confirmation, approved)| TokenLine {
            line: LineState {
                line,
                confirmation,
                approved,
            },
            payroll,
            expires_at,
        },
    ))
}

/// Creates the (empty) token rows of a payroll's accepted lines.
pub fn create_for_payroll(conn: &mut PgConnection, payroll_id: i64) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "INSERT INTO line_tokens (line_id)
         SELECT id FROM payroll_lines WHERE payroll_id = $1 AND status = 'accepted'",
    )
    .bind::<diesel::sql_types::Int8, _>(payroll_id)
    .execute(conn)?)
}

/// Makes `hash` the line's only valid token, from `now` until `expires_at`.
pub fn install(
    conn: &mut PgConnection,
    line_id: i64,
    hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    let changed = diesel::update(line_tokens::table.find(line_id))
        .set((
            line_tokens::token_hash.eq(hash),
            line_tokens::issued_at.eq(now),
            line_tokens::expires_at.eq(expires_at),
            line_tokens::issues.eq(line_tokens::issues + 1),
        ))
        .execute(conn)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(DbError::Query(diesel::result::Error::NotFound))
    }
}

/// Stops the line's current token from working (until a new one is installed).
pub fn withdraw(conn: &mut PgConnection, line_id: i64) -> Result<(), DbError> {
    diesel::update(line_tokens::table.find(line_id))
        .set(line_tokens::token_hash.eq(None::<Vec<u8>>))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let mut rng = rand::thread_rng();
        let (a, hash_a) = new_token(&mut rng);
        let (b, _) = new_token(&mut rng);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
        assert_eq!(hash_a, token_hash(&a));
    }

    #[test]
    fn tokens_are_base64url_without_padding_as_in_the_rfc_vectors() {
        assert_eq!(URL_SAFE_NO_PAD.encode(b""), "");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"f"), "Zg");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"fo"), "Zm8");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"foo"), "Zm9v");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
    }
}
