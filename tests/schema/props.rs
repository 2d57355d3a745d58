//! Property test: random valid metadata always emits SQL that a real SQLite accepts, verify then
//! reports no difference, and drop leaves nothing behind.

use dbconfig::schema::{
    Action, Column, ColumnDefault, ColumnType, EnumType, ForeignKey, Index, IndexPart, Literal,
    Metadata, Table,
};
use dbconfig::{DatabaseConfig, SqliteConfig};
use proptest::prelude::*;

fn base_name() -> impl Strategy<Value = String> {
    // Letters plus quotes, spaces, punctuation, unicode and SQL keywords.
    prop_oneof![
        "[a-z][a-z0-9_]{0,8}",
        "[a-zA-Z \"'`;\\-()é✓]{1,8}",
        Just("select".to_owned()),
        Just("order".to_owned()),
        Just("x\";--".to_owned()),
    ]
}

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::Integer),
        Just(ColumnType::BigInt),
        Just(ColumnType::SmallInt),
        Just(ColumnType::Real),
        Just(ColumnType::Double),
        (1u16..30, 0u16..5).prop_map(|(p, s)| ColumnType::Numeric {
            precision: p + s,
            scale: s
        }),
        Just(ColumnType::Text),
        (1u32..300).prop_map(ColumnType::Varchar),
        Just(ColumnType::Boolean),
        Just(ColumnType::Bytes),
        Just(ColumnType::Uuid),
        Just(ColumnType::Json),
        Just(ColumnType::Jsonb),
        Just(ColumnType::Date),
        Just(ColumnType::Time),
        Just(ColumnType::Timestamp),
        Just(ColumnType::TimestampTz),
        Just(ColumnType::Interval),
        Just(ColumnType::Enum("e0".into())),
    ]
}

fn default_value() -> impl Strategy<Value = Option<ColumnDefault>> {
    prop_oneof![
        Just(None),
        any::<i64>().prop_map(|i| Some(ColumnDefault::Value(Literal::Int(i)))),
        (-1e6f64..1e6).prop_map(|f| Some(ColumnDefault::Value(Literal::Float(f)))),
        any::<bool>().prop_map(|b| Some(ColumnDefault::Value(Literal::Bool(b)))),
        "[a-z'\"\\\\ ]{0,6}".prop_map(|t| Some(ColumnDefault::Value(Literal::Text(t)))),
        Just(Some(ColumnDefault::CurrentTimestamp)),
        Just(Some(ColumnDefault::Value(Literal::Null))),
    ]
}

#[derive(Debug, Clone)]
struct ColumnSpec {
    name: String,
    ty: ColumnType,
    nullable: bool,
    default: Option<ColumnDefault>,
}

fn column_spec() -> impl Strategy<Value = ColumnSpec> {
    (base_name(), column_type(), any::<bool>(), default_value()).prop_map(
        |(name, ty, nullable, default)| ColumnSpec {
            name,
            ty,
            nullable,
            default,
        },
    )
}

#[derive(Debug, Clone)]
pub(crate) struct TableSpec {
    name: String,
    identity_key: bool,
    columns: Vec<ColumnSpec>,
    /// (column index, referenced table index, action)
    fks: Vec<(usize, usize, u8)>,
    uniques: Vec<Vec<usize>>,
    /// (column indexes, unique, partial, expression on the first column, descending)
    indexes: Vec<(Vec<usize>, bool, bool, bool, bool)>,
}

pub(crate) fn table_spec(tables: usize) -> impl Strategy<Value = TableSpec> {
    (
        base_name(),
        any::<bool>(),
        prop::collection::vec(column_spec(), 1..6),
        prop::collection::vec((0usize..6, 0..tables, 0u8..5), 0..3),
        prop::collection::vec(prop::collection::vec(0usize..6, 1..3), 0..2),
        prop::collection::vec(
            (
                prop::collection::vec(0usize..6, 1..3),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
            ),
            0..3,
        ),
    )
        .prop_map(
            |(name, identity_key, columns, fks, uniques, indexes)| TableSpec {
                name,
                identity_key,
                columns,
                fks,
                uniques,
                indexes,
            },
        )
}

pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn distinct(list: &[usize], len: usize) -> Vec<usize> {
    let mut out: Vec<usize> = list.iter().map(|i| i % len).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Builds valid metadata from the specs: names made unique by a suffix, references clamped to
/// what exists, every foreign key pointing at the referenced table's key column `id`.
pub(crate) fn build(specs: Vec<TableSpec>) -> Metadata {
    let mut metadata = Metadata::new().enum_type(EnumType::new("e0", ["a", "b'c", "d\"e"]));
    let count = specs.len();
    for (t, spec) in specs.into_iter().enumerate() {
        let mut table = Table::new(format!("{}{t}", spec.name));
        let key_type = if spec.identity_key {
            ColumnType::Integer
        } else {
            ColumnType::BigInt
        };
        let mut key = Column::new("id", key_type).not_null();
        if spec.identity_key {
            key = key.identity();
        }
        table = table.column(key).primary_key(["id"]);
        let names: Vec<String> = spec
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| format!("{}_{c}", col.name))
            .collect();
        for (col, name) in spec.columns.iter().zip(&names) {
            let mut column = Column::new(name.clone(), col.ty.clone());
            column.nullable = col.nullable;
            // A NULL default on a NOT NULL column is legal DDL; keep it.
            column.default = col.default.clone();
            table = table.column(column);
        }
        let n = names.len();
        for (i, (c, r, action)) in spec.fks.iter().enumerate() {
            let target = r % count;
            let column = format!("fk{i}_{}", names[c % n].len());
            // Integer foreign-key columns, so the types match the referenced key.
            table = table
                .column(Column::new(column.clone(), ColumnType::BigInt))
                .foreign_key(
                    ForeignKey::new([column], format!("{{target{target}}}"), ["id"]).on_delete(
                        match action {
                            0 => Action::NoAction,
                            1 => Action::Cascade,
                            2 => Action::SetNull,
                            3 => Action::Restrict,
                            _ => Action::SetDefault,
                        },
                    ),
                );
        }
        let mut seen = Vec::new();
        for list in &spec.uniques {
            let cols = distinct(list, n);
            if !seen.contains(&cols) {
                table = table.unique(None, cols.iter().map(|&c| names[c].clone()));
                seen.push(cols);
            }
        }
        for (i, (list, unique, partial, expression, desc)) in spec.indexes.iter().enumerate() {
            let cols = distinct(list, n);
            let mut parts: Vec<IndexPart> = cols
                .iter()
                .map(|&c| IndexPart::column(names[c].clone()))
                .collect();
            if *expression {
                parts[0] = IndexPart::expr(format!("coalesce({}, 0)", quoted(&names[cols[0]])));
            }
            if *desc {
                parts[0] = parts[0].clone().desc();
            }
            let mut index = Index::on(format!("ix{t}_{i} {}", names[cols[0]]), parts);
            if *unique {
                index = index.unique();
            }
            if *partial {
                index = index.filter(format!("{} IS NOT NULL", quoted(&names[cols[0]])));
            }
            table = table.index(index);
        }
        metadata = metadata.table(table);
    }
    // Resolve the placeholder targets now that every table name is known.
    let table_names: Vec<String> = metadata.tables.iter().map(|t| t.name.clone()).collect();
    for table in &mut metadata.tables {
        for fk in &mut table.foreign_keys {
            let index: usize = fk.ref_table["{target".len()..fk.ref_table.len() - 1]
                .parse()
                .unwrap();
            fk.ref_table = table_names[index].clone();
        }
    }
    metadata
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_metadata_creates_verifies_and_drops_on_sqlite(
        specs in (1usize..5).prop_flat_map(|n| prop::collection::vec(table_spec(n), n))
    ) {
        let metadata = build(specs);
        metadata.validate_for(dbconfig::Dialect::Sqlite).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let config = SqliteConfig::new("sqlite://").unwrap();
            let engine = config.build_engine().unwrap();
            if let Err(e) = config.create_db(&engine, &metadata).await {
                let sql = dbconfig::schema::ddl::create_statements(&metadata, dbconfig::Dialect::Sqlite).unwrap();
                panic!("{e:?}\n{}", sql.join(";\n"));
            }
            let diff = config.verify_db(&engine, &metadata).await.unwrap();
            assert!(diff.is_empty(), "{diff:#?}\n{metadata:#?}");
            config.create_db(&engine, &metadata).await.unwrap();
            config.drop_db(&engine, &metadata).await.unwrap();
            let left: i64 = engine
                .session()
                .run(|c| c.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)))
                .await
                .unwrap();
            assert_eq!(left, 0);
            engine.dispose();
        });
    }
}
