//! What each dialect cannot do, checked after [`Metadata::validate`].

use std::collections::HashSet;

use super::ddl::names::{self, PG_MAX_NAME};
use super::validate::name_ok;
use super::{Metadata, SchemaError, Table};
use crate::url::Dialect;

/// Index access methods PostgreSQL ships.
const PG_METHODS: &[&str] = &["btree", "hash", "gist", "spgist", "gin", "brin"];

impl Metadata {
    /// [`validate`](Self::validate), then what `dialect` cannot do: SQLite has no schemas and
    /// its identity column must be the whole primary key; PostgreSQL names are at most 63 bytes.
    /// (PostgreSQL-only index parts, the method, operator classes and `INCLUDE`, are left out on
    /// SQLite, not refused.)
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate_for(&self, dialect: Dialect) -> Result<(), SchemaError> {
        self.validate()?;
        match dialect {
            Dialect::Sqlite => self.validate_sqlite(),
            Dialect::Postgres => self.validate_postgres(),
        }
    }

    fn validate_sqlite(&self) -> Result<(), SchemaError> {
        let unsupported = |feature: &str, object: String| SchemaError::Unsupported {
            dialect: Dialect::Sqlite,
            feature: feature.to_owned(),
            object,
        };
        let main = |schema: Option<&str>| schema.is_none_or(|s| s == "main");
        // SQLite compares names case-insensitively for ASCII ("A" and "a" are one table), and
        // tables and indexes share one namespace.
        let mut relations = HashSet::new();
        for table in &self.tables {
            let (label, names_here) = relation_names(table);
            for (what, name) in names_here {
                // https://www.sqlite.org/lang_createtable.html: "sqlite_" names are SQLite's.
                let prefix = name.as_bytes().get(..7);
                if prefix.is_some_and(|p| p.eq_ignore_ascii_case(b"sqlite_")) {
                    return Err(SchemaError::Unsupported {
                        dialect: Dialect::Sqlite,
                        feature: "names starting with sqlite_ (reserved for internal use)".into(),
                        object: format!("{what} {name}"),
                    });
                }
                if !relations.insert(name.to_ascii_lowercase()) {
                    return Err(SchemaError::Duplicate {
                        what: format!("{what} name (sqlite ignores ASCII case; table {label})"),
                        name,
                    });
                }
            }
            let mut columns = HashSet::new();
            for c in &table.columns {
                if !columns.insert(c.name.to_ascii_lowercase()) {
                    return Err(SchemaError::Duplicate {
                        what: format!("column of table {label} (sqlite ignores ASCII case)"),
                        name: c.name.clone(),
                    });
                }
            }
        }
        for table in &self.tables {
            let label = names::display(table.schema.as_deref(), &table.name);
            if !main(table.schema.as_deref()) {
                return Err(unsupported(
                    "schemas other than main",
                    format!("table {label}"),
                ));
            }
            for fk in &table.foreign_keys {
                if !main(fk.ref_schema.as_deref()) {
                    return Err(unsupported(
                        "schemas other than main",
                        format!(
                            "foreign key {} of table {label}",
                            names::foreign_key(table, fk)
                        ),
                    ));
                }
            }
            for column in table.columns.iter().filter(|c| c.identity) {
                if table.primary_key != [column.name.clone()] {
                    return Err(unsupported(
                        "an identity column that is not the whole primary key",
                        format!("column {} of table {label}", column.name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_postgres(&self) -> Result<(), SchemaError> {
        let check = |what: &str, name: &str| {
            if name.len() > PG_MAX_NAME {
                return Err(SchemaError::NameTooLong {
                    what: what.to_owned(),
                    name: name.to_owned(),
                });
            }
            Ok(())
        };
        for e in &self.enums {
            check("enum type", &e.name)?;
            for v in &e.values {
                check(&format!("label of enum type {}", e.name), v)?;
            }
        }
        // Tables and indexes (primary keys and unique constraints are indexes) share one
        // namespace per schema.
        let mut relations = HashSet::new();
        for table in &self.tables {
            let (label, names_here) = relation_names(table);
            for (what, name) in names_here {
                if !relations.insert((table.schema.clone(), name.clone())) {
                    return Err(SchemaError::Duplicate {
                        what: format!("{what} name in the schema of table {label}"),
                        name,
                    });
                }
            }
        }
        let schemas = self
            .tables
            .iter()
            .filter_map(|t| t.schema.as_deref())
            .chain(self.enums.iter().filter_map(|e| e.schema.as_deref()));
        for schema in schemas {
            // https://www.postgresql.org/docs/current/ddl-schemas.html: "pg_" is reserved.
            if schema.starts_with("pg_") {
                return Err(SchemaError::Unsupported {
                    dialect: Dialect::Postgres,
                    feature: "schema names starting with pg_ (reserved for system schemas)".into(),
                    object: format!("schema {schema}"),
                });
            }
        }
        for table in &self.tables {
            let label = names::display(table.schema.as_deref(), &table.name);
            check("table", &table.name)?;
            if let Some(schema) = &table.schema {
                check("schema", schema)?;
            }
            for c in &table.columns {
                check(&format!("column of table {label}"), &c.name)?;
            }
            for name in names::index_like_names(table) {
                check(&format!("index or constraint of table {label}"), &name)?;
            }
            for fk in &table.foreign_keys {
                check(
                    &format!("foreign key of table {label}"),
                    &names::foreign_key(table, fk),
                )?;
            }
            for index in table
                .indexes
                .iter()
                .filter(|i| i.applies_to(Dialect::Postgres))
            {
                if let Some(method) = &index.method
                    && !PG_METHODS.contains(&method.to_ascii_lowercase().as_str())
                {
                    return Err(SchemaError::Unsupported {
                        dialect: Dialect::Postgres,
                        feature: format!("index method {method:?}"),
                        object: format!("index {} of table {label}", index.name),
                    });
                }
                for part in &index.parts {
                    if let Some(opclass) = &part.opclass {
                        name_ok(
                            || format!("operator class in index {}", index.name),
                            opclass,
                        )?;
                        check(&format!("operator class in index {}", index.name), opclass)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A table's label for messages, and the names it puts in its schema's namespace of relations
/// (the table itself, its indexes, primary key and unique constraints).
fn relation_names(table: &Table) -> (String, Vec<(&'static str, String)>) {
    let label = names::display(table.schema.as_deref(), &table.name);
    let mut names_here = vec![("table", table.name.clone())];
    names_here.extend(
        names::index_like_names(table)
            .into_iter()
            .map(|n| ("index or key", n)),
    );
    (label, names_here)
}
