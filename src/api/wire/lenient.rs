//! Serde helpers for the server's loose typing: ids that are numbers or strings, `null` lists.

use serde::{Deserialize, Deserializer};

/// Reads a string, a number or a bool as a `String` (task ids arrive as `"2221"` or `2221`).
pub fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(number) => Ok(number.to_string()),
        serde_json::Value::Bool(flag) => Ok(flag.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

/// Like [`string_or_number`], with `null` and absence as `None`.
pub fn opt_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = string_or_number(deserializer)?;
    Ok((!text.is_empty()).then_some(text))
}

/// Reads `null` as the type's default (`"outputs": null` is an empty list).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
