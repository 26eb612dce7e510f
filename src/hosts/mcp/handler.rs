//! The protocol handler: what the server says it is, and each request routed to the tools,
//! the paid calls and the output resources.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::paid::{self, refused};
use super::tools::{FindArgs, FollowArgs, StopArgs, Stopped, FIND, FOLLOW, STOP};
use super::Host;

/// The server as one session sees it: a handle on the state all sessions share.
#[derive(Clone)]
pub struct WiroMcp {
    host: Arc<Host>,
}

impl WiroMcp {
    pub(crate) fn new(host: Arc<Host>) -> Self {
        Self { host }
    }
}

/// Arguments as the tool's own type, or an error result naming the problem.
#[allow(clippy::result_large_err)] // the error is the call's answer, returned at once
fn arguments<T: DeserializeOwned>(
    tool: &str,
    arguments: Map<String, Value>,
) -> Result<T, CallToolResponse> {
    serde_json::from_value(Value::Object(arguments))
        .map_err(|error| refused(format!("invalid arguments for {tool}: {error}")))
}

/// A successful result carrying `value` as structured content and as text.
fn structured(value: &impl serde::Serialize) -> CallToolResponse {
    let value = serde_json::to_value(value).unwrap_or_default();
    let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
    result.structured_content = Some(value);
    CallToolResponse::Complete(result)
}

impl ServerHandler for WiroMcp {
    // Logging is deprecated from 2026-07-28 on (SEP-2577), but initialize-era clients still
    // set a level: it is accepted (the server sends no log notifications).
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_logging()
            .enable_tasks()
            .build();
        let mut info = ServerConfig::new(capabilities).with_instructions(format!(
            "Wiro's AI models as tools (backend: {}). Paid tools start a Run that costs money: \
             the user is asked to accept its price first (or the call passes max_cost_usd). A \
             call waits up to {} s, then answers with the task; {FOLLOW} waits again for free, \
             {STOP} stops it. Files come back as resource links (read them with resources/read). \
             {FIND} finds models by words.",
            self.host.config.backend,
            self.host.config.wait.as_secs()
        ));
        info.server_info = Implementation::new("wiro-nodes", env!("CARGO_PKG_VERSION"));
        info
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let cursor = request.and_then(|request| request.cursor);
        let (tools, next) = self
            .host
            .tools
            .page(cursor.as_deref())
            .map_err(|why| ErrorData::invalid_params(why, None))?;
        let mut result = ListToolsResult::with_all_items(tools.to_vec());
        result.next_cursor = next;
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let tool = request.name.to_string();
        let args = request.arguments.clone().unwrap_or_default();
        let host = &self.host;
        Ok(match tool.as_str() {
            FIND => match arguments::<FindArgs>(FIND, args) {
                Ok(find) => structured(&host.tools.find(&find.words, find.limit.clamp(1, 50))),
                Err(refusal) => refusal,
            },
            FOLLOW => match arguments::<FollowArgs>(FOLLOW, args) {
                Ok(follow) => {
                    paid::follow_again(host, &follow.task_id, follow.wait_seconds, &context).await
                }
                Err(refusal) => refusal,
            },
            STOP => match arguments::<StopArgs>(STOP, args) {
                Ok(stop) => self.stop(&stop.task_id).await,
                Err(refusal) => refusal,
            },
            name => {
                let Some(node) = host
                    .tools
                    .type_of(name)
                    .and_then(|type_id| host.config.registry.get(type_id))
                    .cloned()
                else {
                    return Err(ErrorData::invalid_params(
                        format!("unknown tool {name:?}"),
                        None,
                    ));
                };
                if node.spec().spends_money {
                    paid::call(host, name, node, args, &request, &context).await
                } else {
                    self.free_call(name, node, args, &context).await
                }
            }
        })
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(self.host.list_outputs())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.host
            .read_output(&request.uri)
            .await
            .map(ReadResourceResponse::from)
    }

    async fn get_task(
        &self,
        request: rmcp::model::GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetTaskResult, ErrorData> {
        let task = self.host.tasks.get_task(&request.task_id)?;
        Ok(rmcp::model::GetTaskResult::new(task))
    }

    async fn update_task(
        &self,
        request: rmcp::model::UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.host
            .tasks
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: rmcp::model::CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.host.tasks.cancel_task(&request.task_id)
    }

    #[allow(deprecated)]
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }
}

impl WiroMcp {
    /// A free node: checked against the walls, run, its outputs as structured content. A
    /// client that leaves ends the call; nothing paid depends on it.
    async fn free_call(
        &self,
        tool: &str,
        node: Arc<dyn crate::node::Node>,
        args: Map<String, Value>,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let inputs = Value::Object(args);
        let problems = crate::node::check(node.as_ref(), &self.host.walls, &inputs);
        if !problems.is_empty() {
            return paid::refused_inputs(tool, &problems);
        }
        let ctx = self.host.node_context(tool);
        let run = crate::node::invoke(node.as_ref(), &ctx, inputs);
        tokio::select! {
            result = run => match result {
                Ok(outputs) => structured(&outputs),
                Err(error) => refused(format!("{tool}: {error}")),
            },
            _ = context.ct.cancelled() => refused(format!("{tool}: the client cancelled the call")),
        }
    }

    /// Stops a task a paid call of this server started.
    async fn stop(&self, task_id: &str) -> CallToolResponse {
        let Some(record) = self.host.journal.task(task_id) else {
            return refused(format!(
                "task {task_id:?} was not started by this server's calls; only those can be stopped"
            ));
        };
        match self.host.config.client.stop_task(&record.handle).await {
            Ok(outcome) => structured(&Stopped {
                task_id: task_id.to_owned(),
                how: outcome.how().to_owned(),
            }),
            Err(error) => refused(format!("task {task_id} could not be stopped: {error}")),
        }
    }
}
