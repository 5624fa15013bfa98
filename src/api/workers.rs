//! The real-name roster (实名制花名册): `PUT /v1/projects/{code}/workers`
//! upserts rows by ID number; every row comes back accepted or rejected.

use std::collections::HashMap;

use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::fields::{self, FieldError};
use super::projects;
use super::tabular::{self, Column, RawRow, RowProblem, RowResult, UploadReport};
use super::AppState;
use crate::access::ProjectRole;
use crate::db::roster::{RosterError, RosterForm, Upserted, WorkerForm};
use crate::db::{self, audit, DbError};
use crate::domain::mask;

/// Roster columns: JSON keys, and the headers accepted in CSV.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "id_number",
        aliases: &["身份证号", "身份证号码", "证件号码", "公民身份号码"],
        required: true,
    },
    Column {
        key: "name",
        aliases: &["姓名"],
        required: true,
    },
    Column {
        key: "phone",
        aliases: &["手机号", "手机号码", "联系电话", "电话"],
        required: false,
    },
    Column {
        key: "card_number",
        aliases: &["银行卡号", "工资卡号", "bank_card_number"],
        required: false,
    },
    Column {
        key: "card_bank",
        aliases: &["开户行", "开户银行", "bank"],
        required: false,
    },
    Column {
        key: "employer_uscc",
        aliases: &["用工单位统一社会信用代码", "所属单位信用代码"],
        required: false,
    },
    Column {
        key: "team",
        aliases: &["班组"],
        required: false,
    },
    Column {
        key: "trade",
        aliases: &["工种"],
        required: false,
    },
    Column {
        key: "contract_signed_on",
        aliases: &[
            "劳动合同签订日期",
            "合同签订日期",
            "labour_contract_signed_on",
        ],
        required: true,
    },
    Column {
        key: "entered_on",
        aliases: &["进场日期"],
        required: true,
    },
    Column {
        key: "exited_on",
        aliases: &["退场日期"],
        required: false,
    },
];

/// One valid roster row, ready to store.
struct ParsedRow {
    number: usize,
    worker: WorkerForm,
    employer_uscc: Option<String>,
    team: Option<String>,
    trade: Option<String>,
    contract_signed_on: NaiveDate,
    entered_on: NaiveDate,
    exited_on: Option<NaiveDate>,
}

fn parse_row(row: &RawRow) -> Result<ParsedRow, Vec<RowProblem>> {
    if !row.problems.is_empty() {
        return Err(row.problems.clone());
    }
    let mut problems = fields::Collector::default();

    let id_number = problems.keep(
        fields::required("id_number", row.get("id_number"))
            .and_then(|v| fields::resident_id("id_number", v)),
    );
    let name = problems
        .keep(fields::required("name", row.get("name")).and_then(|v| fields::text("name", v, 50)));
    let phone = problems.keep(match row.get("phone") {
        Some(p) => parse_phone(p).map(Some),
        None => Ok(None),
    });
    let card = problems.keep(match row.get("card_number") {
        Some(c) => fields::bank_card("card_number", c).map(Some),
        None => Ok(None),
    });
    let card_bank = problems.keep(fields::optional_text(
        "card_bank",
        row.get("card_bank"),
        100,
    ));
    let employer = problems.keep(match row.get("employer_uscc") {
        Some(u) => fields::uscc("employer_uscc", u).map(|u| Some(u.as_str().to_owned())),
        None => Ok(None),
    });
    let team = problems.keep(fields::optional_text("team", row.get("team"), 100));
    let trade = problems.keep(fields::optional_text("trade", row.get("trade"), 100));
    let contract_signed_on = problems.keep(
        fields::required("contract_signed_on", row.get("contract_signed_on"))
            .and_then(|v| fields::date("contract_signed_on", v)),
    );
    let entered_on = problems.keep(
        fields::required("entered_on", row.get("entered_on"))
            .and_then(|v| fields::date("entered_on", v)),
    );
    let exited_on = problems.keep(fields::optional_date("exited_on", row.get("exited_on")));

    match (
        id_number,
        name,
        phone,
        card,
        card_bank,
        employer,
        team,
        trade,
        contract_signed_on,
        entered_on,
        exited_on,
    ) {
        (
            Some(id_number),
            Some(name),
            Some(phone),
            Some(card),
            Some(card_bank),
            Some(employer_uscc),
            Some(team),
            Some(trade),
            Some(contract_signed_on),
            Some(entered_on),
            Some(exited_on),
        ) if problems.is_empty() => {
            if exited_on.is_some_and(|exit| exit < entered_on) {
                return Err(vec![RowProblem::field(
                    "exited_on",
                    "EXIT_BEFORE_ENTRY",
                    "exited_on is before entered_on",
                )]);
            }
            Ok(ParsedRow {
                number: row.number,
                worker: WorkerForm {
                    id_number: id_number.as_str().to_owned(),
                    name,
                    phone,
                    card_number: card.map(|c| c.as_str().to_owned()),
                    card_bank,
                },
                employer_uscc,
                team,
                trade,
                contract_signed_on,
                entered_on,
                exited_on,
            })
        }
        _ => Err(problems.into_problems()),
    }
}

