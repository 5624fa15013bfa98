//! Every migration runs up, down and up again, and leaves the same schema.

mod common;

use diesel::{PgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;

use common::TestDb;
use wagebridge::db::MIGRATIONS;

#[derive(diesel::QueryableByName, PartialEq, Debug)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// A textual fingerprint of the public schema: columns, constraints, indexes, triggers.
fn schema(conn: &mut PgConnection) -> Vec<String> {
    let sql = "
        SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, coalesce(column_default, '')) AS line
          FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
        UNION ALL
        SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> '__diesel_schema_migrations'::regclass
        UNION ALL
        SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'
        UNION ALL
        SELECT format('trigger %s on %s', tgname, tgrelid::regclass) FROM pg_trigger WHERE NOT tgisinternal
        ORDER BY 1";
    diesel::sql_query(sql)
        .load::<Line>(conn)
        .expect("read schema")
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[test]
fn every_migration_runs_up_down_and_up_again_to_the_same_schema() {
    let db = TestDb::empty();
    let mut conn = db.conn();
    conn.run_pending_migrations(MIGRATIONS).expect("up");
    let first = schema(&mut conn);
    assert!(
        first.iter().any(|l| l.starts_with("column projects.code")),
        "schema read: {first:?}"
    );

    conn.revert_all_migrations(MIGRATIONS).expect("down");
    let empty = schema(&mut conn);
    assert!(empty.is_empty(), "down.sql left objects behind: {empty:?}");

    conn.run_pending_migrations(MIGRATIONS).expect("up again");
    assert_eq!(first, schema(&mut conn));
}
