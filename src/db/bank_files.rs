//! Bank files as received: one row per distinct content (`bank_files`, by
//! SHA-256), one receipt per arrival, the findings applying a file made, and
//! the connection a file came over.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::db::schema::{bank_connections, bank_file_findings, bank_file_receipts, bank_files};

/// A stored bank file.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = bank_files)]
pub struct BankFile {
    pub id: i64,
    pub sha256: String,
    pub connection_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub name: Option<String>,
    pub size_bytes: i64,
    pub received_at: DateTime<Utc>,
    pub kind: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bank_files)]
pub struct NewBankFile<'a> {
    pub sha256: &'a str,
    pub connection_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub name: Option<&'a str>,
    pub size_bytes: i64,
    pub received_at: DateTime<Utc>,
    pub status: &'a str,
}

/// Something applying a file noticed and did not act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// Stable upper-case code (`UNKNOWN_BATCH`, `CONTINUITY_BREAK`, ...).
    pub code: String,
    pub detail: String,
}

impl Finding {
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        Finding {
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

/// The connection a file came over, as far as intake needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bank_connections)]
pub struct ConnectionRow {
    pub id: i64,
    pub bank_id: i64,
    pub dialect: serde_json::Value,
    pub transport: serde_json::Value,
    pub utc_offset_minutes: i32,
}

pub fn connection(conn: &mut PgConnection, id: i64) -> QueryResult<Option<ConnectionRow>> {
    bank_connections::table
        .find(id)
        .select(ConnectionRow::as_select())
        .first(conn)
        .optional()
}

pub fn connection_of_bank(
    conn: &mut PgConnection,
    bank_id: i64,
) -> QueryResult<Option<ConnectionRow>> {
    bank_connections::table
        .filter(bank_connections::bank_id.eq(bank_id))
        .select(ConnectionRow::as_select())
        .first(conn)
        .optional()
}

pub fn all_connection_ids(conn: &mut PgConnection) -> QueryResult<Vec<i64>> {
    bank_connections::table
        .select(bank_connections::id)
        .order(bank_connections::id)
        .load(conn)
}

/// Inserts the file unless its content is known; `None` when it was (the
/// insert of a concurrent identical file waits for that one to commit).
pub fn insert_new(conn: &mut PgConnection, file: &NewBankFile<'_>) -> QueryResult<Option<i64>> {
    diesel::insert_into(bank_files::table)
        .values(file)
        .on_conflict(bank_files::sha256)
        .do_nothing()
        .returning(bank_files::id)
        .get_result(conn)
        .optional()
}

pub fn by_sha(conn: &mut PgConnection, sha256: &str) -> QueryResult<BankFile> {
    bank_files::table
        .filter(bank_files::sha256.eq(sha256))
        .select(BankFile::as_select())
        .first(conn)
}

pub fn by_id(conn: &mut PgConnection, id: i64) -> QueryResult<Option<BankFile>> {
    bank_files::table
        .find(id)
        .select(BankFile::as_select())
        .first(conn)
        .optional()
}

pub fn insert_receipt(
    conn: &mut PgConnection,
    file_id: i64,
    at: DateTime<Utc>,
    channel: &str,
    name: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(bank_file_receipts::table)
        .values((
            bank_file_receipts::file_id.eq(file_id),
            bank_file_receipts::received_at.eq(at),
            bank_file_receipts::channel.eq(channel),
            bank_file_receipts::name.eq(name),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records the outcome: `applied`, or `quarantined` with its reason.
pub fn mark_processed(
    conn: &mut PgConnection,
    file_id: i64,
    kind: Option<&str>,
    status: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(bank_files::table.find(file_id))
        .set((
            bank_files::kind.eq(kind),
            bank_files::status.eq(status),
            bank_files::reason.eq(reason),
            bank_files::processed_at.eq(Some(at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Appends findings in one statement.
pub fn insert_findings(
    conn: &mut PgConnection,
    file_id: i64,
    findings: &[Finding],
    at: DateTime<Utc>,
) -> QueryResult<()> {
    if findings.is_empty() {
        return Ok(());
    }
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    let details: Vec<&str> = findings.iter().map(|f| f.detail.as_str()).collect();
    diesel::sql_query(
        "INSERT INTO bank_file_findings (file_id, code, detail, at) \
         SELECT $1, code, detail, $4 FROM unnest($2::text[], $3::text[]) AS f(code, detail)",
    )
    .bind::<BigInt, _>(file_id)
    .bind::<Array<Text>, _>(codes)
    .bind::<Array<Text>, _>(details)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .map(|_| ())
}

pub fn findings_of(conn: &mut PgConnection, file_id: i64) -> QueryResult<Vec<Finding>> {
    bank_file_findings::table
        .filter(bank_file_findings::file_id.eq(file_id))
        .order(bank_file_findings::id)
        .select((bank_file_findings::code, bank_file_findings::detail))
        .load::<(String, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(code, detail)| Finding { code, detail })
                .collect()
        })
}

/// A file in the list, with how often it arrived and how much it found.
#[derive(Debug, Clone, QueryableByName)]
pub struct ListedFile {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub sha256: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub connection_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub bank_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub size_bytes: i64,
    #[diesel(sql_type = Timestamptz)]
    pub received_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub kind: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub processed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub receipt_count: i64,
    #[diesel(sql_type = BigInt)]
    pub finding_count: i64,
}

/// Files newest first, below the cursor (an id), of one bank or all, of
/// one status or all (or only the file `only_id`); at most `fetch` rows.
pub fn list(
    conn: &mut PgConnection,
    bank_id: Option<i64>,
    status: Option<&str>,
    before_id: Option<i64>,
    only_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<ListedFile>> {
    diesel::sql_query(
        "SELECT f.id, f.sha256, f.connection_id, f.bank_id, f.name, f.size_bytes, f.received_at, \
                f.kind, f.status, f.reason, f.processed_at, \
                (SELECT count(*) FROM bank_file_receipts r WHERE r.file_id = f.id) AS receipt_count, \
                (SELECT count(*) FROM bank_file_findings g WHERE g.file_id = f.id) AS finding_count \
           FROM bank_files f \
          WHERE ($1::bigint IS NULL OR f.bank_id = $1) \
            AND ($2::text IS NULL OR f.status = $2) \
            AND ($3::bigint IS NULL OR f.id < $3) \
            AND ($4::bigint IS NULL OR f.id = $4) \
          ORDER BY f.id DESC LIMIT $5",
    )
    .bind::<Nullable<BigInt>, _>(bank_id)
    .bind::<Nullable<Text>, _>(status)
    .bind::<Nullable<BigInt>, _>(before_id)
    .bind::<Nullable<BigInt>, _>(only_id)
    .bind::<BigInt, _>(fetch)
    .load(conn)
}
