//! Organisations: owners, contractors, subcontractors, banks, regulators and
//! admins, registered by their unified social credit code (统一社会信用代码).
//! The API (`POST /v1/organizations`) and the CLI (`wagebridge org add`)
//! register them through the same use case.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::OrgKind;
use crate::db::organizations::{NewOrganization, Organization};
use crate::db::{self, audit};
use crate::domain::{RegionCode, Uscc};
use crate::error::{AppError, ErrorCode};
use crate::tabular::fields;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    pub kind: OrgKind,
    #[schema(example = "中建三局第一建设工程有限责任公司")]
    pub name: String,
    /// 统一社会信用代码 (GB 32100-2015).
    #[schema(example = "91420100177698339B")]
    pub uscc: String,
    /// Required for a regulator: it sees this region and everything under it.
    #[schema(example = "420000")]
    pub region_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub kind: OrgKind,
    pub name: String,
    pub uscc: String,
    pub region_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        OrganizationView {
            kind: o.kind(),
            name: o.name,
            uscc: o.uscc,
            region_code: o.region_code,
            created_at: o.created_at,
        }
    }
}

/// A checked request to register an organisation.
pub struct OrganizationInput {
    pub kind: OrgKind,
    pub name: String,
    pub uscc: Uscc,
    pub region: Option<RegionCode>,
}

impl OrganizationInput {
    pub fn parse(
        kind: OrgKind,
        name: &str,
        uscc: &str,
        region: Option<&str>,
    ) -> Result<Self, AppError> {
        let name = fields::text("name", name, 200)?;
        let uscc = fields::uscc("uscc", uscc)?;
        let region = region
            .map(|r| fields::region("region_code", r))
            .transpose()?;
        if kind == OrgKind::Regulator && region.is_none() {
            return Err(AppError::field(
                "region_code",
                ErrorCode::MissingField,
                "a regulator needs the region code it oversees",
            ));
        }
        Ok(OrganizationInput {
            kind,
            name,
            uscc,
            region,
        })
    }

    /// Stores it; a USCC already registered is a conflict.
    pub fn store(
        &self,
        conn: &mut PgConnection,
        actor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Organization, AppError> {
        conn.transaction(|conn| {
            let new = NewOrganization {
                kind: self.kind.as_str(),
                name: &self.name,
                uscc: self.uscc.as_str(),
                region_code: self.region.as_ref().map(|r| r.as_str()),
                created_at: now,
            };
            let Some(org) = db::organizations::insert(conn, &new)? else {
                return Err(AppError::field(
                    "uscc",
                    ErrorCode::OrganizationExists,
                    "an organisation with this USCC is already registered",
                ));
            };
            audit::record(
                conn,
                now,
                actor,
                "organization",
                Some(org.id),
                "created",
                serde_json::json!({ "kind": org.kind, "uscc": org.uscc }),
            )?;
            Ok(org)
        })
    }
}

/// Registers an organisation on behalf of `actor`.
pub fn create(
    conn: &mut PgConnection,
    actor: i64,
    input: CreateOrganization,
    now: DateTime<Utc>,
) -> Result<OrganizationView, AppError> {
    let input = OrganizationInput::parse(
        input.kind,
        &input.name,
        &input.uscc,
        input.region_code.as_deref(),
    )?;
    Ok(input.store(conn, Some(actor), now)?.into())
}
