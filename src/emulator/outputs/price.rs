//! What a successful Run of a described model costs, from the prices its Tool/Detail
//! publishes, so a client's estimate and the emulator's charge agree: the `dynamicprice`
//! tier whose `inputs` fit the Run best (all its inputs equal, the most of them), priced by
//! its method; without a fitting tier, `cps` × `computingtime`, else `approximatelycost`.

use serde_json::{Map, Value};

use super::super::described::{as_text, EmulatedModel};
use super::plan::OutputPlan;

impl EmulatedModel {
    /// The tiers of `dynamicprice`, whether it is an array or a string holding one.
    fn tiers(&self) -> Vec<Map<String, Value>> {
        let parsed;
        let tiers = match self.tool.get("dynamicprice") {
            Some(Value::Array(tiers)) => tiers,
            Some(Value::String(text)) => {
                parsed = serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
                match &parsed {
                    Value::Array(tiers) => tiers,
                    _ => return Vec::new(),
                }
            }
            _ => return Vec::new(),
        };
        tiers
            .iter()
            .filter_map(|tier| tier.as_object().cloned())
            .collect()
    }

    /// What a successful Run with these parameters costs, in dollars, for the outputs `plan`
    /// says it makes.
    pub fn price(&self, parameters: &Map<String, Value>, plan: &OutputPlan) -> f64 {
        let number = |value: Option<&Value>| {
            value
                .and_then(as_text)
                .and_then(|text| text.parse::<f64>().ok())
                .filter(|n| n.is_finite())
        };
        let computing = number(self.tool.get("computingtime")).unwrap_or(0.0);
        let fitting = self
            .tiers()
            .into_iter()
            .filter_map(|tier| {
                let inputs = match tier.get("inputs") {
                    Some(Value::Object(inputs)) => inputs.clone(),
                    _ => Map::new(),
                };
                let fits = inputs.iter().all(|(id, wanted)| {
                    as_text(wanted).as_deref() == self.value(parameters, id).as_deref()
                });
                fits.then_some((inputs.len(), tier))
            })
            .max_by_key(|(specific, _)| *specific);
        if let Some((_, tier)) = fitting {
            let price = number(tier.get("price")).unwrap_or(0.0);
            let method = tier
                .get("priceMethod")
                .and_then(Value::as_str)
                .unwrap_or("cpr");
            return match method {
                "cpo" => price * f64::from(plan.count),
                "cps" if plan.seconds > 0.0 => price * plan.seconds,
                "cps" => price * computing,
                _ => price,
            };
        }
        match number(self.tool.get("cps")) {
            Some(cps) if computing > 0.0 => cps * computing,
            _ => number(self.tool.get("approximatelycost")).unwrap_or(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::described::named;
    use super::*;
    use serde_json::json;

    fn price(owner: &str, project: &str, run: Value) -> f64 {
        let model = named(owner, project);
        let run = run.as_object().cloned().unwrap();
        model.price(&run, &model.plan(&run, 0))
    }

    #[test]
    fn each_price_method_is_charged_as_published() {
        // cpr, by quality and duration (defaults 540p, 5 s).
        assert_eq!(price("pixverse", "text-to-video-v5", json!({})), 0.45);
        let hd = json!({"quality": "1080p", "duration": "8"});
        assert_eq!(price("pixverse", "text-to-video-v5", hd), 2.4);
        // cpo, from a string-encoded dynamicprice: two outputs by default.
        assert_eq!(price("wiro", "image-studio", json!({})), 0.04);
        assert_eq!(
            price("wiro", "image-studio", json!({"numberOfOutputs": 3})),
            0.06
        );
        // cps without tiers: cps × computing time = approximatelycost.
        assert!((price("Acme Labs", "frames to video", json!({})) - 0.072).abs() < 1e-12);
        // cps tier on a text model: per second of computing time.
        assert!((price("wiro", "chat", json!({"prompt": "x"})) - 0.001).abs() < 1e-12);
        assert_eq!(
            price("wiro", "legacy-upscaler", json!({"scale": "4"})),
            0.02
        );
        assert_eq!(price("wiro", "unpublished", json!({})), 0.002);
    }
}
