//! `Reference`: `node.port[.field...]`, a pointer from an input to another node's output.

use std::fmt;

use serde_json::Value;

/// A parsed `{"$from": "node.port.field.0"}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The source node's id.
    pub node: String,
    /// The source node's output port.
    pub port: String,
    /// Fields (or list indexes) inside the port's value.
    pub path: Vec<String>,
}

impl Reference {
    /// Parses `node.port[.field...]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split('.');
        let node = parts.next().unwrap_or_default();
        let port = parts.next().unwrap_or_default();
        let path: Vec<String> = parts.map(str::to_owned).collect();
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !valid(node) || !valid(port) || !path.iter().all(|p| valid(p)) {
            return Err(format!(
                "reference {text:?} must be node.port or node.port.field (letters, digits, '-', '_')"
            ));
        }
        Ok(Self {
            node: node.to_owned(),
            port: port.to_owned(),
            path,
        })
    }

    /// The referenced value inside a node's outputs.
    pub fn pick<'a>(&self, outputs: &'a Value) -> Option<&'a Value> {
        let mut value = outputs.get(&self.port)?;
        for step in &self.path {
            value = match value {
                Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
                other => other.get(step)?,
            };
        }
        Some(value)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.node, self.port)?;
        for step in &self.path {
            write!(f, ".{step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_and_picks_nested_values() {
        let reference = Reference::parse("wait.outputs.0.url").unwrap();
        assert_eq!(reference.to_string(), "wait.outputs.0.url");
        let outputs = json!({"outputs": [{"url": "http://x/0.mp4"}]});
        assert_eq!(reference.pick(&outputs), Some(&json!("http://x/0.mp4")));
        assert_eq!(
            Reference::parse("wait.outputs.1").unwrap().pick(&outputs),
            None
        );
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in ["", "node", "node.", ".port", "a..b", "a.b c"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
