//! `echo = true` logs every statement with its duration; nothing ever shows a password.

mod common;

use dbconfig::{AnyConfig, ConnectionUrl, DatabaseConfig, Settings, SqliteConfig};

#[tokio::test(flavor = "current_thread")]
async fn echo_logs_each_statement_with_its_duration() {
    let (capture, _guard) = common::Capture::install(tracing::Level::INFO, false);

    let settings = Settings::new()
        .with_url("sqlite://".parse().unwrap())
        .with_echo(true);
    let config = SqliteConfig::from_settings(settings).unwrap();
    let engine = config.build_engine().unwrap();
    let mut s = engine.session();
    let mut tx = s.begin_transaction(true).await.unwrap();
    tx.run(|c| c.execute_batch("CREATE TABLE echoed (x)"))
        .unwrap();
    tx.run(|c| c.execute("INSERT INTO echoed VALUES (?1)", ["secret-param-value"]))
        .unwrap();
    tx.commit().await.unwrap();
    drop(s);
    engine.dispose();

    let logs = capture.text();
    for statement in [
        "BEGIN IMMEDIATE",
        "CREATE TABLE echoed (x)",
        "INSERT INTO echoed VALUES (?1)",
        "COMMIT",
    ] {
        assert!(
            logs.lines().any(|l| l.contains("dbconfig::sql")
                && l.contains(statement)
                && l.contains("elapsed_us=")),
            "{statement} not logged:\n{logs}"
        );
    }
    assert!(
        !logs.contains("secret-param-value"),
        "parameter values must not be logged"
    );

    // Without echo: nothing from dbconfig::sql.
    capture.clear();
    let quiet = SqliteConfig::new("sqlite://")
        .unwrap()
        .build_engine()
        .unwrap();
    quiet
        .session()
        .run(|c| c.execute_batch("SELECT 1"))
        .await
        .unwrap();
    quiet.dispose();
    assert!(!capture.text().contains("dbconfig::sql"));
}

#[test]
fn passwords_never_show() {
    let secret = "s3cr3t-PW";
    let url = format!("postgresql+asyncpg://prefect:{secret}@db.example:5432/prefect");
    let parsed: ConnectionUrl = url.parse().unwrap();
    let settings = Settings::new().with_url(parsed.clone());
    let shown = [
        format!("{parsed}"),
        format!("{parsed:?}"),
        format!("{settings:?}"),
        format!("{:?}", AnyConfig::from_settings(settings.clone()).unwrap()),
        format!(
            "{:?}",
            AnyConfig::from_settings(settings.clone())
                .unwrap()
                .unique_key()
        ),
        // A SQLite config given this URL: the error names the dialects only.
        format!(
            "{:?}",
            dbconfig::SqliteConfig::from_settings(settings.clone()).unwrap_err()
        ),
    ];
    for text in &shown {
        assert!(!text.contains(secret), "password leaked: {text}");
    }
    assert!(
        parsed.to_url().contains(secret),
        "to_url keeps the password for round trips"
    );

    // A bad URL in the environment: the error names the variable, not the password.
    let err = Settings::from_env_map([(
        "DBCONFIG_CONNECTION_URL",
        format!("mysql://u:{secret}@h/db"),
    )])
    .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("DBCONFIG_CONNECTION_URL") && !text.contains(secret),
        "{text}"
    );

    // Engine keys and configs print redacted too.
    let sqlite = SqliteConfig::new("sqlite://").unwrap();
    assert!(!format!("{:?}", sqlite.unique_key()).contains(secret));
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_echo_logs_our_statements_and_never_the_password() {
    let Some(url) = common::pg_url("echo") else {
        return;
    };
    let (capture, _guard) = common::Capture::install(tracing::Level::TRACE, false);

    // The test server trusts local connections, so any password is accepted.
    let secret = "pg-S3cret-77";
    let with_password = url.replacen("postgres@", &format!("postgres:{secret}@"), 1);
    let settings = Settings::new()
        .with_url(with_password.parse().unwrap())
        .with_echo(true);
    let config = dbconfig::PostgresConfig::from_settings(settings).unwrap();
    let engine = config.engine().await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    let tx = config.begin_transaction(&mut session, false).await.unwrap();
    tx.execute("CREATE TABLE echoed (x int)", &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let tx = config.begin_transaction(&mut session, true).await.unwrap();
    let insert = tx
        .prepare_cached("INSERT INTO echoed VALUES ($1)")
        .await
        .unwrap();
    tx.execute_prepared_and_commit(&insert, &[&1_i32])
        .await
        .unwrap();
    session.ping().await.unwrap();
    drop(session);
    engine.dispose();

    let logs = capture.text();
    for statement in [
        "START TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "COMMIT",
        "SELECT 1",
        // Prepared through dbconfig: the user's statement.
        "INSERT INTO echoed VALUES ($1)",
    ] {
        assert!(
            logs.lines()
                .any(|l| l.contains("dbconfig::sql") && l.contains(statement)),
            "{statement} not echoed in:\n{logs}"
        );
    }
    // The COMMIT sent with the last statement is echoed too, marked as pipelined.
    assert!(
        logs.lines().any(|l| l.contains("dbconfig::sql")
            && l.contains("COMMIT")
            && l.contains("pipelined=true")),
        "pipelined COMMIT not echoed in:\n{logs}"
    );
    assert!(!logs.contains(secret), "password in the logs:\n{logs}");
}
