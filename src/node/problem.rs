//! `InputProblem`: one thing wrong with a node's inputs, with where and which rule.

use std::fmt;

use serde::Serialize;

/// One broken rule in a node's inputs: the input path, the rule, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    /// Where: the input port and any path inside it, e.g. `quality` or `task/taskid`.
    pub path: String,
    /// Which rule, as a stable id (`required`, `enum`, `pixverse/1080p-max-5s`, ...).
    pub rule: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl InputProblem {
    /// A problem at `path` breaking `rule`.
    pub fn new(
        path: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} [{}]", self.message, self.rule)
        } else {
            write!(f, "{}: {} [{}]", self.path, self.message, self.rule)
        }
    }
}

impl From<crate::models::ParameterProblem> for InputProblem {
    fn from(problem: crate::models::ParameterProblem) -> Self {
        Self::new(problem.field, problem.rule, problem.message)
    }
}

pub use crate::models::{cut, shown};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_and_say_by_how_much() {
        let long = "a".repeat(1000);
        let shown = shown(&serde_json::Value::String(long));
        assert!(
            shown.len() < 120 && shown.ends_with("(922 more characters)"),
            "{shown}"
        );
        assert_eq!(cut("short", 10), "short");
    }
}