/// A mainland mobile number (11 digits starting with 1) or a landline with area code.
fn parse_phone(value: &str) -> Result<String, FieldError> {
    let digits: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '+'))
        .collect();
    let digits = digits
        .strip_prefix("86")
        .filter(|d| d.len() == 11)
        .unwrap_or(&digits)
        .to_owned();
    if digits.len() >= 7 && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(FieldError {
            field: "phone",
            code: "INVALID_PHONE",
            reason: format!("{:?} is not a phone number", mask::mask_phone(value)),
        })
    }
}

fn masked_id(raw: Option<&str>) -> Option<String> {
    raw.map(|v| mask::mask_middle(v.trim(), 4, 4))
}

/// Upsert roster rows by ID number (JSON or CSV; Chinese headers accepted).
#[utoipa::path(
    tag = "roster",
    params(("code" = String, Path)),
    request_body(content = String, description = "`{\"workers\": [...]}` as application/json, or text/csv (UTF-8 or GBK) with headers such as 姓名,身份证号,手机号,银行卡号,开户行,班组,工种,劳动合同签订日期,进场日期,退场日期"),
    responses(
        (status = 200, description = "every row, accepted or rejected with reasons", body = UploadReport),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 415, body = Problem),
    ),
    security(("api_key" = []))
)]
#[put("/v1/projects/{code}/workers")]
pub async fn put_workers(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !role.can_write_workers() {
        return Err(ApiError::forbidden(
            "only the general contractor and its subcontractors write the roster",
        ));
    }
    let rows = tabular::read_rows(&req, &bytes, COLUMNS, "workers")?;

    // Check every row on its own first, and duplicates within the upload.
    let mut results: Vec<Option<RowResult>> = Vec::with_capacity(rows.len());
    let mut parsed: Vec<ParsedRow> = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut seen_cards: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        match parse_row(row) {
            Err(errors) => results.push(Some(RowResult::rejected(
                row.number,
                masked_id(row.get("id_number")),
                errors,
            ))),
            Ok(p) => {
                let masked = Some(mask::mask_middle(&p.worker.id_number, 4, 4));
                if let Some(first) = seen_ids.get(&p.worker.id_number) {
                    results.push(Some(RowResult::rejected(
                        p.number,
                        masked,
                        vec![RowProblem::field(
                            "id_number",
                            "DUPLICATE_ROW",
                            format!("the same ID number is already in row {first} of this upload"),
                        )],
                    )));
                    continue;
                }
                if let Some(card) = &p.worker.card_number {
                    if let Some(first) = seen_cards.get(card) {
                        results.push(Some(RowResult::rejected(
                            p.number,
                            masked,
                            vec![RowProblem::field(
                                "card_number",
                                "CARD_BELONGS_TO_ANOTHER_WORKER",
                                format!("the same card is given for another worker in row {first}"),
                            )],
                        )));
                        continue;
                    }
                    seen_cards.insert(card.clone(), p.number);
                }
                seen_ids.insert(p.worker.id_number.clone(), p.number);
                results.push(None);
                parsed.push(p);
            }
        }
    }

    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| store_rows(conn, &project, role, &caller_org, parsed, now))
    })
    .await?;
    let mut stored = stored.into_iter();
    let rows: Vec<RowResult> = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                stored
                    .next()
                    .unwrap_or_else(|| RowResult::rejected(0, None, Vec::new()))
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(UploadReport::new(rows)))
}

