//! The envelope around every answer: `{"result": bool, "errors": [{"code", "message"}], ...}`.

use serde::{Deserialize, Serialize};

use super::WireNumber;

/// One entry of an answer's `errors` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApiErrorItem {
    /// The documented code: 0 general/validation, 1 not found, 96 concurrency limit,
    /// 97 insufficient balance, 98 sign-in required, 99 bearer token invalid.
    #[serde(default)]
    pub code: Option<WireNumber>,
    /// The server's message, word for word.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub message: String,
}

impl ApiErrorItem {
    /// Builds an entry, as the emulator answers it.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code: Some(WireNumber::from(code)),
            message: message.into(),
        }
    }

    /// The code as a number; an absent or unreadable code reads as 0 (general).
    pub fn code(&self) -> i64 {
        self.code.as_ref().and_then(WireNumber::as_i64).unwrap_or(0)
    }
}

/// The documented error codes.
pub mod codes {
    /// General, validation or server error.
    pub const GENERAL: i64 = 0;
    /// Unknown model, task or file.
    pub const NOT_FOUND: i64 = 1;
    /// Too many running tasks for the balance.
    pub const CONCURRENCY_LIMIT: i64 = 96;
    /// Not enough balance to run.
    pub const INSUFFICIENT_BALANCE: i64 = 97;
    /// Sign-in required (missing or wrong credentials).
    pub const SIGN_IN_REQUIRED: i64 = 98;
    /// Bearer token invalid.
    pub const TOKEN_INVALID: i64 = 99;
}

/// The envelope's status part, read before the body is parsed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Envelope {
    /// `true` when the operation succeeded.
    #[serde(default, deserialize_with = "super::lenient::null_as_default")]
    pub result: bool,
    /// What went wrong, when `result` is `false`.
    #[serde(default, deserialize_with = "super::lenient::null_as_default")]
    pub errors: Vec<ApiErrorItem>,
}

impl Envelope {
    /// A failed answer with one error, as the emulator sends it.
    pub fn failure(code: i64, message: impl Into<String>) -> Self {
        Self {
            result: false,
            errors: vec![ApiErrorItem::new(code, message)],
        }
    }
}
