//! Tasks: the handle a Run returns, the task record Task/Detail returns, and its output files.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{TaskStatus, WireNumber};

/// What a Run returns: the task's id and the token that follows it on the WebSocket.
///
/// Keep it: it is the only way back to a task that is already paid for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "TaskHandle", extend("x-port-type" = "TaskHandle"))]
pub struct TaskHandle {
    /// The task's id, e.g. `"2221"`.
    #[serde(deserialize_with = "super::lenient::string_or_number")]
    pub taskid: String,
    /// The token for the WebSocket and for Task/Detail by token.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub socketaccesstoken: String,
}

/// The body of a successful Run answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAccepted {
    /// The new task's id.
    #[serde(deserialize_with = "super::lenient::string_or_number")]
    pub taskid: String,
    /// The token for the WebSocket and Task/Detail.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub socketaccesstoken: String,
}

impl From<RunAccepted> for TaskHandle {
    fn from(run: RunAccepted) -> Self {
        Self {
            taskid: run.taskid,
            socketaccesstoken: run.socketaccesstoken,
        }
    }
}

/// One file a finished task produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "OutputFile", extend("x-port-type" = "OutputFile"))]
pub struct OutputFile {
    /// The output's id.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub id: String,
    /// The server's file name, e.g. `0.mp4` (never trusted as a path).
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub name: String,
    /// The content type, e.g. `video/mp4`.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub contenttype: String,
    /// Size in bytes, as the server wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<WireNumber>,
    /// Where to download it (public; kept only for a limited time after the task ends).
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub url: String,
    /// Set by this crate on a file the API handed out: proves to a download, in this process
    /// or another of the same project, that `url` came from the API and not from a
    /// workflow's text. A URL without a fitting seal is fetched only from an allowed host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
    /// Fields the server sent that this crate does not model, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OutputFile {
    /// The text a chat model answered with: Wiro puts it in the output's
    /// `content.message` (or `content` itself when that is text), with no file to download.
    pub fn text_answer(&self) -> Option<&str> {
        match self.extra.get("content")? {
            Value::String(text) => Some(text),
            Value::Object(content) => content.get("message")?.as_str(),
            _ => None,
        }
    }

    /// The announced size in bytes, when the server gave a readable one.
    pub fn size_bytes(&self) -> Option<u64> {
        self.size.as_ref().and_then(WireNumber::as_u64)
    }
}

/// A task record, as Task/Detail, Task/Kill and Task/Cancel return it.
///
/// Numbers are kept as the server wrote them ([`WireNumber`]); fields this crate does not
/// model are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "Task", extend("x-port-type" = "Task"))]
pub struct Task {
    /// The task's id.
    #[serde(deserialize_with = "super::lenient::string_or_number")]
    pub id: String,
    /// The task's uuid.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// The WebSocket token of the task.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub socketaccesstoken: Option<String>,
    /// Where the task is in its lifecycle.
    pub status: TaskStatus,
    /// The process exit code: `"0"` on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pexit: Option<WireNumber>,
    /// The parameters the task ran with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// The task's standard output.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub debugoutput: Option<String>,
    /// The task's error output: why a failed task failed.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub debugerror: Option<String>,
    /// When the task was created (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub createtime: Option<WireNumber>,
    /// When the task started running (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttime: Option<WireNumber>,
    /// When the task ended (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endtime: Option<WireNumber>,
    /// When the task was cancelled (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canceltime: Option<WireNumber>,
    /// Seconds the task ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsedseconds: Option<WireNumber>,
    /// Cost per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cps: Option<WireNumber>,
    /// What the task cost; `"0"` when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totalcost: Option<WireNumber>,
    /// The files the task produced.
    #[serde(default, deserialize_with = "super::lenient::null_as_default")]
    pub outputs: Vec<OutputFile>,
    /// Fields the server sent that this crate does not model, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Task {
    /// The task ended (`task_postprocess_end` or `task_cancel`).
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The task ended with `task_postprocess_end` and `pexit == "0"`.
    pub fn succeeded(&self) -> bool {
        self.status == TaskStatus::PostprocessEnd
            && self
                .pexit
                .as_ref()
                .is_some_and(|pexit| pexit.as_i64() == Some(0))
    }

