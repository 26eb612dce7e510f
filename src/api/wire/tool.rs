//! A model as Tool/Detail describes it: its parameter list and its prices (`dynamicprice`
//! tiers, `cps`, `approximatelycost`).
//!
//! The answer is read leniently: the model may sit in `tool[0]`, in `tool`, or at the top;
//! `dynamicprice` and `parameters` may be JSON arrays or strings holding one; parameters may
//! come flat or in groups with `items`; numbers may be strings.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::WireNumber;

/// One price tier of `dynamicprice`: it applies to a Run whose parameters equal its `inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriceTier {
    /// Parameter values the tier is for, e.g. `{"quality": "720p", "duration": "5"}`; empty
    /// means every run.
    #[serde(default, deserialize_with = "object_or_json_text")]
    pub inputs: Map<String, Value>,
    /// The price in dollars, per unit of `priceMethod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<WireNumber>,
    /// What the price is per: `cpr` (request), `cps` (second), `cpo` (output), `cpt`
    /// (token), `cp-pixel`, `cp-outputVideoLength`, ...
    #[serde(
        rename = "priceMethod",
        default,
        deserialize_with = "super::lenient::string_or_number"
    )]
    pub price_method: String,
    /// An extra charge; its unit is not documented.
    #[serde(
        rename = "priceExtra",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub price_extra: Option<WireNumber>,
    /// A charge on the input; its unit is not documented.
    #[serde(
        rename = "priceInput",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub price_input: Option<WireNumber>,
    /// Fields the server sent that this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One allowed value of a `select` parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ParameterOption {
    /// What a form shows.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub label: String,
    /// What the Run sends.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub value: String,
}

/// One parameter of a model, as Tool/Detail lists it.
// Read leniently (numbers and booleans as strings, options as strings) by one reader, in
// `parameter_list`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ModelParameter {
    /// The name the Run sends it under, e.g. `quality` (a `fileinput` named `inputImage` is
    /// sent as `inputImageUrl` when given as a URL).
    #[serde(default)]
    pub id: String,
    /// `text`, `textarea`, `select`, `number`, `fileinput`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// What a form shows.
    #[serde(default)]
    pub label: String,
    /// The value the model uses when the Run leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Whether a Run must send it.
    #[serde(default)]
    pub required: bool,
    /// The allowed values of a `select`.
    #[serde(default)]
    pub options: Vec<ParameterOption>,
    /// The smallest value (or length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<WireNumber>,
    /// The largest value (or length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<WireNumber>,
    /// The distance between allowed values of a `range` or `number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<WireNumber>,
    /// Fields the server sent that this crate does not model (description, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A model's parameters and prices, read from a Tool/Detail answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "ModelDetail")]
pub struct ModelDetail {
    /// The model, `owner/project`, as asked for.
    pub model: String,
    /// Its title, when the server gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its parameters: id, type, label, default, required, options, min, max.
    #[serde(default)]
    pub parameters: Vec<ModelParameter>,
    /// The price tiers (`dynamicprice`); empty when the model has none.
    #[serde(default)]
    pub dynamicprice: Vec<PriceTier>,
    /// Cost per second, for models priced by run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cps: Option<WireNumber>,
    /// The server's estimate of one run (average seconds × cps), in dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximatelycost: Option<WireNumber>,
}

impl ModelDetail {
    /// Reads a Tool/Detail answer for `model`. Fails only when the answer names no model
    /// object at all or a field is of an impossible type; the message says which.
    pub fn from_answer(model: &str, answer: &Value) -> Result<Self, String> {
        let tool = match answer.get("tool") {
            Some(Value::Array(tools)) => {
                tools.first().ok_or("the answer's `tool` list is empty")?
            }
            Some(tool @ Value::Object(_)) => tool,
            _ => answer,
        };
        let Value::Object(tool) = tool else {
            return Err(format!("`tool` is not an object: {tool}"));
        };
        Self::from_fields(model, |key| tool.get(key))
    }

    /// Reads a model from its fields, as `field` finds them (a Tool/Detail `tool` object, or
    /// a catalog entry): no field is copied to read it.
    pub fn from_fields<'a>(
        model: &str,
        field: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<Self, String> {
        let parameters = super::parameter_list::read_parameter_value(field("parameters"))?;
        Self::with_parameters(model, parameters, field)
    }

