//! `Tool/Detail`, typed: a model's parameter list and prices, for forms and for
//! [`estimate`](crate::api::estimate).

use crate::api::wire::ModelDetail;
use crate::api::{Client, Error, Result};

impl Client {
    /// `POST /Tool/Detail`, read as a [`ModelDetail`]: the parameters (id, type, label,
    /// default, required, options, min, max) and the prices (`dynamicprice`, `cps`,
    /// `approximatelycost`). A read: retried on transient failures.
    pub async fn model_detail(&self, model: &str) -> Result<ModelDetail> {
        let answer = self.tool_detail(model).await?;
        ModelDetail::from_answer(model, &answer).map_err(|problem| Error::Protocol {
            operation: "Tool/Detail".into(),
            status: 200,
            problem,
            snippet: answer.to_string().chars().take(200).collect(),
        })
    }
}
