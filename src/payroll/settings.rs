//! A project's payroll settings: whether lines the workers have not
//! confirmed may be approved. Changing them is audited.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use crate::db::projects::Project;
use crate::db::{self, audit};
use crate::error::AppError;

/// Whether the project lets unconfirmed lines be approved.
pub(crate) fn allows_unconfirmed(
    conn: &mut PgConnection,
    project: &Project,
) -> Result<bool, AppError> {
    Ok(db::payrolls::allows_unconfirmed(conn, project.id)?)
}

/// Sets the setting in one transaction, with an audit record when it changes.
pub(crate) fn set_allows_unconfirmed(
    conn: &mut PgConnection,
    project: &Project,
    by: i64,
    allow: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let before = db::payrolls::allows_unconfirmed(conn, project.id)?;
        if before != allow {
            db::payrolls::set_allows_unconfirmed(conn, project.id, allow)?;
            audit::record(
                conn,
                now,
                Some(by),
                "project",
                Some(project.id),
                "payroll_settings_changed",
                serde_json::json!({ "allow_unconfirmed_approval": { "from": before, "to": allow } }),
            )?;
        }
        Ok(())
    })
}
