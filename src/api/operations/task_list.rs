//! `Task/List`: the project's recent tasks, newest first, optionally of one model.

use serde_json::{json, Map, Value};

use crate::api::client::model_slug;
use crate::api::wire::{Task, TaskList, WireNumber};
use crate::api::{Client, Error, Result};

/// Which page of recent tasks to list. `Default` is the newest 20 of every model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskListQuery {
    /// Only tasks of this model (`owner/model`, matched case-insensitively by the server);
    /// every model when `None`.
    pub model: Option<String>,
    /// How many of the newest tasks to skip.
    pub start: u64,
    /// At most this many tasks (at least 1).
    pub limit: u64,
}

impl Default for TaskListQuery {
    fn default() -> Self {
        Self {
            model: None,
            start: 0,
            limit: 20,
        }
    }
}

impl TaskListQuery {
    /// The newest 20 tasks of `model`.
    pub fn of_model(model: impl Into<String>) -> Self {
        Self {
            model: Some(model.into()),
            ..Self::default()
        }
    }

    /// The same listing, `limit` tasks from `start`.
    pub fn page(mut self, start: u64, limit: u64) -> Self {
        self.start = start;
        self.limit = limit;
        self
    }

    /// The request body, as Wiro's own client sends it: every number a string.
    fn body(&self) -> Result<Value> {
        if self.limit == 0 {
            return Err(Error::invalid(
                "limit",
                "must be at least 1 (tasks per page)",
            ));
        }
        let mut body = json!({
            "type": "model",
            "sort": "id",
            "order": "DESC",
            "start": self.start.to_string(),
            "limit": self.limit.to_string(),
        });
        if let Some(model) = &self.model {
            body["modelName"] = json!(model_slug(model)?);
        }
        Ok(body)
    }
}

/// One page of Task/List: task records as Task/Detail gives them, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskListPage {
    /// The tasks on this page.
    pub tasks: Vec<Task>,
    /// How many tasks the listing has in all, when the server said.
    pub total: Option<u64>,
    /// Where this page starts.
    pub start: u64,
    /// The page size asked for.
    pub limit: u64,
}

impl TaskListPage {
    /// Whether no task comes after this page: it is short, or it reaches `total`.
    pub fn is_last(&self) -> bool {
        let len = self.tasks.len() as u64;
        len < self.limit
            || self
                .total
                .is_some_and(|total| self.start.saturating_add(len) >= total)
    }
}

impl Client {
    /// `POST /Task/List`: recent tasks, newest first (`sort: id`, `order: DESC`), one page.
    /// A read: retried on transient failures like Task/Detail.
    pub async fn task_list(&self, query: &TaskListQuery) -> Result<TaskListPage> {
        let body = query.body()?;
        let mut list: TaskList = self.send_safe("Task/List", &body).await?;
        list.tasklist
            .iter_mut()
            .for_each(|task| self.seal_outputs(task));
        Ok(TaskListPage {
            total: list.total.as_ref().and_then(WireNumber::as_u64),
            tasks: list.tasklist,
            start: query.start,
            limit: query.limit,
        })
    }
}

/// The parameters a task ran with, as an object (some servers send them as JSON text).
pub(super) fn task_parameters(task: &Task) -> Option<Map<String, Value>> {
    match task.parameters.as_ref()? {
        Value::Object(parameters) => Some(parameters.clone()),
        Value::String(text) => match serde_json::from_str(text) {
            Ok(Value::Object(parameters)) => Some(parameters),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_sends_numbers_as_strings_and_checks_the_model() {
        let body = TaskListQuery::of_model("PixVerse/text-to-video-v4")
            .page(40, 20)
            .body()
            .unwrap();
        assert_eq!(
            body,
            json!({"type": "model", "sort": "id", "order": "DESC", "start": "40",
                   "limit": "20", "modelName": "PixVerse/text-to-video-v4"})
        );
        assert!(TaskListQuery::of_model("nope").body().is_err());
        let zero = TaskListQuery::default().page(0, 0).body().unwrap_err();
        assert!(zero.to_string().contains("limit"), "{zero}");
    }

    #[test]
    fn a_short_page_or_one_reaching_the_total_is_the_last() {
        let task: Task =
            serde_json::from_value(json!({"id": "1", "status": "task_queue"})).unwrap();
        let page = |tasks: usize, total: Option<u64>| TaskListPage {
            tasks: vec![task.clone(); tasks],
            total,
            start: 20,
            limit: 20,
        };
        assert!(page(5, None).is_last());
        assert!(!page(20, None).is_last());
        assert!(!page(20, Some(41)).is_last());
        assert!(page(20, Some(40)).is_last());
    }
}
