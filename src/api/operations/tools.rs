//! A model's published description: Tool/Detail as the server gives it.

use serde_json::{json, Map, Value};

use crate::api::client::{model_slug, Repeat};
use crate::api::{Client, Result};

impl Client {
    /// `POST /Tool/Detail`: a model's description and parameter list, as the server gives it.
    pub async fn tool_detail(&self, model: &str) -> Result<Value> {
        let slug = model_slug(model)?;
        let (owner, project) = slug.split_once('/').unwrap_or((slug, ""));
        let body = json!({ "slugowner": owner, "slugproject": project });
        let answer: Map<String, Value> = self
            .send("Tool/Detail", Repeat::Safe, || {
                Ok(self.post("Tool/Detail").json(&body))
            })
            .await?;
        Ok(Value::Object(answer))
    }
}
