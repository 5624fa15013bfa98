//! JSON uploads: `{"<list_key>": [...]}` or a bare array of row objects.
//!
//! The body is read as a stream of rows, never as one `serde_json::Value`
//! tree (which takes ten times the body): rows, fields per row and cell text
//! are counted as they come, and lists or objects where a cell should be are
//! skipped without being built.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::{excerpt, mask_numbers, Limit, TableError};
use super::report::RowProblem;
use super::table::{RawRow, Table};
use super::{Limits, Schema};

/// How serde_json (with `arbitrary_precision`, as this crate builds it)
/// hands a number to a visitor: a map with this one key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Reads a JSON upload into a table. Unknown fields are row problems: a JSON
/// body is an API contract, not a file as it comes.
pub fn read_json(bytes: &[u8], schema: &Schema, limits: &Limits) -> Result<Table, TableError> {
    let ctx = Ctx {
        schema,
        limits,
        fault: RefCell::new(None),
        cells: RefCell::new(0),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Body(&ctx)
        .deserialize(&mut de)
        .and_then(|rows| de.end().map(|()| rows));
    match (result, ctx.fault.into_inner()) {
        (_, Some(fault)) => Err(fault),
        (Ok(rows), None) => Ok(table(rows)),
        (Err(e), None) => Err(TableError::malformed(
            "MALFORMED_JSON",
            format!(
                "the body is not valid JSON: {}",
                excerpt_long(&e.to_string())
            ),
        )),
    }
}

/// Rows from JSON objects already taken out of a body (one object a row).
pub fn rows_from_json_items(
    items: Vec<serde_json::Value>,
    schema: &Schema,
    limits: &Limits,
) -> Result<Table, TableError> {
    if items.len() > limits.max_rows {
        return Err(too_many_rows(limits));
    }
    let text = serde_json::to_vec(&items)
        .map_err(|_| TableError::malformed("MALFORMED_JSON", "the rows cannot be read as JSON"))?;
    read_json(&text, schema, limits)
}

fn table(rows: Vec<RawRow>) -> Table {
    let mut columns: Vec<&'static str> = Vec::new();
    for row in &rows {
        for key in row.keys() {
            if !columns.contains(&key) {
                columns.push(key);
            }
        }
    }
    Table {
        rows,
        columns,
        ..Table::default()
    }
}

fn excerpt_long(message: &str) -> String {
    mask_numbers(&message.chars().take(160).collect::<String>())
}

fn too_many_rows(limits: &Limits) -> TableError {
    TableError::over_limit(
        "UPLOAD_TOO_MANY_ROWS",
        Limit::Rows,
        limits.max_rows as u64,
        format!("the upload has more than {} rows", limits.max_rows),
    )
}

struct Ctx<'a> {
    schema: &'a Schema,
    limits: &'a Limits,
    /// The refusal that stopped the stream (serde's own error cannot carry it).
    fault: RefCell<Option<TableError>>,
    cells: RefCell<u64>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&self, fault: TableError) -> E {
        self.fault.borrow_mut().get_or_insert(fault);
        E::custom("refused")
    }
}

