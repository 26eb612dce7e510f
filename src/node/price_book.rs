//! `PriceBook`: what paid Runs will cost, from each model's published prices (Tool/Detail),
//! asked once per model however many nodes run it.

use std::collections::BTreeMap;

use super::PricedRun;
use crate::api::{estimate, Client, Estimate, ModelDetail};

/// Models' prices as the server published them, read once each.
#[derive(Debug, Default)]
pub struct PriceBook {
    details: BTreeMap<String, Result<ModelDetail, String>>,
}

impl PriceBook {
    /// What `run` will cost if it succeeds. A price that depends on a parameter whose value is
    /// not known yet (`run.unknown`) is unknown, and says so.
    pub async fn estimate(&mut self, client: &Client, run: &PricedRun) -> Estimate {
        let key = run.model.to_ascii_lowercase();
        if let Some(published) = &run.published {
            self.details
                .entry(key.clone())
                .or_insert_with(|| Ok(ModelDetail::clone(published)));
        }
        if !self.details.contains_key(&key) {
            let detail = client
                .model_detail(&run.model)
                .await
                .map_err(|error| error.to_string());
            self.details.insert(key.clone(), detail);
        }
        match &self.details[&key] {
            Ok(detail) => match depends_on_an_unknown(detail, &run.unknown) {
                Some(port) => Estimate::Unknown {
                    reason: format!("its price depends on {port:?}, which comes from another node"),
                },
                None => estimate(detail, &run.parameters),
            },
            Err(error) => Estimate::Unknown {
                reason: format!("its prices could not be read: {error}"),
            },
        }
    }
}

/// A parameter the prices depend on whose value is not known before the run.
fn depends_on_an_unknown<'a>(detail: &ModelDetail, unknown: &'a [String]) -> Option<&'a String> {
    unknown.iter().find(|port| {
        detail
            .dynamicprice
            .iter()
            .any(|tier| tier.inputs.contains_key(port.as_str()))
    })
}
