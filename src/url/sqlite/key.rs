//! [`SqliteKey`]: the SQLCipher key, a secret that never prints.

use std::fmt;

use crate::settings::error::SettingsError;

/// The key of a SQLCipher-encrypted database (feature `sqlcipher`): a passphrase, or a raw
/// 256-bit key written as SQLCipher reads it, `x'<64 hex digits>'` (no key derivation, so
/// connections open faster).
///
/// Never shown: `Debug` prints `SqliteKey(***)`, settings serialise it as `***` (unless
/// [`Settings::with_secrets`](crate::Settings::with_secrets)), and URLs holding one print
/// `:***@`. Its bytes are overwritten with zeros when dropped (best effort: copies that
/// SQLite and the allocator made are out of reach).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SqliteKey(String);

impl SqliteKey {
    /// A key from a passphrase or a raw key (`x'…'`).
    ///
    /// # Errors
    /// An empty key (SQLCipher reads it as "no encryption") or one holding a NUL character,
    /// as a [`SettingsError`](crate::settings::SettingsError) for `sqlite.key` that does not
    /// show the key.
    pub fn new(key: impl Into<String>) -> Result<Self, SettingsError> {
        let key = Self(key.into());
        if key.0.is_empty() || key.0.contains('\0') {
            return Err(SettingsError::invalid(
                "sqlite.key",
                "***",
                "a non-empty passphrase without NUL characters, or x'<64 hex digits>'",
            ));
        }
        Ok(key)
    }

    /// The key in clear, for handing to SQLCipher or a secret store.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SqliteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SqliteKey(***)")
    }
}

impl Drop for SqliteKey {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        // Keeps the zeroing from being optimised away as a dead store.
        std::hint::black_box(&bytes);
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for SqliteKey {
    /// Writes `***`: serialise [`Settings::with_secrets`](crate::Settings::with_secrets) for the
    /// key in clear.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SqliteKey {
    /// Reads a key; `***` (what plain serialisation writes) is an error, not a key.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "***" {
            return Err(serde::de::Error::custom(
                "sqlite.key is redacted (\"***\"): serialise the settings with \
                 `with_secrets()` to keep it, or give it in DBCONFIG_SQLITE_KEY",
            ));
        }
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_and_refuses_empty() {
        let key = SqliteKey::new("hunter2").unwrap();
        assert_eq!(format!("{key:?}"), "SqliteKey(***)");
        assert_eq!(key.expose(), "hunter2");
        for bad in ["", "a\0b"] {
            let err = SqliteKey::new(bad).unwrap_err();
            assert_eq!(err.key(), "sqlite.key");
            assert!(!err.to_string().contains("a\0b"));
        }
    }
}
