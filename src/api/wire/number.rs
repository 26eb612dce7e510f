//! `WireNumber`: a number as Wiro sends it — usually a JSON string (`"6.0000"`), sometimes a number.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A numeric field kept exactly as the server wrote it.
///
/// Wiro sends nearly every number as a JSON string (`"elapsedseconds": "6.0000"`,
/// `"size": "202472"`); some servers send real numbers. Both parse; the original text is kept,
/// so nothing is lost when a value is passed on, and it is written back as a string.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct WireNumber(String);

impl WireNumber {
    /// Wraps any displayable value (`WireNumber::from(42)`, `WireNumber::new("0.0125")`).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a float, when the text is one.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.trim().parse().ok()
    }

    /// The value as an unsigned integer; `"6.0000"` reads as 6.
    pub fn as_u64(&self) -> Option<u64> {
        let text = self.0.trim();
        text.parse().ok().or_else(|| {
            let float: f64 = text.parse().ok()?;
            (float >= 0.0 && float.fract() == 0.0 && float <= u64::MAX as f64)
                .then_some(float as u64)
        })
    }

    /// The value as a signed integer; `"-1.0"` reads as -1.
    pub fn as_i64(&self) -> Option<i64> {
        let text = self.0.trim();
        text.parse().ok().or_else(|| {
            let float: f64 = text.parse().ok()?;
            (float.fract() == 0.0 && float.abs() <= i64::MAX as f64).then_some(float as i64)
        })
    }
}

impl fmt::Debug for WireNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for WireNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! wire_number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for WireNumber {
            fn from(value: $t) -> Self {
                Self(value.to_string())
            }
        }
    )*};
}
wire_number_from!(u32, u64, i32, i64, usize, f64, &str, String);

impl Serialize for WireNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WireNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Ok(Self(text)),
            serde_json::Value::Number(number) => Ok(Self(number.to_string())),
            serde_json::Value::Bool(flag) => Ok(Self(flag.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a number or a string holding one, got {other}"
            ))),
        }
    }
}

impl schemars::JsonSchema for WireNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WireNumber".into()
    }

    /// A string or a number, as `anyOf` rather than a `type` list: strict validators (Ajv's
    /// default) warn on a list of types other than `[T, "null"]`.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A number as the server sent it: usually a string such as \"6.0000\".",
            "anyOf": [{ "type": "string" }, { "type": "number" }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_and_numbers_and_keeps_the_text() {
        let values: Vec<WireNumber> =
            serde_json::from_str(r#"["6.0000", 202472, "0", 1.5]"#).unwrap();
        assert_eq!(values[0].as_str(), "6.0000");
        assert_eq!(values[0].as_u64(), Some(6));
        assert_eq!(values[1].as_u64(), Some(202472));
        assert_eq!(values[2].as_i64(), Some(0));
        assert_eq!(values[3].as_f64(), Some(1.5));
        assert_eq!(values[3].as_u64(), None);
        assert_eq!(
            serde_json::to_string(&values).unwrap(),
            r#"["6.0000","202472","0","1.5"]"#
        );
    }

    #[test]
    fn refuses_objects() {
        assert!(serde_json::from_str::<WireNumber>("{}").is_err());
    }
}
