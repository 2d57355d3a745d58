//! Object names: `schema.table` labels for errors, and the names dbconfig gives unnamed keys and
//! constraints (`pk_<table>`, `uq_<table>_<columns>`, `ck_<table>_<n>`, `fk_<table>_<columns>`),
//! shortened with a hash suffix when longer than PostgreSQL's 63 bytes.

use super::super::{ForeignKey, Table};

/// PostgreSQL keeps identifiers up to `NAMEDATALEN - 1` bytes and silently truncates longer ones.
pub(crate) const PG_MAX_NAME: usize = 63;

/// `schema.table` or `table`, for messages.
pub(crate) fn display(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{schema}.{name}"),
        None => name.to_owned(),
    }
}

/// `name` if it fits in 63 bytes, else its first 54 bytes, `_` and 8 hex digits of a hash of the
/// whole name: deterministic, so create, drop and verify agree.
pub(crate) fn fit(name: String) -> String {
    if name.len() <= PG_MAX_NAME {
        return name;
    }
    // FNV-1a, 32 bits.
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let mut cut = 54;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash:08x}", &name[..cut])
}

/// The primary key's constraint name.
pub(crate) fn primary_key(table: &Table) -> String {
    fit(format!("pk_{}", table.name))
}

/// A unique constraint's name.
pub(crate) fn unique(table: &Table, index: usize) -> String {
    let u = &table.unique[index];
    u.name
        .clone()
        .unwrap_or_else(|| fit(format!("uq_{}_{}", table.name, u.columns.join("_"))))
}

/// A check constraint's name.
pub(crate) fn check(table: &Table, index: usize) -> String {
    table.checks[index]
        .name
        .clone()
        .unwrap_or_else(|| fit(format!("ck_{}_{}", table.name, index + 1)))
}

/// A foreign key's name.
pub(crate) fn foreign_key(table: &Table, fk: &ForeignKey) -> String {
    fk.name
        .clone()
        .unwrap_or_else(|| fit(format!("fk_{}_{}", table.name, fk.columns.join("_"))))
}

/// Names that PostgreSQL keeps as indexes in the table's schema (primary key, unique
/// constraints, indexes); SQLite keeps index names per database.
pub(crate) fn index_like_names(table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    if !table.primary_key.is_empty() {
        out.push(primary_key(table));
    }
    out.extend((0..table.unique.len()).map(|i| unique(table, i)));
    out.extend(table.indexes.iter().map(|i| i.name.clone()));
    out
}

/// Every constraint name of the table (PostgreSQL requires them distinct per table).
pub(crate) fn constraint_names(table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    if !table.primary_key.is_empty() {
        out.push(primary_key(table));
    }
    out.extend((0..table.unique.len()).map(|i| unique(table, i)));
    out.extend((0..table.checks.len()).map(|i| check(table, i)));
    out.extend(table.foreign_keys.iter().map(|fk| foreign_key(table, fk)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_deterministically() {
        let long = format!("fk_{}", "é".repeat(40));
        let a = fit(long.clone());
        assert!(a.len() <= PG_MAX_NAME, "{a}");
        assert_eq!(a, fit(long.clone()));
        assert_ne!(a, fit(format!("{long}x")));
        assert_eq!(fit("short".into()), "short");
    }
}
