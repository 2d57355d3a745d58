//! A tiny SQL writer: identifiers always quoted, literals always escaped.

use crate::url::Dialect;

/// Builds one SQL statement.
pub(crate) struct SqlWriter {
    out: String,
    dialect: Dialect,
}

impl SqlWriter {
    pub(crate) fn new(dialect: Dialect) -> Self {
        SqlWriter {
            out: String::with_capacity(128),
            dialect,
        }
    }

    /// The dialect being written.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Keywords and punctuation, as given.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.out.push_str(sql);
        self
    }

    /// `"name"` with embedded quotes doubled. Names were validated (non-empty, no NUL).
    pub(crate) fn push_identifier(&mut self, name: &str) -> &mut Self {
        self.out.push('"');
        for c in name.chars() {
            if c == '"' {
                self.out.push('"');
            }
            self.out.push(c);
        }
        self.out.push('"');
        self
    }

    /// `"schema"."name"`, or `"name"` without a schema.
    pub(crate) fn push_qualified(&mut self, schema: Option<&str>, name: &str) -> &mut Self {
        if let Some(schema) = schema {
            self.push_identifier(schema).push(".");
        }
        self.push_identifier(name)
    }

    /// A comma-separated list of quoted names.
    pub(crate) fn push_identifiers<S: AsRef<str>>(&mut self, names: &[S]) -> &mut Self {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_identifier(name.as_ref());
        }
        self
    }

    /// A string literal: `'…'` with quotes doubled. On PostgreSQL a value with a backslash is
    /// written `E'…'` with backslashes doubled, correct whatever `standard_conforming_strings`
    /// is. Values were validated (no NUL).
    pub(crate) fn push_literal(&mut self, value: &str) -> &mut Self {
        let escape_backslash = self.dialect == Dialect::Postgres && value.contains('\\');
        if escape_backslash {
            self.out.push('E');
        }
        self.out.push('\'');
        for c in value.chars() {
            if c == '\'' || (escape_backslash && c == '\\') {
                self.out.push(c);
            }
            self.out.push(c);
        }
        self.out.push('\'');
        self
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        let mut w = SqlWriter::new(Dialect::Sqlite);
        w.push_identifier("x\";--")
            .push(" ")
            .push_literal("'; DROP TABLE t; --");
        assert_eq!(w.finish(), "\"x\"\";--\" '''; DROP TABLE t; --'");
        let mut w = SqlWriter::new(Dialect::Postgres);
        w.push_literal("a\\'b")
            .push(" ")
            .push_qualified(Some("s"), "t");
        assert_eq!(w.finish(), "E'a\\\\''b' \"s\".\"t\"");
    }
}
