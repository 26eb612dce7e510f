//! Starting a paid task: Run/{owner}/{model}, sent once.

use serde_json::{Map, Value};

use crate::api::client::{model_slug, wire_value, Repeat};
use crate::api::wire::{RunAccepted, TaskHandle};
use crate::api::{Client, Error, Result};

impl Client {
    /// `POST /Run/{owner}/{model}`: starts a task and returns its handle as soon as it is
    /// accepted. Values are sent as strings, as the docs do. **Costs money; never retried**
    /// once a byte may have reached the server.
    pub async fn run(&self, model: &str, parameters: &Map<String, Value>) -> Result<TaskHandle> {
        let slug = model_slug(model)?;
        let body: Map<String, Value> = parameters
            .iter()
            .map(|(name, value)| (name.clone(), wire_value(value)))
            .collect();
        let operation = format!("Run/{slug}");
        let accepted: RunAccepted = self
            .send(&operation, Repeat::Never, || {
                Ok(self.post(&operation).json(&body))
            })
            .await?;
        if accepted.taskid.is_empty() {
            return Err(Error::OutcomeUnknown {
                operation,
                message: format!("the Run was accepted but no taskid came back ({accepted:?})"),
                source: None,
            });
        }
        Ok(accepted.into())
    }
}
