//! In headless Chromium, on the main thread.

mod common;

use dbconfig_wasm::Database;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn pragmas_equal_native_defaults() {
    common::pragmas_equal_native_defaults().await;
}

#[wasm_bindgen_test]
async fn begin_modes_match_native() {
    common::begin_modes_match_native().await;
}

#[wasm_bindgen_test]
async fn example_schema_in_memory() {
    common::example_schema_round_trip(&common::memory().await).await;
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

#[wasm_bindgen_test]
async fn out_of_range_settings_are_errors() {
    common::out_of_range_settings_are_errors().await;
}

/// OPFS needs a worker: the main thread gets an error that says so.
#[wasm_bindgen_test]
async fn persistent_database_on_the_main_thread_is_a_clear_error() {
    let e = Database::open(Some("sqlite:///main.db".into()), JsValue::UNDEFINED)
        .await
        .err()
        .unwrap();
    assert_eq!(common::kind(&e), "NeedsWorker");
    assert!(common::message(&e).contains("dedicated worker"));
}

#[wasm_bindgen_test]
async fn migrations_upgrade_in_place() {
    common::migrations_upgrade_in_place(&common::memory().await).await;
}

#[wasm_bindgen_test]
async fn create_or_upgrade_stamps() {
    common::create_or_upgrade_stamps(&common::memory().await).await;
}

#[wasm_bindgen_test]
async fn export_then_import_in_memory() {
    let db = common::memory().await;
    common::export_then_import(&db, "sqlite://").await;
}

#[wasm_bindgen_test]
async fn memory_databases_private_or_shared() {
    common::memory_databases_private_or_shared().await;
}

#[wasm_bindgen_test]
async fn blobs_and_text_round_trip() {
    common::blobs_and_text_round_trip(&common::memory().await).await;
}

#[wasm_bindgen_test]
async fn prepared_statements_and_array_rows() {
    common::prepared_statements_and_array_rows(&common::memory().await).await;
}
