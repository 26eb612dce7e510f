//! A task's record and its stops: Task/Detail, Task/Kill, Task/Cancel, and stopping a task
//! whatever its state.

use serde_json::{json, Value};

use crate::api::client::{first_of, Repeat};
use crate::api::wire::{Task, TaskHandle, TaskList};
use crate::api::{Client, Error, Result};

/// How to find a task with Task/Detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskLookup {
    /// By the task's id.
    Id(String),
    /// By its `socketaccesstoken`.
    Token(String),
}

impl From<&str> for TaskLookup {
    fn from(taskid: &str) -> Self {
        TaskLookup::Id(taskid.to_owned())
    }
}

impl From<&String> for TaskLookup {
    fn from(taskid: &String) -> Self {
        TaskLookup::Id(taskid.clone())
    }
}

impl From<&TaskHandle> for TaskLookup {
    fn from(handle: &TaskHandle) -> Self {
        if handle.taskid.is_empty() {
            TaskLookup::Token(handle.socketaccesstoken.clone())
        } else {
            TaskLookup::Id(handle.taskid.clone())
        }
    }
}

/// What [`Client::stop_task`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum StopOutcome {
    /// The task was queued and is now cancelled.
    Cancelled(Task),
    /// The task was running and is now killed.
    Killed(Task),
    /// The task had already ended; nothing was done.
    AlreadyEnded(Task),
}

impl StopOutcome {
    /// `cancelled`, `killed` or `already ended`.
    pub fn how(&self) -> &'static str {
        match self {
            StopOutcome::Cancelled(_) => "cancelled",
            StopOutcome::Killed(_) => "killed",
            StopOutcome::AlreadyEnded(_) => "already ended",
        }
    }

    /// The task's record after the stop.
    pub fn task(&self) -> &Task {
        match self {
            StopOutcome::Cancelled(task)
            | StopOutcome::Killed(task)
            | StopOutcome::AlreadyEnded(task) => task,
        }
    }
}

impl Client {
    /// `POST /Task/Detail`: the task's current record.
    pub async fn task_detail(&self, lookup: impl Into<TaskLookup>) -> Result<Task> {
        let body = match lookup.into() {
            TaskLookup::Id(taskid) => json!({ "taskid": taskid }),
            TaskLookup::Token(token) => json!({ "tasktoken": token }),
        };
        self.task_call("Task/Detail", body).await
    }

    /// `POST /Task/Kill`: stops a running task. Returns the task record.
    pub async fn task_kill(&self, taskid: &str) -> Result<Task> {
        self.task_call("Task/Kill", json!({ "taskid": taskid }))
            .await
    }

    /// `POST /Task/Cancel`: removes a task that is still queued. Returns the task record.
    pub async fn task_cancel(&self, taskid: &str) -> Result<Task> {
        self.task_call("Task/Cancel", json!({ "taskid": taskid }))
            .await
    }

    /// Stops a task whatever its state: Cancel while queued, Kill once running.
    /// Takes an id, a token (`TaskLookup::Token`) or a [`TaskHandle`]; the id comes from the
    /// task's record, so a handle that only has a token can be stopped too.
    pub async fn stop_task(&self, task: impl Into<TaskLookup>) -> Result<StopOutcome> {
        let task = self.task_detail(task).await?;
        let taskid = task.id.clone();
        let taskid = taskid.as_str();
        if task.is_terminal() {
            return Ok(StopOutcome::AlreadyEnded(task));
        }
        if task.status.is_queued() {
            match self.task_cancel(taskid).await {
                Ok(task) => return Ok(StopOutcome::Cancelled(task)),
                // It left the queue meanwhile: kill it instead.
                Err(Error::Rejected { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        match self.task_kill(taskid).await {
            Ok(task) => Ok(StopOutcome::Killed(task)),
            // It ended meanwhile.
            Err(Error::Rejected { .. }) => {
                let task = self.task_detail(TaskLookup::Id(taskid.to_owned())).await?;
                Ok(StopOutcome::AlreadyEnded(task))
            }
            Err(other) => Err(other),
        }
    }

    async fn task_call(&self, operation: &str, body: Value) -> Result<Task> {
        let list: TaskList = self
            .send(operation, Repeat::Safe, || {
                Ok(self.post(operation).json(&body))
            })
            .await?;
        let mut task = first_of(list.tasklist, operation)?;
        self.seal_outputs(&mut task);
        Ok(task)
    }
}
