//! `src/db/schema.rs` agrees with the database the migrations build.
//!
//! diesel trusts schema.rs blindly: a column added by a migration but not to
//! schema.rs is invisible, and one declared with the wrong type or
//! nullability fails only at run time, on the first row that exercises it.
//! This test reads the `diesel::table!` blocks as text and compares them,
//! table by table and column by column, with `information_schema` of a
//! freshly migrated database, both ways.

mod common;

use std::collections::BTreeMap;

use diesel::RunQueryDsl;

use common::TestDb;

/// One column as both sides describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ColumnType {
    /// PostgreSQL's name of the type, as `information_schema` spells it (`bigint`, `text[]`).
    sql_type: String,
    nullable: bool,
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let null = if self.nullable { "NULL" } else { "NOT NULL" };
        write!(f, "{} {null}", self.sql_type)
    }
}

/// table → (primary key columns, column → type)
type Schema = BTreeMap<String, Table>;

#[derive(Debug, Default)]
struct Table {
    primary_key: Vec<String>,
    columns: BTreeMap<String, ColumnType>,
}

/// diesel's SQL type names → PostgreSQL's (`information_schema.columns.data_type`).
fn postgres_type(diesel: &str) -> Option<String> {
    if let Some(inner) = strip_wrapper(diesel, "Array") {
        return postgres_type(inner).map(|t| format!("{t}[]"));
    }
    let name = match diesel {
        "Int8" | "BigInt" => "bigint",
        "Int4" | "Integer" => "integer",
        "Int2" | "SmallInt" => "smallint",
        "Text" => "text",
        "Varchar" | "VarChar" => "character varying",
        "Bpchar" | "Char" => "character",
        "Numeric" | "Decimal" => "numeric",
        "Float8" | "Double" => "double precision",
        "Float4" | "Float" => "real",
        "Timestamptz" => "timestamp with time zone",
        "Timestamp" => "timestamp without time zone",
        "Date" => "date",
        "Time" => "time without time zone",
        "Interval" => "interval",
        "Jsonb" => "jsonb",
        "Json" => "json",
        "Bytea" | "Binary" => "bytea",
        "Bool" => "boolean",
        "Uuid" => "uuid",
        "Inet" => "inet",
        "Cidr" => "cidr",
        _ => return None,
    };
    Some(name.to_owned())
}

/// `Nullable<Text>` with wrapper `Nullable` → `Text`.
fn strip_wrapper<'a>(ty: &'a str, wrapper: &str) -> Option<&'a str> {
    ty.strip_prefix(wrapper)?
        .trim()
        .strip_prefix('<')?
        .strip_suffix('>')
        .map(str::trim)
}

/// The `diesel::table!` blocks of schema.rs. Panics, naming the line, on what it cannot read,
/// so a new construct in schema.rs is noticed rather than skipped.
fn parse_schema_rs(text: &str) -> Result<Schema, String> {
    let mut schema = Schema::new();
    let mut current: Option<String> = None;
    let mut sql_name: Option<String> = None;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = || format!("schema.rs line {}: {raw:?}", number + 1);
        if let Some(name) = &current {
            if line == "}" {
                current = None;
            } else if let Some(attr) = line.strip_prefix("#[sql_name = ") {
                sql_name = Some(attr.trim_end_matches(']').trim_matches('"').to_owned());
            } else if line.starts_with("///") || line.starts_with("//") || line.is_empty() {
            } else if let Some((column, ty)) = line.split_once("->") {
                let ty = ty.trim().trim_end_matches(',').trim();
                let (inner, nullable) = match strip_wrapper(ty, "Nullable") {
                    Some(inner) => (inner, true),
                    None => (ty, false),
                };
                let sql_type = postgres_type(inner)
                    .ok_or_else(|| format!("{}: no PostgreSQL name known for {inner}", at()))?;
                let column = sql_name.take().unwrap_or_else(|| column.trim().to_owned());
                let table = schema.get_mut(name).ok_or_else(at)?;
                table
                    .columns
                    .insert(column, ColumnType { sql_type, nullable });
            } else {
                return Err(format!("{}: not a column", at()));
            }
        } else if let Some(header) = line.strip_suffix('{').map(str::trim) {
            // `organizations (id) {`, inside a `diesel::table! {` block.
            if header == "diesel::table!" {
                continue;
            }
            if let Some((name, key)) = header.split_once('(') {
                let name = name.trim().rsplit('.').next().unwrap_or("").to_owned();
                let primary_key = key
                    .trim_end_matches(')')
                    .split(',')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect();
                schema.insert(
                    name.clone(),
                    Table {
                        primary_key,
                        columns: BTreeMap::new(),
                    },
                );
                current = Some(name);
            }
        }
    }
    if schema.is_empty() {
        return Err("no diesel::table! blocks found in schema.rs".to_owned());
    }
    Ok(schema)
}

#[derive(diesel::QueryableByName)]
struct DbColumn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    element_type: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

