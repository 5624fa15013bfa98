//! bank-sim's admin API, plain HTTP on loopback, for tests and the demo:
//!
//! - `POST /accounts/{number}/credit {"amount","from","from_name"}`: the
//!   owner's labour-cost transfer in; `201 {"booking_id"}`;
//! - `POST /accounts/{number}/debit {"amount","to","to_name"}`: a misuse out;
//! - `GET /faults`, `PUT /faults` ([`FaultSet`]): the rejected cards and the
//!   faults, written to `bank-sim.toml`;
//! - `GET /ledger`: the ledger;
//! - `POST /round`: a round now; its summary.
//!
//! Refused requests answer 422 `{"error": "..."}` (Chinese, numbers masked).

use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::model::{AccountRef, Direction};

use super::faults::FaultSet;
use super::http::{Answer, Shared};
use super::ledger::Ledger;
use super::{Config, Sim, SimError};

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::JsonConfig::default().limit(MAX_BODY))
        .route("/accounts/{number}/credit", web::post().to(credit))
        .route("/accounts/{number}/debit", web::post().to(debit))
        .route("/faults", web::get().to(get_faults))
        .route("/faults", web::put().to(put_faults))
        .route("/ledger", web::get().to(ledger))
        .route("/round", web::post().to(round));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditBody {
    amount: String,
    from: String,
    from_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DebitBody {
    amount: String,
    to: String,
    to_name: Option<String>,
}

async fn credit(
    shared: web::Data<Shared>,
    number: web::Path<String>,
    body: web::Json<CreditBody>,
) -> HttpResponse {
    let body = body.into_inner();
    let number = number.into_inner();
    blocking(shared, move |sim| {
        let id = transfer(
            sim,
            &number,
            Direction::Credit,
            &body.amount,
            body.from,
            body.from_name,
        )?;
        Ok(Answer::json(
            StatusCode::CREATED,
            &serde_json::json!({ "booking_id": id }),
        ))
    })
    .await
}

async fn debit(
    shared: web::Data<Shared>,
    number: web::Path<String>,
    body: web::Json<DebitBody>,
) -> HttpResponse {
    let body = body.into_inner();
    let number = number.into_inner();
    blocking(shared, move |sim| {
        let id = transfer(
            sim,
            &number,
            Direction::Debit,
            &body.amount,
            body.to,
            body.to_name,
        )?;
        Ok(Answer::json(
            StatusCode::CREATED,
            &serde_json::json!({ "booking_id": id }),
        ))
    })
    .await
}

fn transfer(
    sim: &Sim,
    account: &str,
    direction: Direction,
    amount: &str,
    other: String,
    other_name: Option<String>,
) -> Result<String, SimError> {
    let amount = Decimal::from_str(amount)
        .map_err(|_| SimError::Refused(format!("金额无效 (invalid amount): {amount:?}")))?;
    let other = AccountRef {
        number: other,
        name: other_name,
        bank_code: None,
        bank_name: None,
    };
    // The simulator is the bank: its bookings carry the machine's time.
    sim.transfer(account, direction, amount, other, Utc::now())
}

async fn get_faults(shared: web::Data<Shared>) -> HttpResponse {
    blocking(shared, |sim| {
        let config = Config::load(sim.dir())?;
        let set = FaultSet {
            closed_cards: config.closed_cards,
            name_mismatch_cards: config.name_mismatch_cards,
            faults: config.faults,
        };
        Ok(Answer::json(StatusCode::OK, &set))
    })
    .await
}

async fn put_faults(shared: web::Data<Shared>, body: web::Json<FaultSet>) -> HttpResponse {
    let set = body.into_inner();
    blocking(shared, move |sim| {
        sim.set_faults(set.clone())?;
        Ok(Answer::json(StatusCode::OK, &set))
    })
    .await
}

async fn ledger(shared: web::Data<Shared>) -> HttpResponse {
    blocking(shared, |sim| {
        let ledger: Ledger = sim.ledger()?;
        Ok(Answer::json(StatusCode::OK, &ledger))
    })
    .await
}

async fn round(shared: web::Data<Shared>) -> HttpResponse {
    blocking(shared, |sim| {
        Ok(Answer::json(StatusCode::OK, &sim.round(Utc::now())?))
    })
    .await
}

async fn blocking<F>(shared: web::Data<Shared>, work: F) -> HttpResponse
where
    F: FnOnce(&Sim) -> Result<Answer, SimError> + Send + 'static,
{
    match web::block(move || work(&shared.sim)).await {
        Ok(Ok(answer)) => answer.into_response(),
        Ok(Err(SimError::Refused(reason))) => {
            HttpResponse::UnprocessableEntity().json(serde_json::json!({ "error": reason }))
        }
        Ok(Err(e)) => {
            HttpResponse::InternalServerError().json(serde_json::json!({ "error": e.to_string() }))
        }
        Err(e) => {
            HttpResponse::InternalServerError().json(serde_json::json!({ "error": e.to_string() }))
        }
    }
}
