//! Checks of [`Metadata`], all before any SQL is emitted or run.

use std::collections::{HashMap, HashSet};

use super::ddl::names;
use super::{ColumnDefault, ColumnType, Index, IndexTarget, Literal, Metadata, SchemaError, Table};

pub(super) fn name_ok(what: impl Fn() -> String, name: &str) -> Result<(), SchemaError> {
    if name.is_empty() || name.contains('\0') {
        return Err(SchemaError::BadName {
            what: what(),
            name: name.replace('\0', "\\0"),
        });
    }
    Ok(())
}

fn expr_ok(object: impl Fn() -> String, expr: &str) -> Result<(), SchemaError> {
    if expr.trim().is_empty() || expr.contains('\0') {
        return Err(SchemaError::Invalid {
            object: object(),
            reason: "the SQL expression is empty or contains a NUL byte".into(),
        });
    }
    Ok(())
}

/// A literal or expression default that can be emitted.
fn default_ok(object: impl Fn() -> String, default: &ColumnDefault) -> Result<(), SchemaError> {
    let reason = match default {
        ColumnDefault::Value(Literal::Float(f)) if !f.is_finite() => {
            "a float default must be finite"
        }
        ColumnDefault::Value(Literal::Text(t)) if t.contains('\0') => {
            "a text default cannot contain a NUL byte"
        }
        ColumnDefault::Expr(e) => return expr_ok(object, e),
        _ => return Ok(()),
    };
    Err(SchemaError::Invalid {
        object: object(),
        reason: reason.into(),
    })
}

/// SQLite's `type-name`: one or more words (letters, digits, `_`; the first starts with a
/// letter), optionally followed by `(n)` or `(n, m)` with signed numbers. Nothing else, so a
/// declared type can never carry more SQL.
pub(super) fn is_type_name(text: &str) -> bool {
    let (words, args) = match text.split_once('(') {
        Some((words, rest)) => match rest.strip_suffix(')') {
            Some(args) => (words, Some(args)),
            None => return false,
        },
        None => (text, None),
    };
    let word_ok = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_alphabetic())
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let number_ok = |n: &str| {
        let n = n.trim();
        let n = n.strip_prefix(['+', '-']).unwrap_or(n);
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
    };
    let mut any_word = false;
    for w in words.split_whitespace() {
        if !word_ok(w) {
            return false;
        }
        any_word = true;
    }
    any_word
        && args.is_none_or(|a| {
            let numbers: Vec<&str> = a.split(',').collect();
            numbers.len() <= 2 && numbers.into_iter().all(number_ok)
        })
}

impl Metadata {
    /// Checks the metadata independently of any dialect: names, duplicates, references between
    /// tables and columns, foreign keys against primary keys and unique constraints.
    ///
    /// # Errors
    /// The first problem found, naming the table and the column, index or constraint.
    pub fn validate(&self) -> Result<(), SchemaError> {
        let mut enum_names = HashSet::new();
        for e in &self.enums {
            name_ok(|| "enum type".into(), &e.name)?;
            if let Some(schema) = &e.schema {
                name_ok(|| format!("schema of enum type {}", e.name), schema)?;
            }
            if !enum_names.insert(e.name.as_str()) {
                return Err(SchemaError::Duplicate {
                    what: "enum type".into(),
                    name: e.name.clone(),
                });
            }
            if e.values.is_empty() {
                return Err(SchemaError::Invalid {
                    object: format!("enum type {}", e.name),
                    reason: "it has no values".into(),
                });
            }
            let mut labels = HashSet::new();
            for v in &e.values {
                name_ok(|| format!("label of enum type {}", e.name), v)?;
                if !labels.insert(v.as_str()) {
                    return Err(SchemaError::Duplicate {
                        what: format!("label of enum type {}", e.name),
                        name: v.clone(),
                    });
                }
            }
        }

        // Foreign-key targets by (schema, name), the first table of each as `find_table` finds
        // it: one hash lookup per foreign key keeps this linear in the number of tables.
        let mut by_name: HashMap<(Option<&str>, &str), &Table> = HashMap::new();
        for table in &self.tables {
            by_name
                .entry((table.schema.as_deref(), table.name.as_str()))
                .or_insert(table);
        }
        let mut tables = HashSet::new();
        // Index and constraint names share a namespace per schema in PostgreSQL (a unique
        // constraint or primary key is an index), and index names are per database in SQLite.
        let mut relation_names = HashSet::new();
        for table in &self.tables {
            let label = names::display(table.schema.as_deref(), &table.name);
            name_ok(|| "table".into(), &table.name)?;
            if let Some(schema) = &table.schema {
                name_ok(|| format!("schema of table {}", table.name), schema)?;
            }
            if !tables.insert((table.schema.as_deref(), table.name.as_str())) {
                return Err(SchemaError::Duplicate {
                    what: "table".into(),
                    name: label,
                });
            }
            self.validate_table(table, &label, &by_name)?;
            for name in names::index_like_names(table) {
                if !relation_names.insert((table.schema.clone(), name.clone())) {
                    return Err(SchemaError::Duplicate {
                        what: format!("index or key name (table {label})"),
                        name,
                    });
                }
            }
        }
        Ok(())
    }

