//! How a call's values bind to a statement: an array packed in one buffer
//! ([`wire`](crate::wire)), an object by parameter name value by value
//! ([`convert`](crate::convert)), absent values as none.

use std::borrow::Cow;

use dbconfig::sqlite::bind::bind_value;
use js_sys::{Array, Object};
use rusqlite::Statement;
use wasm_bindgen::{JsCast, JsValue};

use crate::convert::{Binder, Which, dbconfig_error, sqlite, to_value};
use crate::error::{Failure, js_error};

/// Binds `params` to `stmt`.
///
/// An array binds the statement's `$1, $2, …` by their digits exactly as native dbconfig does
/// (`$N` gets element N-1; order and repetition free; a `?` or `:name` mixed in, a `$N` past the
/// array, a number skipped or extra elements are native's `Placeholders` error). For a statement
/// without `$N` placeholders an array binds `?`/`?N` in SQLite's order, as before. An object
/// binds `:name`, `@name` or `$name` (a key without a prefix is tried as `:key`). Either way
/// values are converted by [`to_value`] and stored as native stores them.
pub fn bind(stmt: &mut Statement<'_>, params: &JsValue) -> Result<(), JsValue> {
    let mut binder = Binder::new(stmt);
    bind_as(stmt, params, &mut binder)
}

/// `params` is absent: `undefined` or `null`.
pub fn absent(params: &JsValue) -> bool {
    params.is_undefined() || params.is_null()
}

/// The values to bind to `stmt`: `params`, or when they are absent, none for a statement
/// without placeholders and an empty array for one with them, so that it is refused as native
/// refuses too few values (SQLite would bind NULL).
pub fn given<'a>(stmt: &Statement<'_>, params: &'a JsValue) -> Option<Cow<'a, JsValue>> {
    if !absent(params) {
        Some(Cow::Borrowed(params))
    } else if stmt.parameter_count() > 0 {
        Some(Cow::Owned(Array::new().into()))
    } else {
        None
    }
}

/// [`bind`], with the statement's [`Binder`].
pub fn bind_as(
    stmt: &mut Statement<'_>,
    params: &JsValue,
    binder: &mut Binder,
) -> Result<(), JsValue> {
    if crate::wire::bind_params(stmt, params, binder)? {
        return Ok(());
    }
    let Some(object) = params.dyn_ref::<Object>() else {
        return Err(js_error(&Failure::InvalidArgument(
            "params must be an array or an object".into(),
        )));
    };
    for entry in Object::entries(object).iter() {
        let pair: Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        let name = if key.starts_with([':', '@', '$']) {
            key.clone()
        } else {
            format!(":{key}")
        };
        let index = stmt
            .parameter_index(&name)
            .map_err(sqlite)?
            .ok_or_else(|| {
                js_error(&Failure::InvalidArgument(format!(
                    "the statement has no parameter {name}"
                )))
            })?;
        let value = to_value(&pair.get(1), &Which::Name(&name))?;
        bind_value(stmt, index, &value).map_err(dbconfig_error)?;
    }
    Ok(())
}
