//! Parameters for a model this crate knows, reached through the generic `wiro/model.run`: the
//! same rules as its typed node, so `1080p` with `8` s is refused there too.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::pixverse::{ImageToVideoV4, TextToVideoV4};
use super::{ModelParameters, ParameterProblem};

/// The problems with `parameters` for `model` (its slug, in any letter case) when this crate
/// knows the model; `None` for a model it does not know (the server judges those).
pub fn check_known_model(
    model: &str,
    parameters: &Map<String, Value>,
) -> Option<Vec<ParameterProblem>> {
    if model.eq_ignore_ascii_case(TextToVideoV4::SLUG) {
        Some(check::<TextToVideoV4>(parameters))
    } else if model.eq_ignore_ascii_case(ImageToVideoV4::SLUG) {
        Some(check::<ImageToVideoV4>(parameters))
    } else {
        None
    }
}

fn check<T: ModelParameters + DeserializeOwned>(
    parameters: &Map<String, Value>,
) -> Vec<ParameterProblem> {
    match T::deserialize(Value::Object(parameters.clone())) {
        Ok(parameters) => parameters.validate().err().unwrap_or_default(),
        Err(error) => vec![ParameterProblem::new(
            "",
            "type",
            format!("the parameters do not fit {}: {error}", T::SLUG),
        )],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_known_slug_in_any_case_gets_its_models_rules() {
        let parameters = json!({ "prompt": "a fox", "quality": "1080p", "duration": "8" });
        let problems =
            check_known_model("pixverse/TEXT-to-video-v4", parameters.as_object().unwrap())
                .unwrap();
        assert_eq!(
            problems[0].rule,
            super::super::pixverse::rules::MAX_5S_AT_1080P
        );
        assert!(check_known_model("someone/else", &Map::new()).is_none());
    }
}
