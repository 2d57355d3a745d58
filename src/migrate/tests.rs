//! The migration set without a database: checksums, the file layout, ids.

use super::*;

#[test]
fn checksums_ignore_line_endings_and_blank_edges_only() {
    let base = checksum("CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);");
    assert_eq!(base.len(), 64);
    for same in [
        "CREATE TABLE a (x INTEGER);\r\nCREATE TABLE b (y INTEGER);\r\n",
        "\n\nCREATE TABLE a (x INTEGER);  \nCREATE TABLE b (y INTEGER);\t\n\n",
    ] {
        assert_eq!(checksum(same), base, "{same:?}");
    }
    for other in [
        "CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y BIGINT);",
        "CREATE TABLE a (x INTEGER);\n\nCREATE TABLE b (y INTEGER);",
        "  CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);",
    ] {
        assert_ne!(checksum(other), base, "{other:?}");
    }
}

#[test]
fn files_become_steps_in_id_order() {
    let set = Migrations::from_files([
        (
            "migrations/0002_add_priority.sql",
            "ALTER TABLE job ADD x INT",
        ),
        ("0001_create_jobs.sql", "CREATE TABLE job (id INT)"),
        (
            "0002_add_priority.postgres.sql",
            "ALTER TABLE job ADD x INTEGER",
        ),
        ("0003_gin.postgres.sql", "CREATE INDEX …"),
        ("0003_gin.sqlite.sql", ""),
    ])
    .unwrap();
    let ids: Vec<_> = set.steps().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["0001", "0002", "0003"]);
    let step = &set.steps()[1];
    assert_eq!(step.description, "add priority");
    assert_eq!(
        step.sql_for(Dialect::Sqlite).unwrap(),
        "ALTER TABLE job ADD x INT"
    );
    assert_eq!(
        step.sql_for(Dialect::Postgres).unwrap(),
        "ALTER TABLE job ADD x INTEGER"
    );
    assert_eq!(set.steps()[2].sql_for(Dialect::Sqlite).unwrap(), "");
    let only_pg = Migrations::from_files([("0001_x.postgres.sql", "SELECT 1")]).unwrap();
    assert!(matches!(
        only_pg.steps()[0].sql_for(Dialect::Sqlite),
        Err(MigrationError::NoSql { .. })
    ));
}

#[test]
fn bad_files_and_ids_are_errors_naming_them() {
    let load = |files: &[(&str, &str)]| Migrations::from_files(files.iter().copied());
    for (files, needle) in [
        (
            &[("0001_a.sql", "x"), ("0001_a.sql", "y")][..],
            "same dialect",
        ),
        (
            &[("0001_a.sql", "x"), ("0001_b.sql", "y")][..],
            "another description",
        ),
        (&[("0001_a.mysql.sql", "x")][..], "expected <id>"),
        (&[("_a.sql", "x")][..], "start with the step's id"),
        (&[("0001_a.txt", "x")][..], "not a .sql file"),
    ] {
        let err = load(files).unwrap_err().to_string();
        assert!(err.contains(needle), "{files:?}: {err}");
    }
    let twice = Migrations::new()
        .step(Migration::new("1", "a", "x"))
        .step(Migration::new("1", "b", "y"));
    assert!(matches!(
        twice.validate(),
        Err(MigrationError::Duplicate { .. })
    ));
    let spaced = Migrations::new().step(Migration::new("a b", "a", "x"));
    assert!(matches!(
        spaced.validate(),
        Err(MigrationError::InvalidId { .. })
    ));
}

#[test]
fn a_directory_is_read_and_other_files_ignored() {
    let dir = std::env::temp_dir().join(format!("dbconfig-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("0001_init.sql"), "CREATE TABLE t (x INTEGER)").unwrap();
    std::fs::write(dir.join("README.md"), "not a step").unwrap();
    let set = Migrations::from_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(set.steps().len(), 1);
    assert_eq!(set.steps()[0].description, "init");
    let missing = Migrations::from_dir(dir.join("nope"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nope"), "{missing}");
}