    fn validate_table(
        &self,
        table: &Table,
        label: &str,
        by_name: &HashMap<(Option<&str>, &str), &Table>,
    ) -> Result<(), SchemaError> {
        if table.columns.is_empty() {
            return Err(SchemaError::NoColumns {
                table: label.to_owned(),
            });
        }
        let mut columns = HashSet::new();
        for column in &table.columns {
            name_ok(|| format!("column of table {label}"), &column.name)?;
            if !columns.insert(column.name.as_str()) {
                return Err(SchemaError::Duplicate {
                    what: format!("column of table {label}"),
                    name: column.name.clone(),
                });
            }
            let object = || format!("column {} of table {label}", column.name);
            if let ColumnType::Enum(name) = &column.ty
                && !self.enums.iter().any(|e| &e.name == name)
            {
                return Err(SchemaError::UnknownEnum {
                    table: label.to_owned(),
                    column: column.name.clone(),
                    name: name.clone(),
                });
            }
            if column.identity && !column.ty.is_integer() {
                return Err(SchemaError::Invalid {
                    object: object(),
                    reason: format!("an identity column must be an integer, not {}", column.ty),
                });
            }
            match &column.default {
                Some(ColumnDefault::PerDialect { sqlite, postgres }) => {
                    for d in [sqlite, postgres].into_iter().flatten() {
                        if matches!(**d, ColumnDefault::PerDialect { .. }) {
                            return Err(SchemaError::Invalid {
                                object: object(),
                                reason: "a per-dialect default cannot hold another one".into(),
                            });
                        }
                        default_ok(object, d)?;
                    }
                }
                Some(d) => default_ok(object, d)?,
                None => {}
            }
            if let Some(declared) = &column.sqlite_type {
                if column.identity {
                    return Err(SchemaError::Invalid {
                        object: object(),
                        reason: "an identity column cannot have a sqlite_type (it is INTEGER, \
                                 the rowid alias)"
                            .into(),
                    });
                }
                if !is_type_name(declared) {
                    return Err(SchemaError::Invalid {
                        object: object(),
                        reason: format!(
                            "sqlite_type {declared:?} is not a type name (words, optionally \
                             followed by (n) or (n, m))"
                        ),
                    });
                }
            }
        }
        let column_list = |context: &str, list: &[String]| -> Result<(), SchemaError> {
            if list.is_empty() {
                return Err(SchemaError::Invalid {
                    object: format!("{context} of table {label}"),
                    reason: "it names no columns".into(),
                });
            }
            let mut seen = HashSet::new();
            for c in list {
                if !columns.contains(c.as_str()) {
                    return Err(SchemaError::UnknownColumn {
                        table: label.to_owned(),
                        column: c.clone(),
                        context: context.to_owned(),
                    });
                }
                if !seen.insert(c) {
                    return Err(SchemaError::Duplicate {
                        what: format!("column in {context} of table {label}"),
                        name: c.clone(),
                    });
                }
            }
            Ok(())
        };
        if !table.primary_key.is_empty() {
            column_list("primary key", &table.primary_key)?;
        }
        for unique in &table.unique {
            if let Some(name) = &unique.name {
                name_ok(|| format!("unique constraint of table {label}"), name)?;
            }
            column_list("unique constraint", &unique.columns)?;
        }
        for (i, check) in table.checks.iter().enumerate() {
            if let Some(name) = &check.name {
                name_ok(|| format!("check constraint of table {label}"), name)?;
            }
            expr_ok(
                || format!("check constraint {} of table {label}", i + 1),
                &check.expr,
            )?;
        }
        for fk in &table.foreign_keys {
            let constraint = names::foreign_key(table, fk);
            if let Some(name) = &fk.name {
                name_ok(|| format!("foreign key of table {label}"), name)?;
            }
            column_list(&format!("foreign key {constraint}"), &fk.columns)?;
            let ref_schema = fk.ref_schema.as_deref().or(table.schema.as_deref());
            let Some(&target) = by_name.get(&(ref_schema, fk.ref_table.as_str())) else {
                return Err(SchemaError::UnknownTable {
                    table: label.to_owned(),
                    constraint,
                    referenced: names::display(ref_schema, &fk.ref_table),
                });
            };
            if fk.columns.len() != fk.ref_columns.len() {
                return Err(SchemaError::BadForeignKey {
                    table: label.to_owned(),
                    constraint,
                    reason: format!(
                        "{} columns reference {} columns",
                        fk.columns.len(),
                        fk.ref_columns.len()
                    ),
                });
            }
            let target_label = names::display(target.schema.as_deref(), &target.name);
            for c in &fk.ref_columns {
                if target.find_column(c).is_none() {
                    return Err(SchemaError::UnknownColumn {
                        table: target_label,
                        column: c.clone(),
                        context: format!("foreign key {constraint} of table {label}"),
                    });
                }
            }
            if !is_unique_key(target, &fk.ref_columns) {
                return Err(SchemaError::BadForeignKey {
                    table: label.to_owned(),
                    constraint,
                    reason: format!(
                        "the referenced columns ({}) of {target_label} are neither its primary key \
                         nor a unique constraint",
                        fk.ref_columns.join(", ")
                    ),
                });
            }
        }
        for index in &table.indexes {
            validate_index(index, label, &columns)?;
        }
        let mut constraints = HashSet::new();
        for name in names::constraint_names(table) {
            if !constraints.insert(name.clone()) {
                return Err(SchemaError::Duplicate {
                    what: format!("constraint of table {label}"),
                    name,
                });
            }
        }
        Ok(())
    }
}

