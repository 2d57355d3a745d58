//! Errors as JavaScript `Error`s with the same messages as native dbconfig.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// What went wrong.
pub enum Failure {
    /// A dbconfig error: the message (with its causes) is native dbconfig's.
    Dbconfig(dbconfig::Error),
    /// A bad argument from JavaScript.
    InvalidArgument(String),
    /// A persistent database opened outside a dedicated worker.
    NeedsWorker,
    /// OPFS could not be used.
    Storage(String),
    /// The database was closed.
    Closed,
    /// `transaction()` while one is open.
    TransactionOpen,
}

impl Failure {
    /// The error's `kind`: a stable name for the case, for `switch` statements.
    fn kind(&self) -> &'static str {
        match self {
            Failure::Dbconfig(e) => match e {
                dbconfig::Error::Url(_) => "Url",
                dbconfig::Error::Settings(_) => "Settings",
                dbconfig::Error::Schema(_) => "Schema",
                dbconfig::Error::Sqlite(_) if e.is_busy() => "Busy",
                dbconfig::Error::Sqlite(_) => "Sqlite",
                dbconfig::Error::Pragma { .. } => "Pragma",
                dbconfig::Error::TransactionDone => "TransactionDone",
                dbconfig::Error::WrongDialect { .. } => "WrongDialect",
                dbconfig::Error::Placeholders { .. } => "Placeholders",
                dbconfig::Error::Encode { .. } => "Encode",
                dbconfig::Error::Migration(_) => "Migration",
                dbconfig::Error::NotADatabase { .. } => "NotADatabase",
                _ => "Dbconfig",
            },
            Failure::InvalidArgument(_) => "InvalidArgument",
            Failure::NeedsWorker => "NeedsWorker",
            Failure::Storage(_) => "Storage",
            Failure::Closed => "Closed",
            Failure::TransactionOpen => "TransactionOpen",
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Dbconfig(e) => {
                // The message and its causes, as native callers print them.
                let mut text = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    text.push_str(": ");
                    text.push_str(&cause.to_string());
                    source = cause.source();
                }
                text
            }
            Failure::InvalidArgument(reason) => reason.clone(),
            Failure::NeedsWorker => "a persistent database needs OPFS, which browsers only give \
                                      to a dedicated worker: open it in a Worker, or use an \
                                      in-memory url (sqlite://) on the main thread"
                .into(),
            Failure::Storage(reason) => format!("opfs storage: {reason}"),
            Failure::Closed => "the database is closed".into(),
            Failure::TransactionOpen => {
                "a transaction is already open: commit or roll it back first".into()
            }
        }
    }
}

/// A JavaScript `Error` with `name = "DbconfigError"`, the message, and `kind`.
pub fn js_error(failure: &Failure) -> JsValue {
    let error = js_sys::Error::new(&failure.message());
    error.set_name("DbconfigError");
    let _ = Reflect::set(&error, &"kind".into(), &failure.kind().into());
    if let Failure::Dbconfig(e) = failure
        && let Some(code) = e.sqlite_extended_code()
    {
        let _ = Reflect::set(&error, &"code".into(), &code.into());
    }
    error.into()
}
