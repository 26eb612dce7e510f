#![cfg(feature = "emulator")]
//! Tool/Detail publishes PixVerse's price list; the estimate a client makes from it before
//! a Run is what the emulator charges for the successful task, and a failed task costs 0.

use crate::common;
use serde_json::json;
use wiro_nodes::api::{estimate, Estimate};

#[tokio::test]
async fn the_estimate_before_a_run_is_what_the_task_then_costs() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let detail = client
        .model_detail("pixverse/text-to-video-v4")
        .await
        .unwrap();
    assert_eq!(detail.dynamicprice.len(), 10);
    assert!(detail.parameters.iter().any(|p| p.id == "quality"));
    for (changes, usd) in [
        (json!({}), 0.45),
        (json!({"duration": 8}), 0.90),
        (json!({"motionMode": "fast"}), 0.90),
        (json!({"quality": "720p"}), 0.60),
        (json!({"quality": "720p", "duration": "8"}), 1.20),
        (json!({"quality": "1080p"}), 1.20),
    ] {
        let mut parameters = json!({"prompt": "a kite"});
        for (name, value) in changes.as_object().unwrap() {
            parameters[name] = value.clone();
        }
        let parameters = parameters.as_object().cloned().unwrap();
        let estimate = estimate(&detail, &parameters);
        assert_eq!(estimate.usd(), Some(usd), "{changes}: {estimate:?}");
        let handle = client
            .run("PixVerse/text-to-video-v4", &parameters)
            .await
            .unwrap();
        let task = client
            .wait_for_task(&handle, &common::quick_wait(), |_| {})
            .await
            .unwrap();
        assert_eq!(task.total_cost(), Some(usd), "{changes}");
    }
}

#[tokio::test]
async fn image_to_video_has_the_same_price_list_and_a_failed_task_costs_nothing() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let detail = client
        .model_detail("PixVerse/image-to-video-v4")
        .await
        .unwrap();
    let parameters = json!({"prompt": "[emulator:fail]", "quality": "360p",
                            "inputImageUrl": "https://example.com/a.png"});
    let estimate = estimate(&detail, parameters.as_object().unwrap());
    assert!(
        matches!(&estimate, Estimate::Known { usd, basis } if *usd == 0.45 && basis.contains("per request")),
        "{estimate:?}"
    );
    let handle = client
        .run(
            "PixVerse/image-to-video-v4",
            parameters.as_object().unwrap(),
        )
        .await
        .unwrap();
    let failed = client
        .wait_for_task(&handle, &common::quick_wait(), |_| {})
        .await
        .unwrap_err();
    assert!(failed.to_string().contains("failed"), "{failed}");
    let task = client.task_detail(&handle.taskid).await.unwrap();
    assert_eq!(task.total_cost(), Some(0.0));
}
