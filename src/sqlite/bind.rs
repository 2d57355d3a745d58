//! Portable statements on SQLite: `$1, $2, …` bound by their digits, [`Value`]s stored as
//! [`crate::value`] describes, rows read back as [`Row`]s. Pure over rusqlite, so the browser
//! build runs the same code.
//!
//! SQLite takes `$1` as a *named* parameter and numbers parameters by first appearance: in
//! `… $2 … $1` the parameter SQLite calls 1 is `$2`. Each parameter's name is read back after
//! `prepare` and bound to the value its digits name, so order and repetition work as on
//! PostgreSQL, with no SQL lexer of our own.

use std::borrow::Cow;
use std::sync::Arc;

use rusqlite::types::{Null, ValueRef};
use rusqlite::{Connection, Statement, StatementStatus};

use crate::error::{Error, Result};
use crate::value::row::Cell;
use crate::value::{Params, Row, Value, text};

/// The `$N` number of each of `stmt`'s parameters, in SQLite's order.
///
/// # Errors
/// [`Error::Placeholders`] for `?`, `?N`, `:name`, `@name` or `$name` placeholders.
fn parameter_numbers(stmt: &Statement<'_>) -> Result<Vec<usize>> {
    let count = stmt.parameter_count();
    let mut numbers = Vec::with_capacity(count);
    let mut other: Option<String> = None;
    for i in 1..=count {
        match stmt.parameter_name(i) {
            Some(name) => match portable_number(name) {
                Some(n) => numbers.push(n),
                None => {
                    other.get_or_insert_with(|| name.to_owned());
                }
            },
            None => {
                other.get_or_insert_with(|| "?".to_owned());
            }
        }
    }
    if let Some(name) = other {
        let reason = if numbers.is_empty() {
            format!("`{name}` is not a portable placeholder: write $1, $2, … (PostgreSQL's syntax)")
        } else {
            format!("the statement mixes `{name}` and `$N` placeholders: use $1, $2, … only")
        };
        return Err(Error::Placeholders { reason });
    }
    Ok(numbers)
}

/// Refuses a statement of a batch (`execute_batch`, the browser's `exec` without values) that
/// has placeholders: SQLite would run it with NULL for each of them, where PostgreSQL refuses
/// it. Values go with [`execute`](crate::query::Executor::execute).
///
/// ```
/// use dbconfig::sqlite::bind::no_placeholders;
/// let conn = rusqlite::Connection::open_in_memory()?;
/// assert!(no_placeholders(&conn.prepare("SELECT 1")?).is_ok());
/// let err = no_placeholders(&conn.prepare("SELECT $1")?).unwrap_err();
/// assert!(err.to_string().contains("$1"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::Placeholders`] naming the first placeholder.
pub fn no_placeholders(stmt: &Statement<'_>) -> Result<()> {
    let count = stmt.parameter_count();
    if count == 0 {
        return Ok(());
    }
    let first = stmt.parameter_name(1).unwrap_or("?");
    Err(Error::Placeholders {
        reason: format!(
            "a batch takes no values, and a statement of it has {count} placeholder(s) \
             (`{first}` first; SQLite would bind NULL): run it with execute and its values"
        ),
    })
}

/// Checks that `numbers` (a statement's `$N`s) fit `given` values: none past them, none of them
/// skipped (PostgreSQL cannot type a skipped one, so neither may SQLite).
fn check_numbers(numbers: &[usize], given: usize) -> Result<()> {
    let highest = numbers.iter().copied().max().unwrap_or(0);
    if highest > given {
        return Err(Error::Placeholders {
            reason: format!("the statement uses ${highest}, {given} parameter(s) were given"),
        });
    }
    let mut used = Used::new(given);
    for &n in numbers {
        used.set(n - 1);
    }
    if let Some(unused) = used.first_unset() {
        return Err(Error::Placeholders {
            reason: if unused < highest {
                format!(
                    "${} is not used by the statement (PostgreSQL could not infer its type)",
                    unused + 1
                )
            } else {
                format!("{given} parameter(s) were given, the statement uses {highest}")
            },
        });
    }
    Ok(())
}

/// What a statement's parameters are bound from.
#[derive(Clone, Copy)]
pub(crate) enum Args<'a> {
    /// Values already made.
    Values(&'a [Value]),
    /// The caller's parameters, converted as they are bound (no intermediate vector).
    #[cfg_attr(target_family = "wasm", allow(dead_code))]
    Params(Params<'a>),
}

impl Args<'_> {
    fn len(&self) -> usize {
        match self {
            Args::Values(v) => v.len(),
            Args::Params(p) => p.len(),
        }
    }

    fn get(&self, i: usize) -> Cow<'_, Value> {
        match self {
            Args::Values(v) => Cow::Borrowed(&v[i]),
            Args::Params(p) => Cow::Owned(p[i].to_value()),
        }
    }
}

