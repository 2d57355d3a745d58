//! Per-connection hooks: `before_connect` gives each new connection its credentials (a password
//! the test rotates with `ALTER ROLE … PASSWORD`, checked by `scram-sha-256` in `pg_hba.conf`),
//! and `on_connect` runs statements on each new connection.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::pg::{ClusterOptions, own_cluster};
use dbconfig::postgres::Credentials;
use dbconfig::{Error, PostgresConfig, Settings};

/// Who the session's connection logged in as.
async fn current_user(session: &mut dbconfig::PostgresSession) -> dbconfig::Result<String> {
    let client = session.client().await?;
    Ok(client
        .query_one("SELECT current_user::text", &[])
        .await?
        .get(0))
}

/// A throwaway cluster where `rot_user` (password `pw-one`) logs in with `scram-sha-256`.
fn password_cluster() -> Option<common::pg::PgCluster> {
    let cluster = own_cluster(ClusterOptions {
        hba: vec![
            "host all rot_user 127.0.0.1/32 scram-sha-256".into(),
            "host all rot_user ::1/128 scram-sha-256".into(),
        ],
        ..ClusterOptions::default()
    })?;
    cluster
        .psql("postgres", "CREATE ROLE rot_user LOGIN PASSWORD 'pw-one'")
        .unwrap();
    Some(cluster)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_connect_picks_up_a_rotated_password() {
    let Some(cluster) = password_cluster() else {
        return;
    };

    let password = Arc::new(Mutex::new("pw-one".to_owned()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (hook_password, hook_calls) = (Arc::clone(&password), Arc::clone(&calls));
    let mut settings = Settings::new().with_url(cluster.url("postgres").parse().unwrap());
    settings.pool_size = 2;
    let config = PostgresConfig::from_settings(settings)
        .unwrap()
        .before_connect(move || {
            hook_calls.fetch_add(1, Ordering::SeqCst);
            let current = hook_password.lock().unwrap().clone();
            async move { Ok(Credentials::password(current).with_user("rot_user")) }
        });
    // Debug shows that a hook is set, never what it returns.
    assert!(format!("{config:?}").contains("before_connect: true"));
    let engine = config.build_engine().unwrap();

    // Connection A logs in with the first password and stays checked out.
    let mut a = engine.session();
    assert_eq!(current_user(&mut a).await.unwrap(), "rot_user");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Rotate: the server and the hook's source change together.
    cluster
        .psql("postgres", "ALTER ROLE rot_user PASSWORD 'pw-two'")
        .unwrap();
    *password.lock().unwrap() = "pw-two".into();
    // A keeps working (PostgreSQL checks the password at login only).
    assert_eq!(current_user(&mut a).await.unwrap(), "rot_user");
    // A new connection B uses the new password.
    let mut b = engine.session();
    assert_eq!(current_user(&mut b).await.unwrap(), "rot_user");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    drop((a, b));

    // The control: a hook that still returns the old password cannot open a connection, so
    // the password really is checked.
    *password.lock().unwrap() = "pw-one".into();
    let stale = config.build_engine().unwrap();
    let mut c = stale.session();
    match current_user(&mut c).await {
        Err(Error::Postgres(e)) => assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD),
            "{e}"
        ),
        other => panic!("a stale password should be refused: {other:?}"),
    }
    drop(c);
    stale.dispose();
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_recycle_reconnects_with_fresh_credentials() {
    let Some(cluster) = password_cluster() else {
        return;
    };
    let password = Arc::new(Mutex::new("pw-one".to_owned()));
    let hook_password = Arc::clone(&password);
    let mut settings = Settings::new().with_url(cluster.url("postgres").parse().unwrap());
    // Every checkout finds its connection too old: each session reconnects.
    settings.pool_recycle = Some(Duration::ZERO);
    let engine = PostgresConfig::from_settings(settings)
        .unwrap()
        .before_connect(move || {
            let current = hook_password.lock().unwrap().clone();
            async move { Ok(Credentials::password(current).with_user("rot_user")) }
        })
        .build_engine()
        .unwrap();
    assert_eq!(
        current_user(&mut engine.session()).await.unwrap(),
        "rot_user"
    );
    cluster
        .psql("postgres", "ALTER ROLE rot_user PASSWORD 'pw-two'")
        .unwrap();
    *password.lock().unwrap() = "pw-two".into();
    // The idle connection is replaced at checkout, through the hook: no restart needed.
    for _ in 0..3 {
        assert_eq!(
            current_user(&mut engine.session()).await.unwrap(),
            "rot_user"
        );
    }
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_connect_runs_on_each_new_connection() {
    let Some(url) = common::pg_url("hooks") else {
        return;
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let mut settings = Settings::new().with_url(url.parse().unwrap());
    settings.pool_size = 2;
    let engine = PostgresConfig::from_settings(settings)
        .unwrap()
        .on_connect(move |client| {
            counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                client.batch_execute("SET lock_timeout = '1234ms'").await?;
                Ok(())
            })
        })
        .build_engine()
        .unwrap();
    let (mut a, mut b) = (engine.session(), engine.session());
    for session in [&mut a, &mut b] {
        let client = session.client().await.unwrap();
        let shown: String = client
            .query_one("SHOW lock_timeout", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(shown, "1234ms");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    drop((a, b));
    // Pooled connections are not set up again.
    let mut c = engine.session();
    c.client().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    drop(c);
    engine.dispose();

    // A failing hook: the typed error, and nothing is pooled.
    let engine = PostgresConfig::new(&url)
        .unwrap()
        .on_connect(|client| {
            Box::pin(async move {
                client.batch_execute("SELECT 1/0").await?;
                Ok(())
            })
        })
        .build_engine()
        .unwrap();
    let mut s = engine.session();
    assert!(matches!(s.client().await, Err(Error::Hook(_))));
    drop(s);
    assert_eq!(engine.status().size, 0);
    engine.dispose();
}
