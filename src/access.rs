//! Who may see and change what. Pure rules, no I/O: the API asks these
//! functions, the database answers only what they allow.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of an organisation, which fixes what its keys may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// 建设单位: pays labour cost in; reads its projects.
    Owner,
    /// 施工总承包单位: registers projects and pays every worker.
    Contractor,
    /// 分包单位: employs workers, keeps their roster, attendance and payroll.
    Subcontractor,
    /// 开户银行: holds the account and exchanges files.
    Bank,
    /// 人社部门 / 行业主管部门: reads its region, never writes.
    Regulator,
    /// Operates wagebridge itself.
    Admin,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::Owner,
        OrgKind::Contractor,
        OrgKind::Subcontractor,
        OrgKind::Bank,
        OrgKind::Regulator,
        OrgKind::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Owner => "owner",
            OrgKind::Contractor => "contractor",
            OrgKind::Subcontractor => "subcontractor",
            OrgKind::Bank => "bank",
            OrgKind::Regulator => "regulator",
            OrgKind::Admin => "admin",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not an organisation kind (owner, contractor, subcontractor, bank, regulator, admin)")
            })
    }
}

/// How the calling organisation stands to one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectRole {
    /// The general contractor that registered it.
    Contractor,
    /// The owner (建设单位).
    Owner,
    /// A subcontractor attached to it.
    Subcontractor,
    /// A regulator whose region covers it.
    Regulator,
    /// wagebridge's own operators.
    Admin,
}

impl ProjectRole {
    /// May read the project and its registry.
    pub fn can_read(self) -> bool {
        true
    }

    /// May change the project itself, its account and its subcontractors.
    pub fn can_manage(self) -> bool {
        matches!(self, ProjectRole::Contractor)
    }

    /// May write roster and attendance rows (a subcontractor only for its own workers).
    pub fn can_write_workers(self) -> bool {
        matches!(self, ProjectRole::Contractor | ProjectRole::Subcontractor)
    }
}
