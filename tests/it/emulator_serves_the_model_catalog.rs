//! Tool/List and Tool/Detail as a catalog reader meets them: every model, pages and filters,
//! raw or clean slugs in any case, the API's loose typing, and generated models on demand.
#![cfg(feature = "emulator")]

use crate::common;

use common::*;
use serde_json::{json, Value};
use wiro_nodes::api::wire::ModelDetail;
use wiro_nodes::emulator::EmulatorConfig;

fn slugs(answer: &Value) -> Vec<String> {
    answer["tool"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            format!(
                "{}/{}",
                tool["cleanslugowner"].as_str().unwrap(),
                tool["cleanslugproject"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_list_pages_through_every_model_without_parameters() {
    let emulator = fast().await;
    let mut seen = Vec::new();
    for start in [0, 4, 8] {
        let (status, answer) = post(
            &emulator,
            "Tool/List",
            json!({"start": start.to_string(), "limit": "4"}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(answer["total"], "11");
        assert!(answer["tool"][0].get("parameters").is_none(), "{answer}");
        seen.extend(slugs(&answer));
    }
    assert_eq!(seen.len(), 11);
    for model in [
        "pixverse/text-to-video-v4",
        "pixverse/text-to-video-v5",
        "acme-labs/frames-to-video",
        "wiro/unpublished",
    ] {
        assert!(seen.iter().any(|slug| slug == model), "{model} in {seen:?}");
    }
    let (_, answer) = post(
        &emulator,
        "Tool/List",
        json!({"search": "speech", "slugowner": "WIRO"}),
    )
    .await;
    assert_eq!(slugs(&answer), ["wiro/speech"]);
}

#[tokio::test]
async fn a_detail_answers_to_raw_or_clean_slugs_and_reads_leniently() {
    let emulator = fast().await;
    for (owner, project) in [
        ("Acme Labs", "frames to video"),
        ("ACME-LABS", "Frames-To-Video"),
    ] {
        let (_, answer) = post(
            &emulator,
            "Tool/Detail",
            json!({"slugowner": owner, "slugproject": project}),
        )
        .await;
        assert_eq!(answer["result"], true, "{answer}");
        let detail = ModelDetail::from_answer("acme-labs/frames-to-video", &answer).unwrap();
        let first = detail.parameter("firstFrame").unwrap();
        assert!(first.required, "required is the string \"true\"");
        assert_eq!(first.kind, "fileinput");
        assert!(detail.dynamicprice.is_empty());
        assert_eq!(detail.cps.unwrap().as_f64(), Some(0.012));
    }
    let (_, answer) = post(
        &emulator,
        "Tool/Detail",
        json!({"slugowner": "wiro", "slugproject": "image-studio"}),
    )
    .await;
    let detail = ModelDetail::from_answer("wiro/image-studio", &answer).unwrap();
    assert_eq!(detail.dynamicprice[0].price_method, "cpo");
    assert_eq!(detail.parameter("tint").unwrap().kind, "colorpicker");
    let (_, answer) = post(
        &emulator,
        "Tool/Detail",
        json!({"slugowner": "wiro", "slugproject": "unpublished"}),
    )
    .await;
    assert!(answer["tool"][0]["parameters"].is_null());

    let (_, answer) = post(
        &emulator,
        "Tool/Detail",
        json!({"slugowner": "wiro", "slugproject": "nothing"}),
    )
    .await;
    assert_eq!(answer["result"], false);
    assert_eq!(answer["errors"][0]["code"], 1);
}

#[tokio::test]
async fn synthetic_models_make_a_large_catalog() {
    let emulator = start(EmulatorConfig {
        synthetic_models: 300,
        ..EmulatorConfig::with_speed(100.0)
    })
    .await;
    let (_, answer) = post(&emulator, "Tool/List", json!({"limit": "1000"})).await;
    assert_eq!(answer["total"], "311");
    assert_eq!(answer["tool"].as_array().unwrap().len(), 311);
    let (_, answer) = post(
        &emulator,
        "Tool/Detail",
        json!({"slugowner": "Synthetic Lab", "slugproject": "Model 0300"}),
    )
    .await;
    let detail = ModelDetail::from_answer("synthetic-lab/model-0300", &answer).unwrap();
    assert!(detail.parameters.len() >= 4, "{detail:?}");
}