/// Stores the valid rows, each inside its own savepoint so one row's
/// conflict (a card that belongs to someone else) does not undo the others.
fn store_rows(
    conn: &mut diesel::PgConnection,
    project: &db::projects::Project,
    role: ProjectRole,
    caller: &db::organizations::Organization,
    rows: Vec<ParsedRow>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<RowResult>, DbError> {
    // Who may be named as employer: the contractor itself and its attached subcontractors;
    // a subcontractor only itself.
    let mut employers: HashMap<String, i64> = HashMap::new();
    if role == ProjectRole::Subcontractor {
        employers.insert(caller.uscc.clone(), caller.id);
    } else {
        if let Some(c) = db::organizations::find_by_id(conn, project.contractor_id)? {
            employers.insert(c.uscc, c.id);
        }
        for s in db::projects::subcontractors(conn, project.id)? {
            employers.insert(s.uscc, s.id);
        }
    }
    let default_employer = if role == ProjectRole::Subcontractor {
        caller.id
    } else {
        project.contractor_id
    };

    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let masked = Some(mask::mask_middle(&row.worker.id_number, 4, 4));
        let employer_id = match &row.employer_uscc {
            None => default_employer,
            Some(u) => match employers.get(u) {
                Some(id) => *id,
                None => {
                    out.push(RowResult::rejected(
                        row.number,
                        masked,
                        vec![RowProblem::field(
                            "employer_uscc",
                            "EMPLOYER_NOT_ON_PROJECT",
                            if role == ProjectRole::Subcontractor {
                                "a subcontractor registers only its own workers".to_owned()
                            } else {
                                "the employer is neither the general contractor nor a subcontractor attached to this project".to_owned()
                            },
                        )],
                    ));
                    continue;
                }
            },
        };
        let result = conn.transaction(|conn| -> Result<Upserted, RowFailure> {
            // A subcontractor may not take over or change another employer's worker.
            if role == ProjectRole::Subcontractor {
                if let Some(existing) = find_worker_id(conn, &row.worker.id_number)? {
                    if let Some(entry) = db::roster::entry(conn, project.id, existing)? {
                        if entry.employer_id != caller.id {
                            return Err(RowFailure::Refused(RowProblem::field(
                                "id_number",
                                "EMPLOYED_BY_ANOTHER",
                                "this worker is on the project's roster for another employer",
                            )));
                        }
                    }
                }
            }
            let (worker, worker_change) = db::roster::upsert_worker(conn, &row.worker, now)?;
            let form = RosterForm {
                employer_id,
                team: row.team.clone(),
                trade: row.trade.clone(),
                contract_signed_on: row.contract_signed_on,
                entered_on: row.entered_on,
                exited_on: row.exited_on,
            };
            let (entry, entry_change) =
                db::roster::upsert_entry(conn, project.id, worker.id, &row.worker, &form, now)?;
            let outcome = match (worker_change, entry_change) {
                (_, Upserted::Created) => Upserted::Created,
                (Upserted::Unchanged, Upserted::Unchanged) => Upserted::Unchanged,
                _ => Upserted::Updated,
            };
            if outcome != Upserted::Unchanged {
                audit::record(
                    conn,
                    now,
                    Some(caller.id),
                    "roster_entry",
                    Some(entry.id),
                    if outcome == Upserted::Created {
                        "created"
                    } else {
                        "updated"
                    },
                    serde_json::json!({
                        "worker_id": worker.id,
                        "name": entry.name,
                        "card": entry.card_number.as_deref().map(|c| mask::mask_middle(c, 4, 4)),
                        "employer_id": entry.employer_id,
                        "team": entry.team,
                        "trade": entry.trade,
                        "contract_signed_on": entry.contract_signed_on,
                        "entered_on": entry.entered_on,
                        "exited_on": entry.exited_on,
                    }),
                )?;
            }
            Ok(outcome)
        });
        out.push(match result {
            Ok(outcome) => RowResult {
                row: row.number,
                status: "accepted",
                outcome: Some(match outcome {
                    Upserted::Created => "created",
                    Upserted::Updated => "updated",
                    Upserted::Unchanged => "unchanged",
                }),
                id_number: masked,
                errors: Vec::new(),
            },
            Err(RowFailure::Refused(problem)) => {
                RowResult::rejected(row.number, masked, vec![problem])
            }
            Err(RowFailure::Db(e)) => return Err(DbError::Query(e)),
            Err(RowFailure::Failed(e)) => return Err(e),
        });
    }
    Ok(out)
}