fn validate_index(index: &Index, label: &str, columns: &HashSet<&str>) -> Result<(), SchemaError> {
    name_ok(|| format!("index of table {label}"), &index.name)?;
    let object = || format!("index {} of table {label}", index.name);
    if index.parts.is_empty() {
        return Err(SchemaError::Invalid {
            object: object(),
            reason: "it indexes nothing".into(),
        });
    }
    for part in &index.parts {
        match &part.target {
            IndexTarget::Column(c) => {
                name_ok(|| format!("column in index {}", index.name), c)?;
                if !columns.contains(c.as_str()) {
                    return Err(SchemaError::UnknownColumn {
                        table: label.to_owned(),
                        column: c.clone(),
                        context: format!("index {}", index.name),
                    });
                }
            }
            IndexTarget::Expr(e) => expr_ok(object, e)?,
        }
    }
    let mut included = HashSet::new();
    for c in &index.include {
        name_ok(|| format!("INCLUDE column in index {}", index.name), c)?;
        if !columns.contains(c.as_str()) {
            return Err(SchemaError::UnknownColumn {
                table: label.to_owned(),
                column: c.clone(),
                context: format!("INCLUDE of index {}", index.name),
            });
        }
        let keyed = index
            .parts
            .iter()
            .any(|p| matches!(&p.target, IndexTarget::Column(k) if k == c));
        if keyed || !included.insert(c.as_str()) {
            return Err(SchemaError::Duplicate {
                what: format!("column in index {} (key part or INCLUDE)", index.name),
                name: c.clone(),
            });
        }
    }
    if let Some(filter) = &index.filter {
        expr_ok(object, filter)?;
    }
    if index.dialects.as_ref().is_some_and(Vec::is_empty) {
        return Err(SchemaError::Invalid {
            object: object(),
            reason: "`dialects` is empty: the index would never be created".into(),
        });
    }
    Ok(())
}

/// True when `columns` (as a set) are `table`'s primary key, a unique constraint, or a plain
/// unique index on columns (what both dialects accept as a foreign key's parent key).
fn is_unique_key(table: &Table, columns: &[String]) -> bool {
    let wanted: HashSet<&str> = columns.iter().map(String::as_str).collect();
    let same = |list: &[String]| {
        list.len() == wanted.len() && list.iter().all(|c| wanted.contains(c.as_str()))
    };
    same(&table.primary_key)
        || table.unique.iter().any(|u| same(&u.columns))
        || table.indexes.iter().any(|i| {
            i.unique
                && i.filter.is_none()
                && i.dialects.is_none()
                && i.parts.len() == wanted.len()
                && i.parts.iter().all(
                    |p| matches!(&p.target, IndexTarget::Column(c) if wanted.contains(c.as_str())),
                )
        })
}
