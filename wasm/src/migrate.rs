//! Versioned migrations and planned steps in the browser: the same `dbconfig::migrate` set,
//! record table and checksums as native, run by the blocking runner on the page's connection.
//!
//! Steps come from JavaScript as an array of `{ id, description, sql, sqlite, postgres }`
//! objects (`sql` for both dialects, `sqlite` replacing it here), or as an object of file names
//! and texts named as in a migrations directory (`{ "0001_init.sql": "…" }`, what a bundler's
//! glob import gives).
//!
//! ```js
//! const db = await Database.open("sqlite:///app.db");   // in a worker: OPFS
//! db.migrate([
//!   { id: "0001", description: "jobs", sql: "CREATE TABLE job (id INTEGER PRIMARY KEY, name TEXT NOT NULL)" },
//!   { id: "0002", description: "priority", sql: "ALTER TABLE job ADD COLUMN priority INTEGER NOT NULL DEFAULT 0" },
//! ]);                                                   // [{ id: "0002", description: "priority", durationMs: 1 }]
//! ```

use dbconfig::migrate::plan::plan_sqlite;
use dbconfig::migrate::{Applied, Migration, Migrations, StepState};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::{Failure, js_error};
use crate::{Database, schema};

fn invalid(reason: String) -> JsValue {
    js_error(&Failure::InvalidArgument(reason))
}

fn dbconfig(e: dbconfig::Error) -> JsValue {
    js_error(&Failure::Dbconfig(e))
}

/// A string field of `object`, if present.
fn text(object: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let value = Reflect::get(object, &key.into())?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| invalid(format!("migration field `{key}` must be a string")))
}

/// The set from an array of step objects or an object of file names and texts.
fn migrations(value: &JsValue) -> Result<Migrations, JsValue> {
    if let Some(list) = value.dyn_ref::<Array>() {
        let mut set = Migrations::new();
        for (i, item) in list.iter().enumerate() {
            if !item.is_object() {
                return Err(invalid(format!("migration {i} is not an object")));
            }
            let id =
                text(&item, "id")?.ok_or_else(|| invalid(format!("migration {i} has no `id`")))?;
            let description = text(&item, "description")?.unwrap_or_default();
            let mut step = match text(&item, "sql")? {
                Some(sql) => Migration::new(id, description, sql),
                None => Migration::per_dialect(id, description),
            };
            if let Some(sql) = text(&item, "sqlite")? {
                step = step.sqlite(sql);
            }
            if let Some(sql) = text(&item, "postgres")? {
                step = step.postgres(sql);
            }
            set = set.step(step);
        }
        set.validate().map_err(|e| dbconfig(e.into()))?;
        return Ok(set);
    }
    if value.is_object() {
        let mut files = Vec::new();
        for entry in Object::entries(value.unchecked_ref()).iter() {
            let pair: Array = entry.unchecked_into();
            let name = pair.get(0).as_string().unwrap_or_default();
            let sql = pair
                .get(1)
                .as_string()
                .ok_or_else(|| invalid(format!("migration file {name} is not a string")))?;
            files.push((name, sql));
        }
        return Migrations::from_files(files).map_err(|e| dbconfig(e.into()));
    }
    Err(invalid(
        "migrations: expected an array of { id, description, sql } or an object of file names \
         and texts"
            .into(),
    ))
}

fn applied_list(applied: &[Applied]) -> Result<Array, JsValue> {
    let out = Array::new();
    for a in applied {
        let o = Object::new();
        Reflect::set(&o, &"id".into(), &a.id.as_str().into())?;
        Reflect::set(&o, &"description".into(), &a.description.as_str().into())?;
        Reflect::set(
            &o,
            &"durationMs".into(),
            &(a.duration.as_secs_f64() * 1e3).into(),
        )?;
        out.push(&o);
    }
    Ok(out)
}