fn bind_numbers(
    stmt: &mut Statement<'_>,
    numbers: &[usize],
    args: Args<'_>,
    checked: &mut Option<usize>,
) -> Result<()> {
    // The numbers are fixed by the SQL text: checked once per count of values given.
    if *checked != Some(args.len()) {
        check_numbers(numbers, args.len())?;
        *checked = Some(args.len());
    }
    for (i, &n) in numbers.iter().enumerate() {
        bind_one(stmt, i + 1, n, &args.get(n - 1))?;
    }
    Ok(())
}

/// Binds `values` to `stmt`'s `$N` parameters (`$N` gets `values[N - 1]`).
///
/// # Errors
/// [`Error::Placeholders`] for `?`, `?N`, `:name`, `@name` or `$name` placeholders, a `$N` past
/// the values given, a number skipped, or more values than placeholders; [`Error::Encode`] for a
/// value SQLite cannot store portably (NaN, a year past 9999).
pub fn bind_values(stmt: &mut Statement<'_>, values: &[Value]) -> Result<()> {
    let numbers = parameter_numbers(stmt)?;
    bind_numbers(stmt, &numbers, Args::Values(values), &mut None)
}

/// A statement's `$N` placeholders, read once, for binding many rows of values: what
/// [`bind_values`] works out on every call. For callers that keep a statement and bind it
/// again and again (the browser build's `execMany` and prepared statements).
///
/// ```
/// use dbconfig::sqlite::bind::PortableParams;
/// use dbconfig::Value;
/// let conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE t (a, b)")?;
/// let mut stmt = conn.prepare("INSERT INTO t VALUES ($2, $1)")?;
/// let mut params = PortableParams::new(&stmt)?;
/// for i in 0..3 {
///     params.bind(&mut stmt, &[Value::Int(i), Value::Text("x".into())])?;
///     stmt.raw_execute()?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PortableParams {
    numbers: Vec<usize>,
    checked: Option<usize>,
}

impl PortableParams {
    /// Reads `stmt`'s placeholders.
    ///
    /// # Errors
    /// As [`bind_values`]: placeholders that are not `$N`.
    pub fn new(stmt: &Statement<'_>) -> Result<Self> {
        Ok(PortableParams {
            numbers: parameter_numbers(stmt)?,
            checked: None,
        })
    }

    /// Binds `values` to `stmt` (the statement this was made from) as [`bind_values`] does.
    ///
    /// # Errors
    /// As [`bind_values`].
    pub fn bind(&mut self, stmt: &mut Statement<'_>, values: &[Value]) -> Result<()> {
        bind_numbers(stmt, &self.numbers, Args::Values(values), &mut self.checked)
    }

    /// The `$N` of each of the statement's parameters, in SQLite's order (parameter `i + 1`
    /// takes value `N - 1`), once checked against `given` values as [`bind`](Self::bind)
    /// checks them: for callers that bind values of their own representation with
    /// [`bind_numbered`].
    ///
    /// ```
    /// use dbconfig::sqlite::bind::{PortableParams, bind_numbered};
    /// use dbconfig::Value;
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let mut stmt = conn.prepare("SELECT $2 || $1 || $2")?;
    /// let mut params = PortableParams::new(&stmt)?;
    /// assert_eq!(params.numbers(2)?, &[2, 1]); // SQLite numbers each name once
    /// assert!(params.numbers(3).is_err()); // $3 is never used
    /// let values = [Value::Text("a".into()), Value::Text("b".into())];
    /// for (i, &n) in params.numbers(2)?.to_vec().iter().enumerate() {
    ///     bind_numbered(&mut stmt, i + 1, n, &values[n - 1])?;
    /// }
    /// let text: String = stmt.raw_query().next()?.expect("a row").get(0)?;
    /// assert_eq!(text, "bab");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Placeholders`]: a `$N` past the values given, a number skipped, or more values
    /// than placeholders.
    pub fn numbers(&mut self, given: usize) -> Result<&[usize]> {
        if self.checked != Some(given) {
            check_numbers(&self.numbers, given)?;
            self.checked = Some(given);
        }
        Ok(&self.numbers)
    }
}

/// Binds `value` to `stmt`'s parameter `index` (SQLite's 1-based numbering), stored as
/// [`bind_values`] stores it; an error names the parameter `$number`. With
/// [`PortableParams::numbers`].
///
/// # Errors
/// As [`bind_value`].
pub fn bind_numbered(
    stmt: &mut Statement<'_>,
    index: usize,
    number: usize,
    value: &Value,
) -> Result<()> {
    bind_one(stmt, index, number, value)
}

/// Which of the values a statement used: a bit mask for up to 64, else a vector (no allocation
/// in the common case).
enum Used {
    Few { mask: u64, len: usize },
    Many(Vec<bool>),
}

