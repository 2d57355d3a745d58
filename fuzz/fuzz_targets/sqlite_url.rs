//! Near-valid SQLite URLs in every accepted style (SQLAlchemy, sqlx, `file:` URIs), built from
//! parts.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[path = "check.rs"]
mod check;

#[derive(Arbitrary, Debug)]
enum Prefix {
    Sqlite,
    SqliteSlash2,
    SqliteSlash3,
    SqliteSlash4,
    Aiosqlite,
    File,
    FileSlash2,
    FileSlash3,
    Upper,
    /// `sqlite+pysqlcipher://:KEY@/` with the key as given (raw, possibly hostile).
    Cipher(String),
    CipherNoKey,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Path {
    Memory,
    Empty,
    Text(String),
    Encoded(String),
    Relative(Vec<String>),
    Absolute(Vec<String>),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Mode,
    Cache,
    Vfs,
    Immutable,
    Uri,
    Timeout,
    Psow,
    Nolock,
    Other(String),
}

const VALUES: &[&str] = &[
    "memory", "ro", "rw", "rwc", "shared", "private", "memdb", "unix", "1", "0", "true", "no",
    "5", "2.5", "", "%20", "a=b",
];

#[derive(Arbitrary, Debug)]
struct Input {
    prefix: Prefix,
    path: Path,
    params: Vec<(Key, u8, Option<String>)>,
}

fn render(input: &Input) -> String {
    let mut out = match &input.prefix {
        Prefix::Sqlite => "sqlite:".to_owned(),
        Prefix::SqliteSlash2 => "sqlite://".to_owned(),
        Prefix::SqliteSlash3 => "sqlite:///".to_owned(),
        Prefix::SqliteSlash4 => "sqlite:////".to_owned(),
        Prefix::Aiosqlite => "sqlite+aiosqlite:///".to_owned(),
        Prefix::File => "file:".to_owned(),
        Prefix::FileSlash2 => "file://".to_owned(),
        Prefix::FileSlash3 => "file:///".to_owned(),
        Prefix::Upper => "SQLITE:///".to_owned(),
        Prefix::Cipher(key) => format!("sqlite+pysqlcipher://:{key}@/"),
        Prefix::CipherNoKey => "sqlite+pysqlcipher:///".to_owned(),
        Prefix::Other(s) => s.clone(),
    };
    match &input.path {
        Path::Memory => out.push_str(":memory:"),
        Path::Empty => {}
        Path::Text(t) => out.push_str(t),
        Path::Encoded(t) => {
            for b in t.bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        Path::Relative(parts) => out.push_str(&parts.join("/")),
        Path::Absolute(parts) => {
            out.push('/');
            out.push_str(&parts.join("/"));
        }
    }
    for (i, (key, value, raw)) in input.params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        let key = match key {
            Key::Mode => "mode",
            Key::Cache => "cache",
            Key::Vfs => "vfs",
            Key::Immutable => "immutable",
            Key::Uri => "uri",
            Key::Timeout => "timeout",
            Key::Psow => "psow",
            Key::Nolock => "nolock",
            Key::Other(k) => k.as_str(),
        };
        out.push_str(key);
        out.push('=');
        match raw {
            Some(raw) => out.push_str(raw),
            None => out.push_str(VALUES[*value as usize % VALUES.len()]),
        }
    }
    out
}

fuzz_target!(|input: Input| {
    check::check_url(&render(&input));
});
