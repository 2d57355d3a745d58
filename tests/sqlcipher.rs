//! Encryption at rest (feature `sqlcipher`): the database and `-wal` files hold no plaintext of
//! a known row, the key opens the file, a wrong key is the typed error at `engine()`, `rekey`
//! changes the key (old key fails, new key works, the engine keeps working), a plain database
//! is encrypted by `export_encrypted`, backups of an encrypted database are encrypted, the key
//! comes from a url or a provider, and it never reaches a log.
//!
//! Run with `cargo test --all-features --test sqlcipher`.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dbconfig::{DatabaseConfig, Error, Settings, SqliteConfig, SqliteEngine, SqliteKey};

/// A value that shows up verbatim in the file of a plain database.
const MARKER: &str = "PLAINTEXT-MARKER-7f3a9c";
const KEY: &str = "correct horse battery staple";

fn key(text: &str) -> SqliteKey {
    SqliteKey::new(text).unwrap()
}

fn config(db: &Path, key: Option<&str>) -> SqliteConfig {
    let mut settings =
        Settings::new().with_url(format!("sqlite:///{}", db.display()).parse().unwrap());
    settings.sqlite.key = key.map(self::key);
    SqliteConfig::from_settings(settings).unwrap()
}

fn sidecar(db: &Path, suffix: &str) -> std::path::PathBuf {
    db.with_file_name(format!(
        "{}{suffix}",
        db.file_name().unwrap().to_string_lossy()
    ))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Writes 200 rows holding the marker (small transactions: they stay in the `-wal` file).
async fn write_rows(engine: &SqliteEngine) {
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await.unwrap();
    tx.run(|c| {
        c.execute_batch("CREATE TABLE IF NOT EXISTS secret (id INTEGER PRIMARY KEY, body TEXT)")
    })
    .unwrap();
    tx.commit().await.unwrap();
    for i in 0..20 {
        let mut tx = session.begin_transaction(true).await.unwrap();
        tx.run(|c| {
            for j in 0..10 {
                c.execute(
                    "INSERT INTO secret (body) VALUES (?1)",
                    [format!("{MARKER} {i} {j}")],
                )?;
            }
            Ok(())
        })
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn count(engine: &SqliteEngine) -> dbconfig::Result<i64> {
    engine
        .session()
        .run(|c| {
            c.query_row(
                "SELECT count(*) FROM secret WHERE body LIKE 'PLAINTEXT-MARKER%'",
                [],
                |r| r.get(0),
            )
        })
        .await
}

fn files_hold_marker(db: &Path) -> (bool, bool, u64) {
    let main = std::fs::read(db).unwrap();
    let wal = std::fs::read(sidecar(db, "-wal")).unwrap_or_default();
    (
        contains(&main, MARKER),
        contains(&wal, MARKER),
        wal.len() as u64,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_files_hold_no_plaintext_and_open_with_the_key() {
    let dir = tempfile::tempdir().unwrap();

    // The control: a plain database shows the marker in its -wal file, so the scan can fail.
    let plain = dir.path().join("plain.db");
    let engine = config(&plain, None).build_engine().unwrap();
    write_rows(&engine).await;
    let (_, in_wal, wal_len) = files_hold_marker(&plain);
    assert!(
        wal_len > 0 && in_wal,
        "control: plain WAL should show the marker"
    );
    engine.dispose();

    let db = dir.path().join("secret.db");
    let engine = config(&db, Some(KEY)).engine().await.unwrap();
    assert!(engine.is_encrypted());
    write_rows(&engine).await;
    let (in_main, in_wal, wal_len) = files_hold_marker(&db);
    assert!(wal_len > 0, "the rows should still be in the -wal file");
    assert!(!in_wal, "the -wal file holds plaintext");
    assert!(!in_main, "the database file holds plaintext");
    let checkpoint = engine
        .checkpoint(dbconfig::sqlite::CheckpointMode::Truncate)
        .await
        .unwrap();
    assert!(!checkpoint.busy);
    let main = std::fs::read(&db).unwrap();
    assert!(
        main.len() > 4096,
        "the checkpoint should have moved the rows into the file"
    );
    assert!(
        !contains(&main, MARKER),
        "the database file holds plaintext"
    );
    assert!(
        !main.starts_with(b"SQLite format 3\0"),
        "the header is in clear"
    );
    engine.dispose();

    // It opens with its key, in a new engine.
    let engine = config(&db, Some(KEY)).build_engine().unwrap();
    assert_eq!(count(&engine).await.unwrap(), 200);
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_the_typed_error_at_engine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secret.db");
    let engine = config(&db, Some(KEY)).build_engine().unwrap();
    write_rows(&engine).await;
    engine.dispose();

    // Wrong key: `engine()` fails, before any query.
    let err = config(&db, Some("not the key")).engine().await.unwrap_err();
    match &err {
        Error::NotADatabase {
            key_given: true,
            database,
        } => assert!(database.ends_with("secret.db")),
        other => panic!("expected NotADatabase, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("wrong key"), "{shown}");
    assert!(
        !shown.contains("not the key") && !shown.contains("horse"),
        "{shown}"
    );

    // No key: the engine is lazy, the first query says what is wrong.
    let engine = config(&db, None).build_engine().unwrap();
    match count(&engine).await {
        Err(Error::NotADatabase {
            key_given: false, ..
        }) => {}
        other => panic!("expected NotADatabase without key, got {other:?}"),
    }
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_then_old_key_fails_and_new_key_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secret.db");
    let engine = config(&db, Some(KEY)).build_engine().unwrap();
    write_rows(&engine).await;
    // Idle pooled connections hold the old key.
    assert!(engine.status().size >= 1);
    engine.rekey(key("new key 2")).await.unwrap();
    // The same engine keeps working: reads and writes.
    assert_eq!(count(&engine).await.unwrap(), 200);
    write_rows(&engine).await;
    assert_eq!(count(&engine).await.unwrap(), 400);
    engine.dispose();

    match config(&db, Some(KEY)).engine().await {
        Err(Error::NotADatabase {
            key_given: true, ..
        }) => {}
        other => panic!("the old key should fail: {other:?}"),
    }
    let engine = config(&db, Some("new key 2")).build_engine().unwrap();
    assert_eq!(count(&engine).await.unwrap(), 400);
    let (in_main, in_wal, _) = files_hold_marker(&db);
    assert!(!in_main && !in_wal);
    engine.dispose();

    // A plain database has no key to change.
    let plain = config(&dir.path().join("plain.db"), None)
        .build_engine()
        .unwrap();
    assert!(matches!(
        plain.rekey(key("x")).await,
        Err(Error::Unsupported { .. })
    ));
    plain.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_database_is_encrypted_by_export_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    let engine = config(&plain, None).build_engine().unwrap();
    write_rows(&engine).await;

    let encrypted = dir.path().join("encrypted.db");
    engine
        .export_encrypted(&encrypted, Some(key(KEY)))
        .await
        .unwrap();
    engine.dispose();
    let bytes = std::fs::read(&encrypted).unwrap();
    assert!(bytes.len() > 4096 && !contains(&bytes, MARKER));
    assert!(!sidecar(&encrypted, "-wal").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let engine = config(&encrypted, Some(KEY)).engine().await.unwrap();
    assert_eq!(count(&engine).await.unwrap(), 200);
    // And back to plain.
    let decrypted = dir.path().join("decrypted.db");
    engine.export_encrypted(&decrypted, None).await.unwrap();
    engine.dispose();
    assert!(contains(&std::fs::read(&decrypted).unwrap(), MARKER));
    let engine = config(&decrypted, None).build_engine().unwrap();
    assert_eq!(count(&engine).await.unwrap(), 200);
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_an_encrypted_database_are_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secret.db");
    let engine = config(&db, Some(KEY)).build_engine().unwrap();
    write_rows(&engine).await;

    let backup = dir.path().join("backup.db");
    engine
        .backup_to(&backup, Duration::from_secs(30), |_| {})
        .await
        .unwrap();
    let vacuumed = dir.path().join("vacuumed.db");
    engine.vacuum_into(&vacuumed).await.unwrap();
    for copy in [&backup, &vacuumed] {
        let bytes = std::fs::read(copy).unwrap();
        assert!(
            bytes.len() > 4096 && !contains(&bytes, MARKER),
            "{}",
            copy.display()
        );
        let copy_engine = config(copy, Some(KEY)).engine().await.unwrap();
        assert_eq!(count(&copy_engine).await.unwrap(), 200);
        copy_engine.dispose();
        assert!(matches!(
            config(copy, Some("wrong")).engine().await,
            Err(Error::NotADatabase { .. })
        ));
    }

    // Restore from the encrypted backup after more writes: back to 200 rows.
    write_rows(&engine).await;
    assert_eq!(count(&engine).await.unwrap(), 400);
    engine
        .restore_from(&backup, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(count(&engine).await.unwrap(), 200);
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_from_a_url_or_a_provider() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secret.db");
    // SQLAlchemy's form, absolute path, a key that needs percent-encoding.
    let url = format!("sqlite+pysqlcipher://:p%40ss%2Fword@/{}", db.display());
    let engine = SqliteConfig::new(&url).unwrap().engine().await.unwrap();
    write_rows(&engine).await;
    let shown = format!("{engine:?} {:?}", SqliteConfig::new(&url).unwrap());
    assert!(
        !shown.contains("p%40ss") && !shown.contains("p@ss"),
        "{shown}"
    );
    engine.dispose();

    // A provider, called for every new connection (off the async workers).
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let base = Settings::new().with_url(format!("sqlite:///{}", db.display()).parse().unwrap());
    let config = SqliteConfig::from_settings(base.clone())
        .unwrap()
        .key_provider(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            SqliteKey::new("p@ss/word").map_err(Into::into)
        });
    let engine = config.engine().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the check at engine()");
    // Two sessions at once need two connections: one more call.
    let (mut a, mut b) = (engine.session(), engine.session());
    let mut ta = a.begin_transaction(false).await.unwrap();
    let mut tb = b.begin_transaction(false).await.unwrap();
    let na: i64 = ta
        .run(|c| c.query_row("SELECT count(*) FROM secret", [], |r| r.get(0)))
        .unwrap();
    let nb: i64 = tb
        .run(|c| c.query_row("SELECT count(*) FROM secret", [], |r| r.get(0)))
        .unwrap();
    assert_eq!((na, nb), (200, 200));
    ta.commit().await.unwrap();
    tb.commit().await.unwrap();
    drop((a, b));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    engine.dispose();

    // A provider that fails: the hook error at engine().
    let failing = SqliteConfig::from_settings(base.clone())
        .unwrap()
        .key_provider(|| Err("keychain locked".into()));
    assert!(matches!(failing.engine().await, Err(Error::Hook(_))));
    // A provider and a key: refused.
    let mut keyed = base;
    keyed.sqlite.key = Some(key("p@ss/word"));
    let both = SqliteConfig::from_settings(keyed)
        .unwrap()
        .key_provider(|| Ok(key("x")));
    assert!(matches!(both.build_engine(), Err(Error::Settings(_))));
}

/// With `echo`, every statement is logged: never the key, through open, rekey and export; nor
/// do Debug, serialised settings or the tracker show it.
#[tokio::test(flavor = "current_thread")]
async fn the_key_never_reaches_a_log() {
    let (capture, _guard) = common::Capture::install(tracing::Level::TRACE, false);

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secret.db");
    let tracker = dbconfig::ConnectionTracker::new();
    let mut settings = Settings::new()
        .with_url(
            format!("sqlite+pysqlcipher://:first-secret-key@/{}", db.display())
                .parse()
                .unwrap(),
        )
        .with_echo(true);
    settings.pool_size = 1;
    let config = SqliteConfig::from_settings(settings.clone())
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    write_rows(&engine).await;
    engine.rekey(key("second-secret-key")).await.unwrap();
    engine
        .export_encrypted(dir.path().join("copy.db"), Some(key("third-secret-key")))
        .await
        .unwrap();
    assert_eq!(count(&engine).await.unwrap(), 200);
    let logs = capture.text();
    assert!(
        logs.contains("INSERT INTO secret"),
        "echo should log statements: {logs}"
    );
    let serialised = serde_json::to_string(&settings).unwrap();
    let everything = format!(
        "{logs} {settings:?} {config:?} {engine:?} {serialised} {:?} {:?}",
        tracker.snapshot(),
        config.unique_key()
    );
    for secret in ["first-secret-key", "second-secret-key", "third-secret-key"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    assert!(serialised.contains(":***@"), "{serialised}");
    // Serialised with secrets, the key is kept, and reads back.
    let clear = serde_json::to_string(&settings.with_secrets()).unwrap();
    let back: Settings = serde_json::from_str(&clear).unwrap();
    assert_eq!(
        back.sqlite_key().map(SqliteKey::expose),
        Some("first-secret-key")
    );
    // The redacted form does not read back as if `***` were the key.
    assert!(serde_json::from_str::<Settings>(&serialised).is_err());
    engine.dispose();
}

/// `dbconfig encrypt` and `dbconfig rekey`: keys from the environment only, never printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_encrypts_and_rekeys() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    let engine = config(&plain, None).build_engine().unwrap();
    write_rows(&engine).await;
    engine.dispose();
    let encrypted = dir.path().join("enc.db");
    let url = |p: &Path| format!("sqlite:///{}", p.display());
    let cli = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dbconfig"));
        cmd.args(args)
            .env_remove("DBCONFIG_SQLITE_KEY")
            .env_remove("DBCONFIG_SQLITE_NEW_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("cli-key-one") && !text.contains("cli-key-two"),
            "{text}"
        );
        (out.status.code(), text)
    };

    let (code, text) = cli(
        &["encrypt", &url(&plain), encrypted.to_str().unwrap()],
        &[("DBCONFIG_SQLITE_NEW_KEY", "cli-key-one")],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(!contains(&std::fs::read(&encrypted).unwrap(), MARKER));
    // Without the new key in the environment: an error that says where to put it.
    let (code, text) = cli(&["encrypt", &url(&plain), "other.db"], &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("DBCONFIG_SQLITE_NEW_KEY"), "{text}");

    let check = ["check", "--integrity", &url(&encrypted)];
    let (code, text) = cli(&check, &[("DBCONFIG_SQLITE_KEY", "cli-key-one")]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = cli(&check, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not a database"), "{text}");

    let (code, text) = cli(
        &["rekey", &url(&encrypted)],
        &[
            ("DBCONFIG_SQLITE_KEY", "cli-key-one"),
            ("DBCONFIG_SQLITE_NEW_KEY", "cli-key-two"),
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = cli(&check, &[("DBCONFIG_SQLITE_KEY", "cli-key-one")]);
    assert_eq!(code, Some(1), "{text}");
    let (code, text) = cli(&check, &[("DBCONFIG_SQLITE_KEY", "cli-key-two")]);
    assert_eq!(code, Some(0), "{text}");
    let engine = config(&encrypted, Some("cli-key-two"))
        .build_engine()
        .unwrap();
    assert_eq!(count(&engine).await.unwrap(), 200);
    engine.dispose();
}