    /// The handle of this task (for waiting on it, killing it, ...).
    pub fn handle(&self) -> TaskHandle {
        TaskHandle {
            taskid: self.id.clone(),
            socketaccesstoken: self.socketaccesstoken.clone().unwrap_or_default(),
        }
    }

    /// What the task cost, as a number, when the server said.
    pub fn total_cost(&self) -> Option<f64> {
        self.totalcost.as_ref().and_then(WireNumber::as_f64)
    }
}

/// The body of a Task/Detail (and Kill, Cancel) answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaskList {
    /// How many tasks matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<WireNumber>,
    /// The matching tasks (one for a lookup by id or token).
    #[serde(default, deserialize_with = "super::lenient::null_as_default")]
    pub tasklist: Vec<Task>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DETAIL: &str = r#"{"result":true,"errors":[],"total":"1","tasklist":[{
        "id":"534574","uuid":"15bce51f-442f-4f44-a71d-13c6374a62bd",
        "socketaccesstoken":"eDcCm5yyUfIvMFspTwww49OUfgXkQt","parameters":{"prompt":"x"},
        "status":"task_postprocess_end","pexit":"0","debugoutput":"","debugerror":null,
        "starttime":"1734513809","endtime":"1734513813","elapsedseconds":"6.0000",
        "cps":"0.000585000000","totalcost":"0.003510000000","createtime":"1734513807",
        "canceltime":null,"categories":"[\"tool\",\"video\"]","modeldescription":null,
        "outputs":[{"id":"6bc392c93856dfce3a7d1b4261e15af3","name":"0.mp4",
            "contenttype":"video/mp4","parentid":"6c1833f39da71e6175bf292b18779baf",
            "size":"202472","url":"https://cdn1.wiro.ai/xyz/0.mp4"}]}]}"#;

    #[test]
    fn task_detail_parses_string_numbers_nulls_and_keeps_unknown_fields() {
        let list: TaskList = serde_json::from_str(DETAIL).unwrap();
        let task = &list.tasklist[0];
        assert_eq!(task.status, TaskStatus::PostprocessEnd);
        assert!(task.succeeded());
        assert_eq!(task.debugerror, None);
        assert_eq!(task.total_cost(), Some(0.00351));
        assert_eq!(task.outputs[0].size_bytes(), Some(202472));
        assert_eq!(
            task.outputs[0].extra["parentid"],
            "6c1833f39da71e6175bf292b18779baf"
        );
        assert_eq!(task.extra["categories"], "[\"tool\",\"video\"]");
        // Written back, the record keeps every field it came with.
        let again: Task = serde_json::from_value(serde_json::to_value(task).unwrap()).unwrap();
        assert_eq!(&again, task);
    }

    #[test]
    fn success_needs_postprocess_end_and_pexit_zero() {
        let mut task: Task = serde_json::from_str::<TaskList>(DETAIL).unwrap().tasklist[0].clone();
        task.pexit = Some(WireNumber::new("1"));
        assert!(task.is_terminal() && !task.succeeded());
        task.pexit = Some(WireNumber::new("0"));
        task.status = TaskStatus::Cancel;
        assert!(task.is_terminal() && !task.succeeded());
        task.status = TaskStatus::Error;
        assert!(!task.is_terminal());
    }

    #[test]
    fn numeric_ids_and_null_outputs_are_read() {
        let task: Task =
            serde_json::from_str(r#"{"id":42,"status":"task_queue","outputs":null}"#).unwrap();
        assert_eq!(task.id, "42");
        assert!(task.outputs.is_empty());
        let run: RunAccepted =
            serde_json::from_str(r#"{"taskid":2221,"socketaccesstoken":"tok"}"#).unwrap();
        assert_eq!(TaskHandle::from(run).taskid, "2221");
    }
}