impl Used {
    fn new(len: usize) -> Self {
        if len <= 64 {
            Used::Few { mask: 0, len }
        } else {
            Used::Many(vec![false; len])
        }
    }

    fn set(&mut self, i: usize) {
        match self {
            Used::Few { mask, .. } => *mask |= 1 << i,
            Used::Many(v) => v[i] = true,
        }
    }

    fn first_unset(&self) -> Option<usize> {
        match self {
            Used::Few { mask, len } => (0..*len).find(|i| mask & (1 << i) == 0),
            Used::Many(v) => v.iter().position(|u| !u),
        }
    }
}

/// Binds one `value` to `stmt`'s parameter `index` (SQLite's 1-based numbering), stored as
/// [`bind_values`] stores it: for callers that bind `?`, `?N` or `:name` parameters themselves
/// (the browser build binds JavaScript arrays and objects this way).
///
/// # Errors
/// [`Error::Encode`] (naming `index`) for a value SQLite cannot store portably (NaN, a year past
/// 9999); [`Error::Sqlite`] for an index the statement does not have.
pub fn bind_value(stmt: &mut Statement<'_>, index: usize, value: &Value) -> Result<()> {
    bind_one(stmt, index, index, value)
}

/// True when `name` (a parameter name as [`Statement::parameter_name`] reports it) is a portable
/// `$N` placeholder, the ones [`bind_values`] binds.
#[must_use]
pub fn is_portable_placeholder(name: &str) -> bool {
    portable_number(name).is_some()
}

/// `N` for a `$N` parameter name.
fn portable_number(name: &str) -> Option<usize> {
    let digits = name.strip_prefix('$')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n > 0)
}

fn bind_one(stmt: &mut Statement<'_>, i: usize, parameter: usize, value: &Value) -> Result<()> {
    let encode = |reason: String| Error::Encode { parameter, reason };
    match value {
        Value::Null => stmt.raw_bind_parameter(i, Null),
        Value::Bool(b) => stmt.raw_bind_parameter(i, i64::from(*b)),
        Value::Int(v) => stmt.raw_bind_parameter(i, *v),
        Value::Float(f) if f.is_nan() => {
            return Err(encode(
                "NaN is not stored portably (SQLite would store NULL); bind NULL or an infinity \
                 instead"
                    .into(),
            ));
        }
        Value::Float(f) => stmt.raw_bind_parameter(i, *f),
        Value::Text(s) => stmt.raw_bind_parameter(i, s.as_str()),
        Value::Bytes(b) => stmt.raw_bind_parameter(i, b.as_slice()),
        Value::Uuid(u) => {
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            let s: &str = u.hyphenated().encode_lower(&mut buf);
            stmt.raw_bind_parameter(i, s)
        }
        Value::Json(j) => stmt.raw_bind_parameter(i, j.to_string()),
        Value::Timestamp(t) => {
            stmt.raw_bind_parameter(i, text::format_timestamp(*t).map_err(encode)?)
        }
        Value::Date(d) => stmt.raw_bind_parameter(i, text::format_date(*d).map_err(encode)?),
    }
    .map_err(Error::Sqlite)
}

