//! Persistence across browser processes: `wasm/test.sh` runs this binary twice with the same
//! browser profile and origin. The first run finds no marker and writes one; the second finds it
//! (written by another browser process) and removes it. `DBCONFIG_PERSIST_PHASE` is baked in at
//! build time to say which run must find what.

mod common;

use dbconfig_wasm::Database;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn survives_a_browser_restart() {
    let phase = option_env!("DBCONFIG_PERSIST_PHASE").unwrap_or("write");
    let db = Database::open(Some("sqlite:///persist.db".into()), JsValue::UNDEFINED)
        .await
        .unwrap();
    db.exec(
        "CREATE TABLE IF NOT EXISTS marker (id INTEGER PRIMARY KEY, note TEXT NOT NULL)",
        JsValue::UNDEFINED,
    )
    .unwrap();
    let rows = db
        .query("SELECT note FROM marker", JsValue::UNDEFINED)
        .unwrap();
    match phase {
        "write" => {
            assert_eq!(
                rows.length(),
                0,
                "a marker from an earlier run is left over"
            );
            let mut tx = db.transaction(true).unwrap();
            tx.exec(
                "INSERT INTO marker (note) VALUES (?)",
                common::array(&[JsValue::from_str("written by the first browser")]),
            )
            .unwrap();
            tx.commit().unwrap();
        }
        _ => {
            assert_eq!(rows.length(), 1, "nothing survived the browser restart");
            assert_eq!(
                common::get(&rows.get(0), "note").as_string().as_deref(),
                Some("written by the first browser")
            );
            db.exec("DELETE FROM marker", JsValue::UNDEFINED).unwrap();
        }
    }
    db.close().unwrap();
}

/// An app upgrades its OPFS database in place on load: the first browser writes rows at v1, the
/// second (a new process, as after an app update) migrates to v3 and finds them.
#[wasm_bindgen_test]
async fn upgrades_in_place_after_a_browser_restart() {
    let phase = option_env!("DBCONFIG_PERSIST_PHASE").unwrap_or("write");
    let db = Database::open(Some("sqlite:///upgrade.db".into()), JsValue::UNDEFINED)
        .await
        .unwrap();
    match phase {
        "write" => {
            let applied = db.migrate(common::steps(1, &[])).unwrap();
            assert_eq!(
                applied.length(),
                1,
                "a database from an earlier run is left over"
            );
            db.exec(
                "INSERT INTO job (id, name) VALUES (1, 'written at v1')",
                JsValue::UNDEFINED,
            )
            .unwrap();
        }
        _ => {
            let applied = db.migrate(common::steps(3, &[])).unwrap();
            assert_eq!(applied.length(), 2, "0002 and 0003 applied on load");
            let rows = db
                .query("SELECT name, priority FROM job", JsValue::UNDEFINED)
                .unwrap();
            assert_eq!(rows.length(), 1, "the v1 row did not survive");
            assert_eq!(
                common::get(&rows.get(0), "name").as_string().as_deref(),
                Some("written at v1")
            );
            assert!(db.verify_db(common::SCHEMA_V3.into()).unwrap().is_empty());
            db.exec(
                "DROP TABLE job; DROP TABLE tag; DROP TABLE dbconfig_migrations",
                JsValue::UNDEFINED,
            )
            .unwrap();
        }
    }
    db.close().unwrap();
}
