//! Arbitrary schema metadata into the DDL emitter: the result is a typed error, or SQL that an
//! in-memory SQLite accepts in full (create, create again, drop), after which `verify` reports
//! no difference and drop leaves nothing behind.
#![no_main]

use arbitrary::Arbitrary;
use dbconfig::Dialect;
use dbconfig::schema::{
    Action, Column, ColumnType, ColumnDefault, EnumType, ForeignKey, Index, IndexPart, Literal,
    Metadata, Table, ddl, reflect,
};
use libfuzzer_sys::fuzz_target;

/// Names from a small pool (so references hit), or arbitrary text.
#[derive(Arbitrary, Debug, Clone)]
enum Name {
    Pool(u8),
    Text(String),
}

const POOL: &[&str] = &[
    "a", "b", "c", "id", "A", "select", "x\";--", "'; DROP TABLE t; --", "données", "a b", "",
    "main", "sqlite_x", "e",
];

impl Name {
    fn get(&self) -> String {
        match self {
            Name::Pool(i) => POOL[*i as usize % POOL.len()].to_owned(),
            Name::Text(t) => t.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Ty {
    Integer,
    BigInt,
    SmallInt,
    Real,
    Double,
    Numeric(u8, u8),
    Text,
    Varchar(u16),
    Boolean,
    Bytes,
    Uuid,
    Json,
    Jsonb,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Enum(Name),
}

impl Ty {
    fn get(&self) -> ColumnType {
        match self {
            Ty::Integer => ColumnType::Integer,
            Ty::BigInt => ColumnType::BigInt,
            Ty::SmallInt => ColumnType::SmallInt,
            Ty::Real => ColumnType::Real,
            Ty::Double => ColumnType::Double,
            Ty::Numeric(p, s) => ColumnType::Numeric {
                precision: u16::from(*p),
                scale: u16::from(*s),
            },
            Ty::Text => ColumnType::Text,
            Ty::Varchar(n) => ColumnType::Varchar(u32::from(*n)),
            Ty::Boolean => ColumnType::Boolean,
            Ty::Bytes => ColumnType::Bytes,
            Ty::Uuid => ColumnType::Uuid,
            Ty::Json => ColumnType::Json,
            Ty::Jsonb => ColumnType::Jsonb,
            Ty::Date => ColumnType::Date,
            Ty::Time => ColumnType::Time,
            Ty::Timestamp => ColumnType::Timestamp,
            Ty::TimestampTz => ColumnType::TimestampTz,
            Ty::Interval => ColumnType::Interval,
            Ty::Enum(n) => ColumnType::Enum(n.get()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Def {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Now,
    /// From a list of expressions valid in SQLite (expressions are trusted text).
    Expr(u8),
}

const EXPRS: &[&str] = &["1 + 1", "'x' || 'y'", "abs(-3)", "NULL", "CURRENT_DATE"];

#[derive(Arbitrary, Debug)]
struct Col {
    name: Name,
    ty: Ty,
    nullable: bool,
    default: Option<Def>,
    identity: bool,
}

#[derive(Arbitrary, Debug)]
struct Fk {
    columns: Vec<Name>,
    table: Name,
    ref_columns: Vec<Name>,
    on_delete: u8,
}

#[derive(Arbitrary, Debug)]
struct Ix {
    name: Name,
    unique: bool,
    /// Column names; `None` = an expression on the first column.
    parts: Vec<Option<Name>>,
    partial: bool,
    desc: bool,
    method: bool,
}

#[derive(Arbitrary, Debug)]
struct Tbl {
    name: Name,
    schema: Option<Name>,
    columns: Vec<Col>,
    pk: Vec<Name>,
    uniques: Vec<Vec<Name>>,
    checks: Vec<bool>,
    fks: Vec<Fk>,
    indexes: Vec<Ix>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    enums: Vec<(Name, Vec<Name>)>,
    tables: Vec<Tbl>,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn action(n: u8) -> Action {
    match n % 5 {
        0 => Action::NoAction,
        1 => Action::Cascade,
        2 => Action::SetNull,
        3 => Action::Restrict,
        _ => Action::SetDefault,
    }
}

fn build(input: &Input) -> Metadata {
    let mut m = Metadata::new();
    for (name, values) in &input.enums {
        m = m.enum_type(EnumType::new(name.get(), values.iter().map(Name::get)));
    }
    for t in &input.tables {
        let mut table = Table::new(t.name.get());
        table.schema = t.schema.as_ref().map(Name::get);
        for c in &t.columns {
            let mut column = Column::new(c.name.get(), c.ty.get());
            column.nullable = c.nullable;
            column.identity = c.identity;
            column.default = c.default.as_ref().map(|d| match d {
                Def::Null => ColumnDefault::Value(Literal::Null),
                Def::Bool(b) => ColumnDefault::Value(Literal::Bool(*b)),
                Def::Int(i) => ColumnDefault::Value(Literal::Int(*i)),
                Def::Float(f) => ColumnDefault::Value(Literal::Float(*f)),
                Def::Text(s) => ColumnDefault::Value(Literal::Text(s.clone())),
                Def::Now => ColumnDefault::CurrentTimestamp,
                Def::Expr(i) => ColumnDefault::Expr(EXPRS[*i as usize % EXPRS.len()].to_owned()),
            });
            table = table.column(column);
        }
        let first = t.columns.first().map(|c| c.name.get()).unwrap_or_default();
        table.primary_key = t.pk.iter().map(Name::get).collect();
        for u in &t.uniques {
            table = table.unique(None, u.iter().map(Name::get));
        }
        for &named in &t.checks {
            let name = named.then_some("ck named");
            table = table.check(name, format!("{} IS NOT NULL OR 1 = 1", quoted(&first)));
        }
        for fk in &t.fks {
            table = table.foreign_key(
                ForeignKey::new(
                    fk.columns.iter().map(Name::get),
                    fk.table.get(),
                    fk.ref_columns.iter().map(Name::get),
                )
                .on_delete(action(fk.on_delete)),
            );
        }
        for ix in &t.indexes {
            let parts: Vec<IndexPart> = ix
                .parts
                .iter()
                .map(|p| match p {
                    Some(n) => IndexPart::column(n.get()),
                    None => IndexPart::expr(format!("coalesce({}, 0)", quoted(&first))),
                })
                .map(|p| if ix.desc { p.desc() } else { p })
                .collect();
            let mut index = Index::on(ix.name.get(), parts);
            index.unique = ix.unique;
            if ix.partial {
                index = index.filter(format!("{} IS NOT NULL", quoted(&first)));
            }
            if ix.method {
                index = index.method("gin");
            }
            table = table.index(index);
        }
        m = m.table(table);
    }
    m
}

fuzz_target!(|input: Input| {
    let metadata = build(&input);
    // The PostgreSQL emitter must not panic either (its SQL needs a server to check).
    let _ = ddl::create_statements(&metadata, Dialect::Postgres);
    let _ = ddl::drop_statements(&metadata, Dialect::Postgres);
    let Ok(create) = ddl::create_statements(&metadata, Dialect::Sqlite) else {
        return;
    };
    let drop = ddl::drop_statements(&metadata, Dialect::Sqlite).expect("drop after create");
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    for round in 0..2 {
        conn.execute_batch("BEGIN").unwrap();
        for sql in &create {
            if let Err(e) = conn.execute_batch(sql) {
                panic!("round {round}: sqlite rejected\n{sql}\n{e}\nmetadata: {metadata:#?}");
            }
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    let diff = reflect::sqlite::verify(&conn, &metadata).unwrap();
    assert!(diff.is_empty(), "{diff:#?}\n{create:#?}");
    conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN").unwrap();
    for sql in &drop {
        conn.execute_batch(sql).unwrap_or_else(|e| panic!("drop rejected\n{sql}\n{e}"));
    }
    conn.execute_batch("COMMIT").unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
});
