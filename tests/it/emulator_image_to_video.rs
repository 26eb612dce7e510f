//! Image-to-video takes the uploaded image's shape, whether the image comes as a URL from
//! File/Upload or as a file part of a multipart Run.
#![cfg(feature = "emulator")]

use crate::common;
use common::*;
use serde_json::{json, Value};

/// A PNG header saying `width`×`height` (the emulator reads only the header).
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0]);
    bytes
}

/// The header of an extended (VP8X) WebP saying `width`×`height`.
fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    bytes.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    bytes.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    bytes
}

async fn output_size(emulator: &wiro_nodes::emulator::EmulatorHandle, answer: Value) -> (u16, u16) {
    assert_eq!(answer["result"], true, "{answer}");
    let task = wait_end(emulator, answer["taskid"].as_str().unwrap()).await;
    assert_eq!(task["pexit"], "0", "{task}");
    let bytes = download(task["outputs"][0]["url"].as_str().unwrap()).await;
    let (width, height, _, _) = mp4_facts(&bytes);
    (width, height)
}

#[tokio::test]
async fn an_uploaded_portrait_image_gives_a_3_by_4_clip() {
    let emulator = fast().await;
    let (_, folder) = post(&emulator, "File/FolderCreate", json!({"name": "my_inputs"})).await;
    let folderid = folder["list"][0]["id"].as_str().unwrap().to_owned();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(png(600, 800)).file_name("cat.png"),
        )
        .text("folderid", folderid.clone());
    let uploaded: Value = post_form(&emulator, "File/Upload", form).await;
    assert_eq!(
        uploaded["list"][0]["parentid"],
        folderid.as_str(),
        "{uploaded}"
    );
    let url = uploaded["list"][0]["url"].as_str().unwrap();
    let (_, answer) = post(
        &emulator,
        "Run/PixVerse/image-to-video-v4",
        json!({"inputImageUrl": url, "prompt": "the cat yawns", "quality": "360p",
               "duration": "5", "seed": "7", "Watermark": "false"}),
    )
    .await;
    assert_eq!(output_size(&emulator, answer).await, (360, 480));
}

#[tokio::test]
async fn a_multipart_run_stores_the_image_part_and_passes_its_url() {
    let emulator = fast().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "inputImage",
            reqwest::multipart::Part::bytes(png(1000, 1000)).file_name("square.png"),
        )
        .text("prompt", "a square dance")
        .text("quality", "360p");
    let answer: Value = post_form(&emulator, "Run/PixVerse/image-to-video-v4", form).await;
    let taskid = answer["taskid"].as_str().unwrap().to_owned();
    assert_eq!(output_size(&emulator, answer).await, (360, 360));
    let task = detail(&emulator, &taskid).await;
    let url = task["parameters"]["inputImageUrl"].as_str().unwrap();
    assert!(url.ends_with("/square.png"), "{url}");
    assert_eq!(
        http()
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len(),
        29
    );

    // A URL the emulator did not store gives the default 16:9.
    let (_, answer) = post(
        &emulator,
        "Run/PixVerse/image-to-video-v4",
        json!({"inputImageUrl": "https://example.com/elsewhere.png", "prompt": "x", "quality": "360p"}),
    )
    .await;
    assert_eq!(output_size(&emulator, answer).await, (640, 360));
}

#[tokio::test]
async fn a_portrait_webp_part_gives_a_9_by_16_clip() {
    let emulator = fast().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "inputImage",
            reqwest::multipart::Part::bytes(webp(1080, 1920)).file_name("story.webp"),
        )
        .text("prompt", "a phone story")
        .text("quality", "360p");
    let answer: Value = post_form(&emulator, "Run/PixVerse/image-to-video-v4", form).await;
    assert_eq!(output_size(&emulator, answer).await, (360, 640));
}
