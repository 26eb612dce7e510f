//! `Credentials`: the project's API key and (optional) secret, with a secret that never prints.

use std::fmt;

/// A secret string whose `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: only for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A Wiro project's API key and, for projects with signature auth, its API secret.
///
/// Without a secret only `x-api-key` is sent (key-only projects).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    api_key: String,
    api_secret: Option<Secret>,
}

impl Credentials {
    /// Key and secret: every request is signed.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: Some(Secret::new(api_secret)),
        }
    }

    /// Key only: requests carry `x-api-key` and no signature.
    pub fn key_only(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: None,
        }
    }

    /// Reads `WIRO_API_KEY` and, if set and not empty, `WIRO_API_SECRET`.
    /// `None` when no key is set.
    pub fn from_env() -> Option<Self> {
        let api_key = std::env::var("WIRO_API_KEY")
            .ok()
            .filter(|k| !k.is_empty())?;
        let api_secret = std::env::var("WIRO_API_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        Some(Self {
            api_key,
            api_secret,
        })
    }

    /// The API key (not secret: it travels in a header of every request).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The API secret, when the project signs its requests.
    pub fn api_secret(&self) -> Option<&Secret> {
        self.api_secret.as_ref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_prints() {
        let credentials = Credentials::new("key-1", "hunter2");
        let shown = format!("{credentials:?} {:?}", credentials.api_secret());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***") && shown.contains("key-1"));
        assert_eq!(credentials.api_secret().unwrap().to_string(), "***");
        assert_eq!(credentials.api_secret().unwrap().expose(), "hunter2");
    }
}
