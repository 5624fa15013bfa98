//! Banks' client certificates (mutual TLS), kept by SHA-256 fingerprint: a
//! registered, unrevoked certificate presented in a verified handshake
//! identifies the bank it was registered for, as the bank's API key would.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::organizations::{self, Organization};
use super::schema::{client_certificates, organizations as orgs};
use super::DbError;
use crate::access::OrgKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = client_certificates)]
pub struct ClientCertificate {
    pub id: i64,
    pub organization_id: i64,
    pub fingerprint: Vec<u8>,
    pub subject: String,
    pub not_after: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = client_certificates)]
struct NewClientCertificate<'a> {
    organization_id: i64,
    fingerprint: &'a [u8],
    subject: &'a str,
    not_after: DateTime<Utc>,
    registered_at: DateTime<Utc>,
}

/// A certificate to register: what it says about itself (read by `crate::tls`).
#[derive(Debug, Clone)]
pub struct CertificateToRegister<'a> {
    pub fingerprint: &'a [u8],
    pub subject: &'a str,
    pub not_after: DateTime<Utc>,
}

/// The outcome of [`register`].
#[derive(Debug)]
pub enum Registered {
    New(ClientCertificate),
    /// The same certificate was already registered for this bank; nothing changed.
    Already(ClientCertificate),
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("no organisation with USCC {0} is registered (wagebridge org add)")]
    UnknownOrganization(String),
    #[error("{name} is a {kind}; only a bank authenticates by client certificate")]
    NotABank { name: String, kind: OrgKind },
    #[error("this certificate is already registered for another organisation ({0})")]
    RegisteredElsewhere(String),
    #[error("this certificate was revoked on {0}; a revoked certificate is not registered again: issue a new one")]
    Revoked(DateTime<Utc>),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RegisterError {
    fn from(e: diesel::result::Error) -> Self {
        RegisterError::Db(e.into())
    }
}

/// Registers a client certificate for the bank with this USCC, at business time `at`.
/// Registering the same certificate for the same bank again changes nothing.
pub fn register(
    conn: &mut PgConnection,
    uscc: &str,
    cert: &CertificateToRegister,
    at: DateTime<Utc>,
) -> Result<(Organization, Registered), RegisterError> {
    conn.transaction(|conn| {
        let org = organizations::find_by_uscc(conn, uscc)?
            .ok_or_else(|| RegisterError::UnknownOrganization(uscc.to_owned()))?;
        if org.kind() != OrgKind::Bank {
            return Err(RegisterError::NotABank {
                kind: org.kind(),
                name: org.name,
            });
        }
        if let Some(existing) = find(conn, cert.fingerprint)? {
            return match existing.revoked_at {
                Some(revoked) => Err(RegisterError::Revoked(revoked)),
                None if existing.organization_id == org.id => {
                    Ok((org, Registered::Already(existing)))
                }
                None => {
                    let holder = organizations::find_by_id(conn, existing.organization_id)?
                        .map(|o| o.uscc)
                        .unwrap_or_default();
                    Err(RegisterError::RegisteredElsewhere(holder))
                }
            };
        }
        let row = diesel::insert_into(client_certificates::table)
            .values(NewClientCertificate {
                organization_id: org.id,
                fingerprint: cert.fingerprint,
                subject: cert.subject,
                not_after: cert.not_after,
                registered_at: at,
            })
            .returning(ClientCertificate::as_returning())
            .get_result(conn)?;
        Ok((org, Registered::New(row)))
    })
}

/// The certificate with this fingerprint, revoked or not.
pub fn find(
    conn: &mut PgConnection,
    fingerprint: &[u8],
) -> Result<Option<ClientCertificate>, DbError> {
    Ok(client_certificates::table
        .filter(client_certificates::fingerprint.eq(fingerprint))
        .select(ClientCertificate::as_select())
        .first(conn)
        .optional()?)
}

/// The organisation a registered, unrevoked certificate belongs to.
pub fn find_organization(
    conn: &mut PgConnection,
    fingerprint: &[u8],
) -> Result<Option<Organization>, DbError> {
    Ok(client_certificates::table
        .inner_join(orgs::table)
        .filter(client_certificates::fingerprint.eq(fingerprint))
        .filter(client_certificates::revoked_at.is_null())
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes the certificate at business time `at`; false when it is not registered or already revoked.
pub fn revoke(
    conn: &mut PgConnection,
    fingerprint: &[u8],
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let changed = diesel::update(client_certificates::table)
        .filter(client_certificates::fingerprint.eq(fingerprint))
        .filter(client_certificates::revoked_at.is_null())
        .set(client_certificates::revoked_at.eq(at))
        .execute(conn)?;
    Ok(changed > 0)
}
