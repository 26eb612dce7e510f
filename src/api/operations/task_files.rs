//! `Task/InputOutputDelete`: removes a finished task's files from Wiro's storage.

use serde_json::{json, Map, Value};

use crate::api::{Client, Error, Result, TaskLookup};

impl Client {
    /// `POST /Task/InputOutputDelete {"tasktoken"}`: deletes the output files of a task that
    /// has ended (and the input files uploaded with it); the task's record stays, with empty
    /// `outputs`. Idempotent: deleting again succeeds, so it is retried like a read.
    ///
    /// Takes a token, an id (its token is read with Task/Detail first) or a
    /// [`TaskHandle`](crate::api::TaskHandle) (by id; pass `TaskLookup::Token` to save that
    /// read). The server's refusals come back as they are: a task still running is
    /// [`Error::Rejected`] ("must be completed or cancelled"), an unknown one
    /// [`Error::NotFound`].
    pub async fn delete_task_files(&self, task: impl Into<TaskLookup>) -> Result<()> {
        let token = match task.into() {
            TaskLookup::Token(token) => token,
            TaskLookup::Id(taskid) => {
                let record = self.task_detail(TaskLookup::Id(taskid.clone())).await?;
                record
                    .socketaccesstoken
                    .filter(|token| !token.is_empty())
                    .ok_or_else(|| Error::Protocol {
                        operation: "Task/Detail".into(),
                        status: 200,
                        problem: format!(
                            "task {taskid} has no socketaccesstoken, which Task/InputOutputDelete needs"
                        ),
                        snippet: String::new(),
                    })?
            }
        };
        if token.trim().is_empty() {
            return Err(Error::invalid(
                "tasktoken",
                "is empty: name the task by its socketaccesstoken or its id",
            ));
        }
        let _: Map<String, Value> = self
            .send_safe("Task/InputOutputDelete", &json!({ "tasktoken": token }))
            .await?;
        Ok(())
    }
}
