//! The price of a Run before it is sent, read from the model's Tool/Detail prices: the
//! `dynamicprice` tier that matches the Run's parameters, or the server's `approximatelycost`.
//!
//! ```
//! use serde_json::json;
//! use wiro_nodes::api::{estimate, Estimate, ModelDetail};
//!
//! let answer = json!({"tool": [{
//!     "dynamicprice": "[{\"inputs\":{\"quality\":\"720p\",\"duration\":\"5\"},\"price\":0.6,\"priceMethod\":\"cpr\"}]",
//!     "parameters": [{"id": "duration", "default": "5"}]
//! }]});
//! let detail = ModelDetail::from_answer("PixVerse/text-to-video-v4", &answer).unwrap();
//! let run = json!({"prompt": "a kite", "quality": "720p"});
//! let estimate = estimate(&detail, run.as_object().unwrap());
//! assert_eq!(estimate.usd(), Some(0.6)); // duration 5 is the model's default
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire::{ModelDetail, PriceTier, WireNumber};

/// What one Run will cost, as far as the model's published prices tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Estimate {
    /// The price is known before running.
    Known {
        /// Dollars, for a successful run (failed runs are not billed).
        usd: f64,
        /// Where the figure comes from, in words: the tier and its method, or
        /// `approximatelycost`.
        basis: String,
    },
    /// The price cannot be known before running.
    Unknown {
        /// Why, in words.
        reason: String,
    },
}

impl Estimate {
    /// The dollars, when known.
    pub fn usd(&self) -> Option<f64> {
        match self {
            Estimate::Known { usd, .. } => Some(*usd),
            Estimate::Unknown { .. } => None,
        }
    }

    /// The basis of a known price or the reason of an unknown one.
    pub fn explanation(&self) -> &str {
        match self {
            Estimate::Known { basis, .. } => basis,
            Estimate::Unknown { reason } => reason,
        }
    }
}

/// What a Run of `detail`'s model with `parameters` will cost.
///
/// A `dynamicprice` tier applies when each of its `inputs` equals the Run's value, compared
/// as text (`5` and `"5"` match; so do `5` and `"5.0"`); a parameter the Run leaves out takes
/// the model's default from the parameter list; a tier with no `inputs` applies to every
/// Run. Of the tiers that apply, the most specific (most `inputs`) wins; between equally
/// specific tiers the dearest, so that a cap is never passed by surprise.
///
/// A per-request (`cpr`) price is known up front. A price per second, per output, per token
/// and so on depends on the run: then the server's `approximatelycost` is the estimate
/// (the basis says so), or the price is unknown. A tier with `priceExtra` or `priceInput`
/// is unknown too: their units are not documented. Without `dynamicprice`,
/// `approximatelycost` is the estimate; without both, the price is unknown.
pub fn estimate(detail: &ModelDetail, parameters: &Map<String, Value>) -> Estimate {
    if detail.dynamicprice.is_empty() {
        return match positive(detail.approximatelycost.as_ref()) {
            Some(usd) => Estimate::Known {
                usd,
                basis: format!(
                    "approximatelycost of {}: the server's average run (seconds × cps{})",
                    detail.model,
                    detail
                        .cps
                        .as_ref()
                        .map(|cps| format!(" ${cps}"))
                        .unwrap_or_default()
                ),
            },
            None => Estimate::Unknown {
                reason: format!(
                    "{} publishes no dynamicprice and no approximatelycost in Tool/Detail",
                    detail.model
                ),
            },
        };
    }
    let applying: Vec<&PriceTier> = detail
        .dynamicprice
        .iter()
        .filter(|tier| applies(tier, detail, parameters))
        .collect();
    let Some(specific) = applying.iter().map(|tier| tier.inputs.len()).max() else {
        return Estimate::Unknown {
            reason: format!(
                "no dynamicprice tier of {} matches this run ({})",
                detail.model,
                describe_run(detail, parameters)
            ),
        };
    };
    let candidates: Vec<&PriceTier> = applying
        .into_iter()
        .filter(|tier| tier.inputs.len() == specific)
        .collect();
    let Some(tier) = candidates.iter().copied().max_by(|a, b| {
        let price = |tier: &PriceTier| tier.price.as_ref().and_then(WireNumber::as_f64);
        price(a)
            .unwrap_or(f64::INFINITY)
            .total_cmp(&price(b).unwrap_or(f64::INFINITY))
    }) else {
        return Estimate::Unknown {
            reason: "no tier applies".into(),
        };
    };
    price_of(detail, tier, candidates.len(), parameters)
}

