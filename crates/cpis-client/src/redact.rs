//! A string that must never reach a log, an error message or `Debug` output (tokens).

use std::fmt;

/// A secret string. `Debug` and `Display` print a placeholder; [`Secret::expose`] is the only
/// way to read it, so every use is easy to find.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call only where it is sent to its one destination.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let secret = Secret::new("eyJhbGciOiJSUzI1NiJ9.payload.signature");
        assert!(!format!("{secret:?}").contains("eyJ"));
        assert!(!format!("{secret}").contains("eyJ"));
        assert_eq!(secret.expose(), "eyJhbGciOiJSUzI1NiJ9.payload.signature");
    }
}
