//! Who is calling: `Authorization: Bearer <api key>`, or a bank's registered
//! client certificate from a verified TLS handshake → the calling organisation.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::AppState;
use crate::access::OrgKind;
use crate::db::{self, organizations::Organization};
use crate::error::ErrorCode;
use crate::tls::PeerCertificate;

/// The calling organisation, and how it proved who it is.
#[derive(Debug, Clone)]
pub struct Caller(pub Organization, pub AuthMethod);

/// How a caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// An API key (also when a certificate of the same organisation came with it).
    Key,
    /// A registered client certificate, with no API key.
    Certificate,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Key => "key",
            AuthMethod::Certificate => "certificate",
        }
    }
}

impl Caller {
    pub fn kind(&self) -> OrgKind {
        self.0.kind()
    }

    pub fn id(&self) -> i64 {
        self.0.id
    }

    pub fn authenticated_by(&self) -> AuthMethod {
        self.1
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
        let certificate = req.conn_data::<PeerCertificate>().copied();
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            let key = key?;
            let (by_key, by_certificate) = db::run(&state.pool, move |conn| {
                let by_key = match &key {
                    Some(key) => Some(db::organizations::find_by_key(conn, key)?),
                    None => None,
                };
                let by_certificate = match &certificate {
                    Some(c) => db::client_certificates::find_organization(conn, &c.fingerprint)?,
                    None => None,
                };
                Ok::<_, crate::error::AppError>((by_key, by_certificate))
            })
            .await?;
            let caller = identify(by_key, by_certificate, certificate.is_some())?;
            let span = tracing::Span::current();
            span.record("org_id", caller.0.id);
            span.record("auth_method", caller.1.as_str());
            Ok(caller)
        })
    }
}

/// The caller from what the key (`Some(None)`: a key nobody holds) and the
/// certificate each identify. A certificate nobody registered identifies no one:
/// a key still may; without a key it is refused like a missing key.
fn identify(
    by_key: Option<Option<Organization>>,
    by_certificate: Option<Organization>,
    certificate_presented: bool,
) -> Result<Caller, ApiError> {
    match (by_key, by_certificate) {
        (Some(None), _) => Err(ApiError::unauthorized(
            "the API key is not known or was revoked",
        )),
        (Some(Some(key_org)), Some(cert_org)) if key_org.id != cert_org.id => Err(ApiError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            ErrorCode::CredentialsDisagree,
            "API 密钥与客户端证书属于不同的机构；请只出示同一机构的凭证",
        )),
        (Some(Some(org)), _) => Ok(Caller(org, AuthMethod::Key)),
        (None, Some(org)) => Ok(Caller(org, AuthMethod::Certificate)),
        (None, None) if certificate_presented => Err(ApiError::unauthorized(
            "客户端证书未登记到任何机构或已被吊销（wagebridge certs add）；\
             请以 Authorization: Bearer <key> 发送 API 密钥",
        )),
        (None, None) => Err(ApiError::unauthorized(
            "send the API key as Authorization: Bearer <key>",
        )),
    }
}

/// The bearer key, `None` when there is no `Authorization` header.
fn bearer_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <key>`"))?;
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{identify, AuthMethod, ErrorCode, Organization};

    fn org(id: i64) -> Organization {
        Organization {
            id,
            kind: "bank".into(),
            name: format!("bank {id}"),
            uscc: String::new(),
            region_code: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_key_and_the_certificate_decide_together() {
        let by = |key, cert, presented| identify(key, cert, presented).map(|c| (c.0.id, c.1));
        assert_eq!(
            by(None, Some(org(1)), true).ok(),
            Some((1, AuthMethod::Certificate))
        );
        assert_eq!(
            by(Some(Some(org(1))), None, false).ok(),
            Some((1, AuthMethod::Key))
        );
        assert_eq!(
            by(Some(Some(org(1))), Some(org(1)), true).ok(),
            Some((1, AuthMethod::Key))
        );
        assert_eq!(
            by(Some(Some(org(2))), None, true).ok(),
            Some((2, AuthMethod::Key))
        );
        let refused = |key, cert, presented| identify(key, cert, presented).err().map(|e| e.code);
        assert_eq!(
            refused(Some(Some(org(2))), Some(org(1)), true),
            Some(ErrorCode::CredentialsDisagree)
        );
        assert_eq!(
            refused(Some(None), Some(org(1)), true),
            Some(ErrorCode::Unauthorized)
        );
        assert_eq!(refused(None, None, true), Some(ErrorCode::Unauthorized));
        assert_eq!(refused(None, None, false), Some(ErrorCode::Unauthorized));
    }
}