/// The estimate from the tier that applies.
fn price_of(
    detail: &ModelDetail,
    tier: &PriceTier,
    equally_specific: usize,
    parameters: &Map<String, Value>,
) -> Estimate {
    let condition = if tier.inputs.is_empty() {
        "every run".to_owned()
    } else {
        tier.inputs
            .iter()
            .map(|(name, value)| format!("{name}={}", text(value)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(price) = tier.price.as_ref().and_then(WireNumber::as_f64) else {
        return Estimate::Unknown {
            reason: format!(
                "the dynamicprice tier of {} for {condition} has no readable price",
                detail.model
            ),
        };
    };
    for (name, extra) in [
        ("priceExtra", &tier.price_extra),
        ("priceInput", &tier.price_input),
    ] {
        if let Some(extra) = positive(extra.as_ref()) {
            return Estimate::Unknown {
                reason: format!(
                    "the dynamicprice tier of {} for {condition} adds {name} {extra}, whose unit is not documented",
                    detail.model
                ),
            };
        }
    }
    let method = tier.price_method.trim();
    let ties = if equally_specific > 1 {
        format!(" (the dearest of {equally_specific} tiers that match as closely)")
    } else {
        String::new()
    };
    if method.eq_ignore_ascii_case("cpr") {
        return Estimate::Known {
            usd: price,
            basis: format!("dynamicprice: ${price} per request for {condition}{ties}"),
        };
    }
    let unit = unit_of(method);
    if method.eq_ignore_ascii_case("cpo") {
        if let Some((name, count)) = output_count(detail, parameters) {
            return Estimate::Known {
                usd: price * count as f64,
                basis: format!(
                    "dynamicprice: ${price} per output for {condition}, × {count} outputs ({name}){ties}"
                ),
            };
        }
    }
    match positive(detail.approximatelycost.as_ref()) {
        Some(usd) => Estimate::Known {
            usd,
            basis: format!(
                "approximatelycost: the tier for {condition} charges ${price} per {unit} ({method}), so the server's average run is the estimate"
            ),
        },
        None => Estimate::Unknown {
            reason: format!(
                "{} charges ${price} per {unit} ({method}) for {condition}: the total depends on the run, and Tool/Detail gives no approximatelycost",
                detail.model
            ),
        },
    }
}

/// The parameter that says how many outputs a run makes (`numberOfOutputs`, `num_images`,
/// ...), and its value for this run (or the model's default).
fn output_count(detail: &ModelDetail, parameters: &Map<String, Value>) -> Option<(String, u64)> {
    const NAMES: [&str; 6] = [
        "numberofoutputs",
        "numoutputs",
        "outputcount",
        "numberofimages",
        "numimages",
        "samples",
    ];
    let parameter = detail.parameters.iter().find(|parameter| {
        let name: String = parameter
            .id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        NAMES.contains(&name.as_str())
    })?;
    let value = value_for(&parameter.id, detail, parameters)?;
    let count = text(&value).parse::<f64>().ok()?;
    (count >= 1.0 && count.fract() == 0.0).then(|| (parameter.id.clone(), count as u64))
}

/// Whether every input of `tier` equals the run's value (or the model's default).
fn applies(tier: &PriceTier, detail: &ModelDetail, parameters: &Map<String, Value>) -> bool {
    tier.inputs.iter().all(|(name, wanted)| {
        match value_for(name, detail, parameters) {
            Some(have) => same(&have, wanted),
            // Neither sent nor defaulted: only an empty requirement is met.
            None => text(wanted).is_empty(),
        }
    })
}

/// The run's value of `name`, or the model's default for it.
fn value_for(name: &str, detail: &ModelDetail, parameters: &Map<String, Value>) -> Option<Value> {
    parameters
        .get(name)
        .cloned()
        .or_else(|| detail.parameter(name)?.default.clone())
}

/// Equal as text, or as numbers (`5`, `"5"` and `"5.0"` are the same duration).
fn same(have: &Value, wanted: &Value) -> bool {
    let (have, wanted) = (text(have), text(wanted));
    if have == wanted {
        return true;
    }
    match (have.parse::<f64>(), wanted.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A value as the wire would carry it: strings as they are, the rest written out.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn positive(number: Option<&WireNumber>) -> Option<f64> {
    number
        .and_then(WireNumber::as_f64)
        .filter(|value| value.is_finite() && *value > 0.0)
}

/// What a price method counts, in words.
fn unit_of(method: &str) -> &'static str {
    match method.to_ascii_lowercase().as_str() {
        "cps" => "second of run time",
        "cpo" => "output",
        "cpt" => "token",
        "cp-pixel" => "pixel",
        "cp-outputvideolength" => "second of output video",
        "cp-promptlength" => "prompt character",
        "cp-audiosecondslength" => "second of input audio",
        "cp-readoutput" => "output read",
        "cp-realtimeturn" => "realtime turn",
        _ => "unit of an undocumented method",
    }
}

/// The run's values of the parameters the tiers look at, for a message.
fn describe_run(detail: &ModelDetail, parameters: &Map<String, Value>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for tier in &detail.dynamicprice {
        for name in tier.inputs.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    names
        .iter()
        .map(|name| match value_for(name, detail, parameters) {
            Some(value) => format!("{name}={}", text(&value)),
            None => format!("{name} not set"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail(tiers: Value, approximatelycost: Option<&str>) -> ModelDetail {
        let mut tool = json!({
            "dynamicprice": tiers,
            "parameters": [
                {"id": "quality", "default": "540p"},
                {"id": "duration", "default": 5},
                {"id": "motionMode", "default": "normal"}
            ]
        });
        if let Some(cost) = approximatelycost {
            tool["approximatelycost"] = json!(cost);
        }
        ModelDetail::from_answer("PixVerse/text-to-video-v4", &json!({ "tool": [tool] })).unwrap()
    }

    fn run(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn pixverse() -> ModelDetail {
        detail(
            json!([
                {"inputs": {"quality": "540p", "duration": "5", "motionMode": "normal"}, "price": 0.45, "priceMethod": "cpr"},
                {"inputs": {"quality": "540p", "duration": "8", "motionMode": "normal"}, "price": "0.9", "priceMethod": "cpr"},
                {"inputs": {"quality": "720p", "duration": "5", "motionMode": "normal"}, "price": 0.6, "priceMethod": "cpr"},
                {"inputs": {"quality": "720p"}, "price": 5, "priceMethod": "cpr"}
            ]),
            None,
        )
    }

    #[test]
    fn the_tier_equal_to_the_run_gives_the_price() {
        let estimate = estimate(
            &pixverse(),
            &run(json!({"quality": "540p", "duration": "8", "motionMode": "normal"})),
        );
        assert_eq!(estimate.usd(), Some(0.9));
        assert!(
            estimate.explanation().contains("per request"),
            "{estimate:?}"
        );
    }

    #[test]
    fn left_out_parameters_take_the_model_default() {
        // quality, duration and motionMode all default: 540p, 5, normal.
        assert_eq!(
            estimate(&pixverse(), &run(json!({"prompt": "x"}))).usd(),
            Some(0.45)
        );
    }

    #[test]
    fn numbers_and_strings_compare_as_text() {
        for duration in [json!(5), json!("5"), json!("5.0"), json!(5.0)] {
            let estimate = estimate(
                &pixverse(),
                &run(json!({"quality": "720p", "duration": duration, "motionMode": "normal"})),
            );
            assert_eq!(estimate.usd(), Some(0.6), "{duration}");
        }
    }

    #[test]
    fn the_most_specific_tier_wins_and_an_empty_one_applies_to_all() {
        // 720p with 8 s matches only the one-input 720p tier.
        let estimate_8 = estimate(
            &pixverse(),
            &run(json!({"quality": "720p", "duration": "8"})),
        );
        assert_eq!(estimate_8.usd(), Some(5.0));
        let flat = detail(
            json!([{"inputs": {}, "price": 0.2, "priceMethod": "cpr"}]),
            None,
        );
        assert_eq!(
            estimate(&flat, &run(json!({"quality": "1080p"}))).usd(),
            Some(0.2)
        );
    }

    #[test]
    fn a_string_encoded_table_is_read() {
        let table = json!([{"inputs": {"quality": "360p"}, "price": 0.45, "priceMethod": "cpr"}]);
        let encoded = detail(Value::String(table.to_string()), None);
        assert_eq!(
            estimate(&encoded, &run(json!({"quality": "360p"}))).usd(),
            Some(0.45)
        );
    }

    #[test]
    fn no_matching_tier_is_unknown_and_says_what_the_run_was() {
        let estimate = estimate(&pixverse(), &run(json!({"quality": "1080p"})));
        match estimate {
            Estimate::Unknown { reason } => {
                assert!(reason.contains("quality=1080p"), "{reason}");
                assert!(reason.contains("duration=5"), "{reason}");
            }
            known => panic!("{known:?}"),
        }
    }

    #[test]
    fn per_second_prices_are_unknown_unless_the_server_estimates_them() {
        let tiers = json!([{"inputs": {}, "price": "0.002", "priceMethod": "cps"}]);
        let unknown = estimate(&detail(tiers.clone(), None), &Map::new());
        assert!(
            matches!(&unknown, Estimate::Unknown { reason } if reason.contains("per second")),
            "{unknown:?}"
        );
        let approximated = estimate(&detail(tiers, Some("0.0125")), &Map::new());
        assert_eq!(approximated.usd(), Some(0.0125));
        assert!(approximated.explanation().starts_with("approximatelycost"));
    }

    #[test]
    fn without_a_table_approximatelycost_or_nothing() {
        let none = detail(json!(null), None);
        assert!(estimate(&none, &Map::new()).usd().is_none());
        let approximated = detail(json!(""), Some("0.31"));
        assert_eq!(estimate(&approximated, &Map::new()).usd(), Some(0.31));
    }

    #[test]
    fn undocumented_extras_make_the_price_unknown() {
        let tiers =
            json!([{"inputs": {}, "price": 0.1, "priceMethod": "cpr", "priceExtra": "0.05"}]);
        let estimate = estimate(&detail(tiers, None), &Map::new());
        assert!(
            matches!(&estimate, Estimate::Unknown { reason } if reason.contains("priceExtra")),
            "{estimate:?}"
        );
    }
}