#[derive(diesel::QueryableByName)]
struct DbKey {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

/// The tables of the public schema (diesel's own bookkeeping table left out).
fn read_database(db: &TestDb) -> Schema {
    let mut conn = db.conn();
    // For arrays, information_schema says only `ARRAY`; the element type is in element_types.
    let columns: Vec<DbColumn> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                c.data_type::text AS data_type, coalesce(e.data_type, '')::text AS element_type,
                (c.is_nullable = 'YES') AS nullable
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           LEFT JOIN information_schema.element_types e
             ON (c.table_catalog, c.table_schema, c.table_name, 'TABLE', c.dtd_identifier)
              = (e.object_catalog, e.object_schema, e.object_name, e.object_type, e.collection_type_identifier)
          WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
            AND c.table_name <> '__diesel_schema_migrations'
          ORDER BY c.table_name, c.ordinal_position",
    )
    .load(&mut conn)
    .expect("read information_schema.columns");
    let keys: Vec<DbKey> = diesel::sql_query(
        "SELECT k.table_name::text AS table_name, k.column_name::text AS column_name
           FROM information_schema.table_constraints c
           JOIN information_schema.key_column_usage k
             ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
          WHERE c.table_schema = 'public' AND c.constraint_type = 'PRIMARY KEY'
            AND c.table_name <> '__diesel_schema_migrations'
          ORDER BY k.table_name, k.ordinal_position",
    )
    .load(&mut conn)
    .expect("read the primary keys");

    let mut schema = Schema::new();
    for c in columns {
        let sql_type = if c.data_type == "ARRAY" {
            format!("{}[]", c.element_type)
        } else {
            c.data_type
        };
        schema.entry(c.table_name).or_default().columns.insert(
            c.column_name,
            ColumnType {
                sql_type,
                nullable: c.nullable,
            },
        );
    }
    for k in keys {
        schema
            .entry(k.table_name)
            .or_default()
            .primary_key
            .push(k.column_name);
    }
    schema
}

/// Every disagreement, one line each, naming the side that has what the other lacks.
fn differences(declared: &Schema, database: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (name, table) in declared {
        let Some(actual) = database.get(name) else {
            out.push(format!(
                "table {name}: in schema.rs, not in the migrated database"
            ));
            continue;
        };
        if table.primary_key != actual.primary_key {
            out.push(format!(
                "table {name}: primary key ({}) in schema.rs, ({}) in the database",
                table.primary_key.join(", "),
                actual.primary_key.join(", ")
            ));
        }
        for (column, ty) in &table.columns {
            match actual.columns.get(column) {
                None => out.push(format!(
                    "column {name}.{column}: in schema.rs ({ty}), not in the database"
                )),
                Some(real) if real != ty => out.push(format!(
                    "column {name}.{column}: schema.rs says {ty}, the database has {real}"
                )),
                Some(_) => {}
            }
        }
        for (column, real) in &actual.columns {
            if !table.columns.contains_key(column) {
                out.push(format!(
                    "column {name}.{column}: in the database ({real}), missing from schema.rs"
                ));
            }
        }
    }
    for name in database.keys() {
        if !declared.contains_key(name) {
            out.push(format!(
                "table {name}: in the migrated database, missing from schema.rs"
            ));
        }
    }
    out
}

#[test]
fn schema_rs_declares_exactly_the_tables_and_columns_the_migrations_create() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs");
    let text = std::fs::read_to_string(path).expect("read src/db/schema.rs");
    let declared = parse_schema_rs(&text).unwrap_or_else(|e| panic!("{e}"));
    let db = TestDb::new();
    let database = read_database(&db);
    assert!(
        database.contains_key("projects"),
        "the migrated database has no projects table: {:?}",
        database.keys().collect::<Vec<_>>()
    );

    let diff = differences(&declared, &database);
    assert!(
        diff.is_empty(),
        "src/db/schema.rs and the migrations disagree ({} difference(s)); \
         fix schema.rs (or the migration):\n  {}",
        diff.len(),
        diff.join("\n  ")
    );
}

#[test]
fn the_reader_understands_nullable_arrays_and_composite_keys() {
    let text = "diesel::table! {\n    t (a, b) {\n        a -> Int8,\n        b -> Nullable<Array<Text>>,\n        #[sql_name = \"type\"]\n        kind -> Bpchar,\n    }\n}\n";
    let schema = parse_schema_rs(text).unwrap_or_else(|e| panic!("{e}"));
    let t = &schema["t"];
    assert_eq!(t.primary_key, ["a", "b"]);
    assert_eq!(
        t.columns["b"],
        ColumnType {
            sql_type: "text[]".into(),
            nullable: true
        }
    );
    assert_eq!(t.columns["type"].sql_type, "character");
    assert!(!t.columns.contains_key("kind"));
    assert!(
        parse_schema_rs("diesel::table! {\n t (id) {\n  id -> Money,\n }\n}\n")
            .unwrap_err()
            .contains("Money")
    );
}