    /// A model of these parameters, its prices and title read from its fields as `field`
    /// finds them (`parameters` is not asked for).
    pub fn with_parameters<'a>(
        model: &str,
        parameters: Vec<ModelParameter>,
        field: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<Self, String> {
        let tool = field;
        let dynamicprice: Vec<PriceTier> =
            match json_or_text(tool("dynamicprice")).map(Cow::into_owned) {
                None => Vec::new(),
                Some(Value::Array(tiers)) => tiers
                    .into_iter()
                    .map(serde_json::from_value)
                    .collect::<Result<_, _>>()
                    .map_err(|problem| format!("dynamicprice: {problem}"))?,
                Some(Value::Object(tier)) => vec![serde_json::from_value(Value::Object(tier))
                    .map_err(|problem| format!("dynamicprice: {problem}"))?],
                Some(other) => return Err(format!("dynamicprice is not a list of tiers: {other}")),
            };
        let number = |name: &str| -> Option<WireNumber> {
            match tool(name)? {
                Value::String(text) if text.trim().is_empty() => None,
                Value::String(text) => Some(WireNumber::new(text.trim())),
                Value::Number(number) => Some(WireNumber::new(number.to_string())),
                _ => None,
            }
        };
        let title = ["title", "name"]
            .iter()
            .find_map(|key| tool(key)?.as_str())
            .filter(|title| !title.is_empty())
            .map(str::to_owned);
        Ok(Self {
            model: model.to_owned(),
            title,
            parameters,
            dynamicprice,
            cps: number("cps"),
            approximatelycost: number("approximatelycost"),
        })
    }

    /// The parameter with this id.
    pub fn parameter(&self, id: &str) -> Option<&ModelParameter> {
        self.parameters.iter().find(|parameter| parameter.id == id)
    }
}

/// A value that may be JSON or a string holding JSON; `null`, `""` and `"null"` are `None`.
fn json_or_text(value: Option<&Value>) -> Option<Cow<'_, Value>> {
    match value? {
        Value::Null => None,
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() || text == "null" {
                return None;
            }
            serde_json::from_str(text).ok().map(Cow::Owned)
        }
        other => Some(Cow::Borrowed(other)),
    }
}

fn object_or_json_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<String, Value>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    match json_or_text(value.as_ref()).map(Cow::into_owned) {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(Value::Array(list)) if list.is_empty() => Ok(Map::new()),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected an object of parameter values, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_string_encoded_price_list_and_grouped_parameters_are_read() {
        let answer = json!({"result": true, "errors": [], "tool": [{
            "title": "PixVerse v4",
            "cps": "0.001", "approximatelycost": "",
            "dynamicprice": "[{\"inputs\":{\"quality\":\"720p\"},\"price\":0.6,\"priceMethod\":\"cpr\"}]",
            "parameters": [{"title": "Video", "items": [
                {"id": "quality", "type": "select", "label": "Quality", "default": "540p",
                 "required": "false", "options": [{"label": "720p", "value": "720p"}, "1080p"]},
                {"id": "seed", "type": "number", "min": 0, "max": "2147483647"}
            ]}]
        }]});
        let detail = ModelDetail::from_answer("PixVerse/text-to-video-v4", &answer).unwrap();
        assert_eq!(detail.title.as_deref(), Some("PixVerse v4"));
        assert_eq!(detail.dynamicprice.len(), 1);
        assert_eq!(detail.dynamicprice[0].inputs["quality"], "720p");
        assert_eq!(detail.dynamicprice[0].price_method, "cpr");
        assert_eq!(
            detail.cps.as_ref().and_then(WireNumber::as_f64),
            Some(0.001)
        );
        assert_eq!(detail.approximatelycost, None);
        let quality = detail.parameter("quality").unwrap();
        assert_eq!(quality.default, Some(json!("540p")));
        assert!(!quality.required);
        assert_eq!(quality.options[1].value, "1080p");
        let seed = detail.parameter("seed").unwrap();
        assert_eq!(
            seed.max.as_ref().and_then(WireNumber::as_u64),
            Some(2147483647)
        );
    }

    #[test]
    fn a_model_without_prices_has_an_empty_list() {
        for dynamicprice in [json!(null), json!(""), json!("[]"), json!([])] {
            let answer = json!({"tool": {"dynamicprice": dynamicprice, "parameters": []}});
            let detail = ModelDetail::from_answer("a/b", &answer).unwrap();
            assert!(detail.dynamicprice.is_empty(), "{dynamicprice}");
        }
    }

    #[test]
    fn an_impossible_price_list_is_named() {
        let answer = json!({"tool": [{"dynamicprice": 5}]});
        let problem = ModelDetail::from_answer("a/b", &answer).unwrap_err();
        assert!(problem.contains("dynamicprice"), "{problem}");
    }
}
