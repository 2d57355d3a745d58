//! The engine registry across runtimes. Its own test binary: it checks the process-wide
//! registry and the global tracker.

use dbconfig::{ConnectionTracker, DatabaseConfig, SqliteConfig, dispose_all, registered_engines};

#[test]
fn registry_lifecycle() {
    // One test function: the steps below share the process-wide registry.
    fifty_runtimes_leave_nothing_open();
    each_runtime_gets_its_own_engine();
    explicit_dispose_and_dispose_all();
}

fn fifty_runtimes_leave_nothing_open() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("r.db").display());
    let tracker = ConnectionTracker::global();
    tracker.clear();
    tracker.activate();
    for i in 0..50 {
        let rt = if i % 2 == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap()
        };
        let url = url.clone();
        rt.block_on(async move {
            let config = SqliteConfig::new(&url).unwrap();
            let engine = config.engine().await.unwrap();
            let again = config.engine().await.unwrap();
            assert_eq!(
                engine.id(),
                again.id(),
                "engine() must be cached within a runtime"
            );
            let one: i64 = engine
                .session()
                .run(|c| c.query_row("SELECT 1", [], |r| r.get(0)))
                .await
                .unwrap();
            assert_eq!(one, 1);
            assert_eq!(registered_engines(), 1);
        });
        drop(rt);
        assert_eq!(
            registered_engines(),
            0,
            "runtime {i}: engine not disposed at shutdown"
        );
    }
    let snapshot = tracker.snapshot();
    tracker.deactivate();
    assert_eq!(snapshot.open.len(), 0, "{snapshot}");
    assert_eq!(snapshot.connects, 50);
    assert_eq!(snapshot.closes, 50);
    assert!(snapshot.left_field_closes.is_empty());
}

fn each_runtime_gets_its_own_engine() {
    let config = SqliteConfig::new("sqlite://").unwrap();
    let rt1 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rt2 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e1 = rt1.block_on(config.engine()).unwrap();
    let e2 = rt2.block_on(config.engine()).unwrap();
    assert_ne!(e1.id(), e2.id());
    assert_eq!(rt1.block_on(config.engine()).unwrap().id(), e1.id());
    assert_eq!(registered_engines(), 2);
    drop(rt1);
    assert!(e1.is_disposed() && !e2.is_disposed());
    drop(rt2);
    assert!(e2.is_disposed());
    assert_eq!(registered_engines(), 0);
}

fn explicit_dispose_and_dispose_all() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = SqliteConfig::new("sqlite://").unwrap();
        let mut settings = a.settings().clone();
        settings.pool_size = 2;
        let b = SqliteConfig::from_settings(settings).unwrap();
        let ea = a.engine().await.unwrap();
        let eb = b.engine().await.unwrap();
        assert_ne!(ea.id(), eb.id(), "pool_size is part of the key");
        assert_eq!(registered_engines(), 2);
        ea.dispose();
        assert_eq!(registered_engines(), 1);
        let err = ea
            .session()
            .run(|c| c.execute_batch("SELECT 1"))
            .await
            .unwrap_err();
        assert!(matches!(err, dbconfig::Error::Disposed), "{err:?}");
        // A new engine replaces the disposed one.
        let ea2 = a.engine().await.unwrap();
        assert_ne!(ea2.id(), ea.id());
        dispose_all();
        assert_eq!(registered_engines(), 0);
        assert!(ea2.is_disposed() && eb.is_disposed());
    });
}

#[test]
fn engine_outside_a_runtime_is_an_error() {
    let config = SqliteConfig::new("sqlite://").unwrap();
    let err = futures_lite_block_on(config.engine()).unwrap_err();
    assert!(matches!(err, dbconfig::Error::NoRuntime), "{err:?}");
}

/// Polls a future to completion without a tokio runtime.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
