//! `Authorization: Bearer <api key>` → the calling organisation.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::AppState;
use crate::access::OrgKind;
use crate::db::{self, organizations::Organization};

/// The organisation whose key signed the request.
#[derive(Debug, Clone)]
pub struct Caller(pub Organization);

impl Caller {
    pub fn kind(&self) -> OrgKind {
        self.0.kind()
    }

    pub fn id(&self) -> i64 {
        self.0.id
    }

    pub fn require(&self, kinds: &[OrgKind]) -> Result<(), ApiError> {
        if kinds.contains(&self.kind()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} key may not do this",
                self.kind()
            )))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = bearer_key(req);
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            let key = key?;
            let org = db::run(&state.pool, move |conn| {
                db::organizations::find_by_key(conn, &key)
            })
            .await?;
            match org {
                Some(org) => {
                    tracing::Span::current().record("org_id", org.id);
                    Ok(Caller(org))
                }
                None => Err(ApiError::unauthorized(
                    "the API key is not known or was revoked",
                )),
            }
        })
    }
}

fn bearer_key(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send the API key as Authorization: Bearer <key>"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <key>`"))?;
    Ok(key.to_owned())
}
