//! The list of bank files and one file with its findings, for an admin
//! (every file) or a bank (its own). Names, reasons and findings are shown
//! with account, card and ID numbers masked.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;

use crate::db::bank_files::{self, Finding, ListedFile};
use crate::domain::mask_numbers;
use crate::error::{AppError, ErrorCode};
use crate::paging::Page;

/// Who looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Every file.
    Admin,
    /// This bank's files only; another bank's file is "not found".
    Bank(i64),
}

impl Viewer {
    fn bank_id(self) -> Option<i64> {
        match self {
            Viewer::Admin => None,
            Viewer::Bank(id) => Some(id),
        }
    }
}

/// A file's status, as the query names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Received,
    Applied,
    Quarantined,
}

impl FileStatus {
    pub fn parse(text: &str) -> Result<FileStatus, AppError> {
        match text {
            "received" => Ok(FileStatus::Received),
            "applied" => Ok(FileStatus::Applied),
            "quarantined" => Ok(FileStatus::Quarantined),
            other => Err(AppError::field(
                "status",
                ErrorCode::InvalidQuery,
                format!("status {other:?} 不可用：应为 received、applied 或 quarantined (status must be received, applied or quarantined)"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Received => "received",
            FileStatus::Applied => "applied",
            FileStatus::Quarantined => "quarantined",
        }
    }
}

/// One file in the list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileView {
    pub file_id: i64,
    pub sha256: String,
    pub status: String,
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub name: Option<String>,
    pub size_bytes: i64,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    /// How often these bytes arrived.
    pub receipt_count: i64,
    pub finding_count: i64,
}

/// A page of files, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileList {
    pub files: Vec<FileView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One file with what applying it found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileDetail {
    #[serde(flatten)]
    pub file: FileView,
    pub findings: Vec<Finding>,
}

fn masked(text: Option<String>) -> Option<String> {
    text.map(|t| mask_numbers(&t).into_owned())
}

pub fn masked_findings(findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .map(|f| Finding {
            detail: mask_numbers(&f.detail).into_owned(),
            code: f.code,
        })
        .collect()
}

fn view(row: ListedFile) -> FileView {
    FileView {
        file_id: row.id,
        sha256: row.sha256,
        status: row.status,
        kind: row.kind,
        reason: masked(row.reason),
        name: masked(row.name),
        size_bytes: row.size_bytes,
        received_at: row.received_at,
        processed_at: row.processed_at,
        receipt_count: row.receipt_count,
        finding_count: row.finding_count,
    }
}

/// Files the viewer may see, newest first (the cursor is the last file id).
pub fn list_files(
    conn: &mut PgConnection,
    viewer: Viewer,
    status: Option<FileStatus>,
    page: Page,
) -> Result<FileList, AppError> {
    let rows = bank_files::list(
        conn,
        viewer.bank_id(),
        status.map(FileStatus::as_str),
        page.after,
        None,
        page.fetch(),
    )?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id);
    Ok(FileList {
        files: rows.into_iter().map(view).collect(),
        next_cursor,
    })
}

/// One file with its findings; another bank's file is not found.
pub fn file_detail(
    conn: &mut PgConnection,
    viewer: Viewer,
    file_id: i64,
) -> Result<FileDetail, AppError> {
    let not_found = || AppError::not_found(format!("bank file {file_id}"));
    let row = bank_files::list(conn, viewer.bank_id(), None, None, Some(file_id), 1)?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    let findings = masked_findings(bank_files::findings_of(conn, file_id)?);
    Ok(FileDetail {
        file: view(row),
        findings,
    })
}

/// `wagebridge bank-file list`: one line per file, as a person reads it.
pub fn render_table(list: &FileList) -> String {
    let mut out =
        String::from("id\tstatus\tkind\treceipts\tfindings\tsize\treceived_at\tname\treason\n");
    for f in &list.files {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            f.file_id,
            f.status,
            f.kind.as_deref().unwrap_or("-"),
            f.receipt_count,
            f.finding_count,
            f.size_bytes,
            f.received_at.to_rfc3339(),
            f.name.as_deref().unwrap_or("-"),
            f.reason.as_deref().unwrap_or("-"),
        ));
    }
    if let Some(next) = &list.next_cursor {
        out.push_str(&format!("(more: --cursor {next})\n"));
    }
    out
}

/// What `bank-file list` prints: JSON or the table, every file (an admin's view).
pub fn print_list(
    conn: &mut PgConnection,
    status: Option<&str>,
    page: Page,
    json: bool,
) -> Result<String, AppError> {
    let status = status.map(FileStatus::parse).transpose()?;
    let list = list_files(conn, Viewer::Admin, status, page)?;
    Ok(if json {
        serde_json::to_string_pretty(&list)
            .map_err(|_| AppError::Invariant("a file list is JSON"))?
    } else {
        render_table(&list)
    })
}
