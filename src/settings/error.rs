//! [`SettingsError`]: a setting that could not be used.

use crate::url::error::UrlError;

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A value could not be parsed or is out of range. `key` is the variable or field name.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// Environment variable or field name.
        key: String,
        /// The offending value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A connection URL could not be parsed; the URL itself is not repeated (it may hold a
    /// password).
    #[error("invalid connection url in {key}")]
    InvalidUrl {
        /// Environment variable or field name.
        key: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// Two settings contradict each other.
    #[error("{key}: {reason}")]
    Conflict {
        /// The setting at fault.
        key: String,
        /// Why.
        reason: &'static str,
    },
}

impl SettingsError {
    pub(crate) fn invalid(key: &str, value: &str, expected: &'static str) -> Self {
        SettingsError::InvalidValue {
            key: key.to_owned(),
            value: value.chars().take(200).collect(),
            expected,
        }
    }

    /// The same error about `key` (the variable a value came from) instead of the field.
    pub(crate) fn with_key(mut self, new_key: &str) -> Self {
        match &mut self {
            SettingsError::InvalidValue { key, .. }
            | SettingsError::InvalidUrl { key, .. }
            | SettingsError::Conflict { key, .. } => *key = new_key.to_owned(),
        }
        self
    }

    /// The variable or field the error is about.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            SettingsError::InvalidValue { key, .. }
            | SettingsError::InvalidUrl { key, .. }
            | SettingsError::Conflict { key, .. } => key,
        }
    }
}
