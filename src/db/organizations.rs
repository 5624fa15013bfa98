//! Organisations and their API keys.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::schema::{api_keys, organizations};
use super::DbError;
use crate::access::OrgKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub uscc: String,
    pub region_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Organization {
    /// The kind, as the database's CHECK constraint guarantees it.
    pub fn kind(&self) -> OrgKind {
        self.kind.parse().unwrap_or(OrgKind::Owner)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub uscc: &'a str,
    pub region_code: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// Inserts an organisation; `Ok(None)` when the USCC is already registered.
pub fn insert(
    conn: &mut PgConnection,
    new: &NewOrganization,
) -> Result<Option<Organization>, DbError> {
    Ok(diesel::insert_into(organizations::table)
        .values(new)
        .on_conflict(organizations::uscc)
        .do_nothing()
        .returning(Organization::as_returning())
        .get_result(conn)
        .optional()?)
}

pub fn find_by_uscc(conn: &mut PgConnection, uscc: &str) -> Result<Option<Organization>, DbError> {
    Ok(organizations::table
        .filter(organizations::uscc.eq(uscc))
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut PgConnection, id: i64) -> Result<Option<Organization>, DbError> {
    Ok(organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

/// A freshly issued key: the secret is shown once and never stored.
pub struct IssuedKey {
    pub secret: String,
    pub prefix: String,
}

/// Issues a new API key for the organisation; only its SHA-256 is kept.
pub fn issue_key(
    conn: &mut PgConnection,
    organization_id: i64,
    at: DateTime<Utc>,
) -> Result<IssuedKey, DbError> {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("wb_{}", hex::encode(bytes));
    let prefix = secret[..10].to_owned();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::organization_id.eq(organization_id),
            api_keys::key_hash.eq(hash_key(&secret)),
            api_keys::key_prefix.eq(&prefix),
            api_keys::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(IssuedKey { secret, prefix })
}

/// The organisation a live key belongs to.
pub fn find_by_key(conn: &mut PgConnection, secret: &str) -> Result<Option<Organization>, DbError> {
    Ok(api_keys::table
        .inner_join(organizations::table)
        .filter(api_keys::key_hash.eq(hash_key(secret)))
        .filter(api_keys::revoked_at.is_null())
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

fn hash_key(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}
