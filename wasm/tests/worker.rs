//! In headless Chromium, in a dedicated worker (where OPFS exists).

mod common;

use dbconfig_wasm::Database;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn pragmas_equal_native_defaults() {
    common::pragmas_equal_native_defaults().await;
}

#[wasm_bindgen_test]
async fn begin_modes_match_native() {
    common::begin_modes_match_native().await;
}

#[wasm_bindgen_test]
async fn parameters_round_trip() {
    common::parameters_round_trip().await;
}

#[wasm_bindgen_test]
async fn errors_not_panics() {
    common::errors_not_panics().await;
}

/// The shared portable cases give the rows native dbconfig gives (`tests/portable/cases.rs`).
#[wasm_bindgen_test]
async fn portable_cases_equal_native() {
    common::portable_cases_equal_native().await;
}

#[wasm_bindgen_test]
async fn placeholders_share_the_value_mapping() {
    common::placeholders_share_the_value_mapping().await;
}

/// The example schema on a persistent OPFS database. Journal mode is `delete` here where native
/// file databases use `wal`: the opfs-sahpool VFS has no shared memory for a WAL index.
#[wasm_bindgen_test]
async fn example_schema_on_opfs() {
    let db = Database::open(Some("sqlite:///schema-test.db".into()), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert!(db.is_persistent() && !db.is_inmemory());
    let p = db.pragmas().unwrap();
    assert_eq!(
        common::get(&p, "journal_mode").as_string().as_deref(),
        Some("delete")
    );
    assert_eq!(
        common::get(&p, "foreign_keys").as_string().as_deref(),
        Some("1")
    );
    common::example_schema_round_trip(&db).await;
    db.close().unwrap();
}

/// v1 → v2 → v3 on a persistent OPFS database.
#[wasm_bindgen_test]
async fn migrations_upgrade_in_place_on_opfs() {
    let db = Database::open(Some("sqlite:///migrate-test.db".into()), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert!(db.is_persistent());
    common::migrations_upgrade_in_place(&db).await;
    db.close().unwrap();
}

/// Export from OPFS, import into memory and into another OPFS database.
#[wasm_bindgen_test]
async fn export_from_opfs_then_import() {
    let db = Database::open(Some("sqlite:///export-test.db".into()), JsValue::UNDEFINED)
        .await
        .unwrap();
    common::export_then_import(&db, "sqlite://").await;
    let bytes = db.export().unwrap();
    let saved = Database::import(
        Some("sqlite:///imported.db".into()),
        bytes,
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    assert!(saved.is_persistent());
    assert_eq!(common::names(&saved), common::names(&db));
    saved.close().unwrap();
    db.close().unwrap();
}

/// Prepared statements and array rows on a persistent OPFS database.
#[wasm_bindgen_test]
async fn prepared_statements_on_opfs() {
    let db = Database::open(
        Some("sqlite:///prepared-test.db".into()),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    db.exec("DROP TABLE IF EXISTS kv", JsValue::UNDEFINED)
        .unwrap();
    common::prepared_statements_and_array_rows(&db).await;
    db.close().unwrap();
}
