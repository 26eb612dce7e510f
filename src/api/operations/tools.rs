//! Models as the server publishes them: Tool/List (which models there are) and Tool/Detail
//! (one model's description, parameters and prices), as the server gives them.

use serde_json::{json, Map, Value};

use crate::api::client::{model_slug, Repeat};
use crate::api::{Client, Result};

impl Client {
    /// `POST /Tool/Detail`: a model's description and parameter list, as the server gives it.
    pub async fn tool_detail(&self, model: &str) -> Result<Value> {
        let slug = model_slug(model)?;
        let (owner, project) = slug.split_once('/').unwrap_or((slug, ""));
        self.tool_detail_of(owner, project).await
    }

    /// `POST /Tool/Detail` by the model's slugs as Tool/List gives them: raw slugs may hold
    /// capitals and spaces (`Acme Labs`), which Tool/Detail accepts in its JSON body.
    pub async fn tool_detail_of(&self, owner: &str, project: &str) -> Result<Value> {
        let body = json!({ "slugowner": owner, "slugproject": project });
        let answer: Map<String, Value> = self
            .send("Tool/Detail", Repeat::Safe, || {
                Ok(self.post("Tool/Detail").json(&body))
            })
            .await?;
        Ok(Value::Object(answer))
    }

    /// `POST /Tool/List`: one page of models, `limit` from `start`, matching `search` when
    /// given; the answer as the server gives it (`total`, `tool: [...]`).
    pub async fn tool_list(&self, start: u64, limit: u64, search: Option<&str>) -> Result<Value> {
        let mut body = json!({
            "start": start.to_string(),
            "limit": limit.to_string(),
            "sort": "id",
            "order": "ASC",
        });
        if let Some(search) = search {
            body["search"] = Value::String(search.to_owned());
        }
        let answer: Map<String, Value> = self
            .send("Tool/List", Repeat::Safe, || {
                Ok(self.post("Tool/List").json(&body))
            })
            .await?;
        Ok(Value::Object(answer))
    }
}