/// The whole body: an object holding the list, or the list itself.
struct Body<'c, 'a>(&'c Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Body<'_, '_> {
    type Value = Vec<RawRow>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<RawRow>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Body<'_, '_> {
    type Value = Vec<RawRow>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<RawRow>, A::Error> {
        Rows(self.0).visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<RawRow>, A::Error> {
        let list_key = self.0.schema.list_key;
        let mut rows = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != list_key || rows.is_some() {
                let shown = excerpt(&key);
                return Err(self.0.fail(TableError::invalid_field(
                    shown.clone(),
                    "UNKNOWN_FIELD",
                    format!("unknown field {shown:?}; the body holds only {list_key:?}"),
                )));
            }
            rows = Some(map.next_value_seed(Rows(self.0))?);
        }
        rows.ok_or_else(|| self.0.fail(missing_list(list_key)))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<RawRow>, E> {
        Err(self.0.fail(not_a_body(self.0.schema.list_key)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<RawRow>, E> {
        Err(self.0.fail(not_a_body(self.0.schema.list_key)))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<RawRow>, E> {
        Err(self.0.fail(not_a_body(self.0.schema.list_key)))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<RawRow>, E> {
        Err(self.0.fail(not_a_body(self.0.schema.list_key)))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<RawRow>, E> {
        Err(self.0.fail(not_a_body(self.0.schema.list_key)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<RawRow>, E> {
        Err(self.0.fail(not_a_body(self.0.schema.list_key)))
    }
}

fn not_a_body(list_key: &str) -> TableError {
    TableError::malformed(
        "MALFORMED_BODY",
        format!("the body must be an object with {list_key:?} or an array of rows"),
    )
}

fn missing_list(list_key: &str) -> TableError {
    TableError::invalid_field(
        list_key,
        "MISSING_FIELD",
        format!("{list_key:?} must be an array of rows"),
    )
}

/// The list of rows.
struct Rows<'c, 'a>(&'c Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Rows<'_, '_> {
    type Value = Vec<RawRow>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<RawRow>, D::Error> {
        let ctx = self.0;
        d.deserialize_any(self).inspect_err(|_| {
            // Anything but an array where the list should be.
            ctx.fault
                .borrow_mut()
                .get_or_insert_with(|| missing_list(ctx.schema.list_key));
        })
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_> {
    type Value = Vec<RawRow>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<RawRow>, A::Error> {
        let mut rows = Vec::new();
        loop {
            if rows.len() >= self.0.limits.max_rows {
                // One more row is an error; the end of the list is not.
                return match seq.next_element::<IgnoredAny>()? {
                    None => Ok(rows),
                    Some(_) => Err(self.0.fail(too_many_rows(self.0.limits))),
                };
            }
            let number = rows.len() + 1;
            match seq.next_element_seed(Row(self.0, number))? {
                Some(row) => rows.push(row),
                None => return Ok(rows),
            }
        }
    }
}

/// One row: an object of fields.
struct Row<'c, 'a>(&'c Ctx<'a>, usize);

impl<'de> DeserializeSeed<'de> for Row<'_, '_> {
    type Value = RawRow;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawRow, D::Error> {
        let number = self.1;
        // Anything but an object is a row problem, not a refusal of the body.
        let cell = d.deserialize_any(RowVisitor(self.0, number))?;
        Ok(cell.unwrap_or_else(|| {
            let mut row = RawRow::new(number);
            row.problems.push(RowProblem::new(
                None,
                "MALFORMED_ROW",
                "a row must be a JSON object",
            ));
            row
        }))
    }
}

struct RowVisitor<'c, 'a>(&'c Ctx<'a>, usize);

impl<'de> Visitor<'de> for RowVisitor<'_, '_> {
    type Value = Option<RawRow>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<RawRow>, A::Error> {
        let Ctx { schema, limits, .. } = self.0;
        let mut row = RawRow::new(self.1);
        let mut fields = 0usize;
        while let Some(key) = map.next_key::<String>()? {
            if key == NUMBER_TOKEN {
                map.next_value::<IgnoredAny>()?;
                return Ok(None);
            }
            fields += 1;
            if fields > limits.max_columns {
                return Err(self.0.fail(TableError::over_limit(
                    "UPLOAD_TOO_MANY_COLUMNS",
                    Limit::Columns,
                    limits.max_columns as u64,
                    format!("row {} has more than {} fields", self.1, limits.max_columns),
                )));
            }
            let Some(column) = schema.find_key(&key) else {
                map.next_value::<IgnoredAny>()?;
                let shown = excerpt(&key);
                row.problems.push(RowProblem::field(
                    &shown,
                    "UNKNOWN_FIELD",
                    format!("unknown field {shown:?}"),
                ));
                continue;
            };
            let key = column.column.key;
            match map.next_value::<Cell>()? {
                Cell::Null => {}
                Cell::NotText => row.problems.push(RowProblem::field(
                    key,
                    "INVALID_FIELD",
                    "must be text or a number, not a list or an object",
                )),
                Cell::Text(text) => {
                    if text.chars().count() > limits.max_cell_chars {
                        return Err(self.0.fail(
                            TableError::over_limit(
                                "CELL_TOO_LONG",
                                Limit::CellChars,
                                limits.max_cell_chars as u64,
                                format!("row {} has a field longer than allowed", self.1),
                            )
                            .with_field(key),
                        ));
                    }
                    let mut cells = self.0.cells.borrow_mut();
                    *cells += 1;
                    if *cells > limits.max_cells {
                        return Err(self.0.fail(TableError::over_limit(
                            "UPLOAD_TOO_MANY_CELLS",
                            Limit::Cells,
                            limits.max_cells,
                            format!("the upload has more than {} fields", limits.max_cells),
                        )));
                    }
                    row.insert(key, text);
                }
            }
        }
        Ok(Some(row))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<RawRow>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<RawRow>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<RawRow>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<RawRow>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<RawRow>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<RawRow>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<RawRow>, E> {
        Ok(None)
    }
}

/// A field value: text as sent (a number keeps its exact text, so `1.005`
/// stays `1.005` and is refused later, never rounded).
enum Cell {
    Text(String),
    Null,
    NotText,
}

impl<'de> de::Deserialize<'de> for Cell {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
        Ok(Cell::Text(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::NotText)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == NUMBER_TOKEN => Ok(Cell::Text(map.next_value::<String>()?)),
            Some(_) => {
                map.next_value::<IgnoredAny>()?;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Cell::NotText)
            }
            None => Ok(Cell::NotText),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::columns::{PAYROLL, ROSTER};

    fn read(body: &str) -> Result<Table, TableError> {
        read_json(body.as_bytes(), &ROSTER, &Limits::default())
    }

    #[test]
    fn object_or_bare_array_with_exact_numbers() {
        let t = read(r#"{"workers": [{"name": "张三", "id_number": "110105194912310021", "phone": 13800000000}]}"#).unwrap();
        assert_eq!(t.rows[0].get("phone"), Some("13800000000"));
        let t = read_json(
            br#"[{"net": 1.005, "gross": 5500.50, "id_number": null}]"#,
            &PAYROLL,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(t.rows[0].get("net"), Some("1.005"));
        assert_eq!(t.rows[0].get("gross"), Some("5500.50"));
        assert_eq!(t.rows[0].get("id_number"), None);
        assert!(t.has_column("net") && !t.has_column("id_number"));
    }

    #[test]
    fn unknown_fields_and_bad_rows_are_row_problems() {
        let t =
            read(r#"[{"nmae": "x", "name": ["a"]}, 5, "x", {"420111198503120012": 1}]"#).unwrap();
        let codes: Vec<&str> = t.rows[0].problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["UNKNOWN_FIELD", "INVALID_FIELD"]);
        assert_eq!(t.rows[1].problems[0].code, "MALFORMED_ROW");
        assert_eq!(t.rows[2].problems[0].code, "MALFORMED_ROW");
        assert_eq!(
            t.rows[3].problems[0].field.as_deref(),
            Some("4201**********0012")
        );
    }

    #[test]
    fn body_shape_faults_keep_their_codes() {
        let code = |b: &str| read(b).map(|_| ()).unwrap_err();
        assert_eq!(code(r#"{"rows": []}"#).code, "UNKNOWN_FIELD");
        assert_eq!(code(r#"{"workers": 3}"#).code, "MISSING_FIELD");
        assert_eq!(code(r#"{}"#).code, "MISSING_FIELD");
        assert_eq!(code("7").code, "MALFORMED_BODY");
        assert_eq!(code("[{").code, "MALFORMED_JSON");
        assert_eq!(code("[] x").code, "MALFORMED_JSON");
        let e = code(r#"{"420111198503120012": []}"#);
        assert!(!format!("{e:?}").contains("420111198503120012"));
    }

    #[test]
    fn rows_and_fields_are_bounded_while_reading() {
        let limits = Limits {
            max_rows: 2,
            max_columns: 2,
            ..Limits::default()
        };
        let read = |b: &str| read_json(b.as_bytes(), &ROSTER, &limits);
        assert_eq!(read("[{}, {}]").unwrap().rows.len(), 2);
        let e = read("[{}, {}, {}]").unwrap_err();
        assert_eq!((e.code, e.status), ("UPLOAD_TOO_MANY_ROWS", 422));
        let e = read(r#"[{"a": 1, "b": 2, "c": 3}]"#).unwrap_err();
        assert_eq!(e.code, "UPLOAD_TOO_MANY_COLUMNS");
        // A huge list in a cell is skipped, not built.
        let big = format!(r#"[{{"name": [{}0]}}]"#, "0,".repeat(100_000));
        assert_eq!(
            read(&big).unwrap().rows[0].problems[0].code,
            "INVALID_FIELD"
        );
    }
}