/// Column `i` of `row` as a [`Value`] (by storage class; text that is not UTF-8 reads as bytes).
///
/// # Errors
/// The column does not exist.
pub fn column_value(row: &rusqlite::Row<'_>, i: usize) -> Result<Value> {
    Ok(match row.get_ref(i)? {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Float(v),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Bytes(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    })
}

/// What dbconfig remembers of the portable statements run on one connection, by SQL text: the
/// `$N` number of each parameter (fixed by the text) and the result column names, so that
/// neither is read and copied again on every run.
///
/// Column names can change under the same text (a `SELECT *` after `ALTER TABLE`): SQLite then
/// re-prepares the statement during its first step. So names are taken after the first step,
/// and re-read unless the statement is the same one that ran last time, unchanged: its run
/// counter is one more than we saw and its re-prepare counter is the same (a statement prepared
/// afresh, or stepped by someone else meanwhile, fails that test and has its names re-read).
#[derive(Debug, Default)]
pub struct StatementInfo {
    /// Most recently used first (roughly: a hit moves to the front by one swap).
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    sql: Box<str>,
    numbers: Box<[usize]>,
    names: Option<Arc<[String]>>,
    /// The number of values `numbers` were last found to fit.
    checked: Option<usize>,
    /// The statement's run and re-prepare counters when `names` were last checked.
    runs: i32,
    reprepares: i32,
}

impl StatementInfo {
    /// Statements remembered (rusqlite's statement cache keeps 16 by default; this is cheap).
    const MAX: usize = 64;

    /// The position of `sql`'s entry (always 0: it is moved or inserted at the front).
    fn entry(&mut self, sql: &str, stmt: &Statement<'_>) -> Result<usize> {
        match self.entries.iter().position(|e| &*e.sql == sql) {
            Some(0) => {}
            Some(i) => self.entries.swap(0, i),
            None => {
                let numbers = parameter_numbers(stmt)?;
                if self.entries.len() >= Self::MAX {
                    self.entries.pop();
                }
                self.entries.insert(
                    0,
                    Entry {
                        sql: sql.into(),
                        numbers: numbers.into(),
                        names: None,
                        checked: None,
                        runs: 0,
                        reprepares: 0,
                    },
                );
            }
        }
        Ok(0)
    }

    /// The column names of `stmt`, which has just taken its first step for this run.
    fn names(&mut self, at: usize, stmt: &Statement<'_>) -> Arc<[String]> {
        let entry = &mut self.entries[at];
        let runs = stmt.get_status(StatementStatus::Run);
        let reprepares = stmt.get_status(StatementStatus::RePrepare);
        let same = runs == entry.runs.wrapping_add(1) && reprepares == entry.reprepares;
        entry.runs = runs;
        entry.reprepares = reprepares;
        match &entry.names {
            Some(names) if same => Arc::clone(names),
            _ => {
                let names: Arc<[String]> = stmt.column_names().map(String::from).collect();
                entry.names = Some(Arc::clone(&names));
                names
            }
        }
    }
}

/// Text and blob columns packed per row when the row is this narrow (wider rows grow their
/// buffer as they go).
const PACK: usize = 16;

/// Prepares (cached) `sql`, binds `values` and returns every row.
///
/// # Errors
/// Preparing or stepping failed, or binding failed (see [`bind_values`]).
pub fn query(conn: &Connection, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
    query_with(
        conn,
        sql,
        Args::Values(values),
        &mut StatementInfo::default(),
    )
}

/// [`query`] with `args`, remembering the statement in `info`.
pub(crate) fn query_with(
    conn: &Connection,
    sql: &str,
    args: Args<'_>,
    info: &mut StatementInfo,
) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let at = info.entry(sql, &stmt)?;
    let entry = &mut info.entries[at];
    bind_numbers(&mut stmt, &entry.numbers, args, &mut entry.checked)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    let mut columns = None;
    while let Some(row) = rows.next()? {
        // Counted after the step: a re-prepare during the first step may change the columns.
        let n = row.as_ref().column_count();
        let columns = columns.get_or_insert_with(|| info.names(at, row.as_ref()));
        let mut refs = [ValueRef::Null; PACK];
        let mut size = 0;
        if n <= PACK {
            for (i, slot) in refs.iter_mut().enumerate().take(n) {
                *slot = row.get_ref(i)?;
                if let ValueRef::Text(b) | ValueRef::Blob(b) = *slot {
                    size += b.len();
                }
            }
        }
        let mut cells = Vec::with_capacity(n);
        let mut bytes = Vec::with_capacity(size);
        for i in 0..n {
            let value = match refs.get(i) {
                Some(packed) if n <= PACK => *packed,
                _ => row.get_ref(i)?,
            };
            cells.push(match value {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(v) => Cell::Float(v),
                ValueRef::Text(t) => {
                    let at = bytes.len();
                    bytes.extend_from_slice(t);
                    if std::str::from_utf8(t).is_ok() {
                        Cell::Text(at, t.len())
                    } else {
                        Cell::Bytes(at, t.len())
                    }
                }
                ValueRef::Blob(b) => {
                    let at = bytes.len();
                    bytes.extend_from_slice(b);
                    Cell::Bytes(at, b.len())
                }
            });
        }
        out.push(Row::from_cells(Arc::clone(columns), cells, bytes));
    }
    Ok(out)
}

/// Prepares (cached) `sql`, binds `values` and runs it: the rows changed, or, for a statement
/// that returns rows, the number of rows (as PostgreSQL counts them).
///
/// # Errors
/// As [`query`].
pub fn execute(conn: &Connection, sql: &str, values: &[Value]) -> Result<u64> {
    execute_with(
        conn,
        sql,
        Args::Values(values),
        &mut StatementInfo::default(),
    )
}

/// [`execute`] with `args`, remembering the statement in `info`.
pub(crate) fn execute_with(
    conn: &Connection,
    sql: &str,
    args: Args<'_>,
    info: &mut StatementInfo,
) -> Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    let at = info.entry(sql, &stmt)?;
    let entry = &mut info.entries[at];
    bind_numbers(&mut stmt, &entry.numbers, args, &mut entry.checked)?;
    if stmt.column_count() == 0 {
        return Ok(stmt.raw_execute()? as u64);
    }
    let mut rows = stmt.raw_query();
    let mut n = 0;
    while rows.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}