/// How storing one row ends when it does not succeed; a refusal rolls back
/// the row's savepoint like a database error does.
enum RowFailure {
    Refused(RowProblem),
    Db(diesel::result::Error),
    Failed(DbError),
}

impl From<diesel::result::Error> for RowFailure {
    fn from(e: diesel::result::Error) -> Self {
        RowFailure::Db(e)
    }
}

impl From<RosterError> for RowFailure {
    fn from(e: RosterError) -> Self {
        match e {
            // Says only that the card is someone else's: never whose, nor where.
            RosterError::CardBelongsToAnotherWorker => RowFailure::Refused(RowProblem::field(
                "card_number",
                "CARD_BELONGS_TO_ANOTHER_WORKER",
                "this bank card is registered to another person",
            )),
            RosterError::Db(e) => e.into(),
        }
    }
}

impl From<DbError> for RowFailure {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) => RowFailure::Db(e),
            other => RowFailure::Failed(other),
        }
    }
}

fn find_worker_id(
    conn: &mut diesel::PgConnection,
    id_number: &str,
) -> Result<Option<i64>, DbError> {
    use crate::db::schema::workers;
    use diesel::prelude::*;
    Ok(workers::table
        .filter(workers::id_number.eq(id_number))
        .select(workers::id)
        .first(conn)
        .optional()?)
}

/// One roster row as read back; ID and card numbers masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterView {
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub card_bank: Option<String>,
    pub employer_uscc: String,
    pub employer_name: String,
    pub team: Option<String>,
    pub trade: Option<String>,
    pub contract_signed_on: NaiveDate,
    pub entered_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterList {
    pub workers: Vec<RosterView>,
}

/// Read the roster (a subcontractor sees only its own workers).
#[utoipa::path(
    tag = "roster",
    params(("code" = String, Path)),
    responses((status = 200, body = RosterList), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/workers")]
pub async fn list_workers(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    let only = (role == ProjectRole::Subcontractor).then_some(caller.id());
    let rows = db::run(&state.pool, move |conn| {
        db::roster::list(conn, project.id, only)
    })
    .await?;
    let workers = rows
        .into_iter()
        .map(|r| RosterView {
            id_number: mask::mask_middle(&r.worker.id_number, 4, 4),
            name: r.entry.name,
            phone: r.entry.phone.as_deref().map(mask::mask_phone),
            card_number: r
                .entry
                .card_number
                .as_deref()
                .map(|c| mask::mask_middle(c, 4, 4)),
            card_bank: r.entry.card_bank,
            employer_uscc: r.employer_uscc,
            employer_name: r.employer_name,
            team: r.entry.team,
            trade: r.entry.trade,
            contract_signed_on: r.entry.contract_signed_on,
            entered_on: r.entry.entered_on,
            exited_on: r.entry.exited_on,
            updated_at: r.entry.updated_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(RosterList { workers }))
}