#[wasm_bindgen]
impl Database {
    /// Applies the steps of `migrations` not yet applied, in id order, each in its own
    /// `BEGIN IMMEDIATE` transaction with its record in `dbconfig_migrations` (the same table
    /// and checksums as native). Returns the steps applied: `[{ id, description, durationMs }]`.
    /// A step that fails keeps nothing of itself (`kind` `"Migration"`, naming the step).
    pub fn migrate(&self, migrations_value: JsValue) -> Result<Array, JsValue> {
        let set = migrations(&migrations_value)?;
        let inner = self.inner.borrow();
        let applied = set.up_sqlite(inner.conn()?).map_err(dbconfig)?;
        applied_list(&applied)
    }

    /// Where each step stands: `[{ id, description, state, appliedAt, checksumOk }]`, `state`
    /// being `"applied"`, `"pending"` or `"unknown"` (recorded, not in the set).
    #[wasm_bindgen(js_name = migrationStatus)]
    pub fn migration_status(&self, migrations_value: JsValue) -> Result<Array, JsValue> {
        let set = migrations(&migrations_value)?;
        let inner = self.inner.borrow();
        let steps = set.status_sqlite(inner.conn()?).map_err(dbconfig)?;
        let out = Array::new();
        for s in &steps {
            let o = Object::new();
            Reflect::set(&o, &"id".into(), &s.id.as_str().into())?;
            Reflect::set(&o, &"description".into(), &s.description.as_str().into())?;
            let (state, applied_at, ok) = match &s.state {
                StepState::Applied {
                    applied_at,
                    checksum_ok,
                } => ("applied", Some(applied_at), Some(*checksum_ok)),
                StepState::Unknown { applied_at } => ("unknown", Some(applied_at), None),
                _ => ("pending", None, None),
            };
            Reflect::set(&o, &"state".into(), &state.into())?;
            Reflect::set(
                &o,
                &"appliedAt".into(),
                &applied_at.map_or(JsValue::NULL, |a| a.as_str().into()),
            )?;
            Reflect::set(
                &o,
                &"checksumOk".into(),
                &ok.map_or(JsValue::NULL, JsValue::from),
            )?;
            out.push(&o);
        }
        Ok(out)
    }

    /// On a database with no migration record and none of `schema`'s tables: creates `schema`
    /// and records every step as applied (the schema is the last step's), in one transaction.
    /// Otherwise applies the pending steps. What an app calls on load.
    #[wasm_bindgen(js_name = createOrUpgrade)]
    pub fn create_or_upgrade(
        &self,
        schema_value: JsValue,
        migrations_value: JsValue,
    ) -> Result<Array, JsValue> {
        let metadata = schema(schema_value)?;
        let set = migrations(&migrations_value)?;
        let inner = self.inner.borrow();
        let applied = set
            .create_or_upgrade_sqlite(inner.conn()?, &metadata)
            .map_err(dbconfig)?;
        applied_list(&applied)
    }

    /// The step that brings the database to `schema`: `{ changes: [{ kind, summary }], sql }`,
    /// `kind` being `"additive"`, `"destructive"` or `"manual"`; `sql` holds the additive
    /// changes (and the destructive ones when `destructive`), ready for `migrate`.
    #[wasm_bindgen(js_name = planDb)]
    pub fn plan_db(&self, schema_value: JsValue, destructive: bool) -> Result<Object, JsValue> {
        let metadata = schema(schema_value)?;
        let inner = self.inner.borrow();
        let plan = plan_sqlite(inner.conn()?, &metadata).map_err(dbconfig)?;
        let changes = Array::new();
        for c in &plan.changes {
            let o = Object::new();
            Reflect::set(&o, &"kind".into(), &c.kind.to_string().into())?;
            Reflect::set(&o, &"summary".into(), &c.summary.as_str().into())?;
            changes.push(&o);
        }
        let out = Object::new();
        Reflect::set(&out, &"changes".into(), &changes)?;
        let sql = if plan.has_work(destructive) {
            JsValue::from(plan.sql(destructive))
        } else {
            JsValue::NULL
        };
        Reflect::set(&out, &"sql".into(), &sql)?;
        Ok(out)
    }
}
