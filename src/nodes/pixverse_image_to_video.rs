//! `pixverse/image-to-video-v4`: starts PixVerse v4 image-to-video from an image URL (e.g. from
//! `wiro/file.upload`) with typed parameters; impossible combinations are refused before sending.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::support::{submit_run, StartedTask};
use crate::models::pixverse::{check_partial, ImageToVideoV4};
use crate::models::ModelParameters;
use crate::node::{InputProblem, NodeContext, NodeError, PricedRun, TypedNode};

/// Starts a PixVerse v4 image-to-video task.
#[derive(Debug, Default)]
pub struct PixverseImageToVideo;

#[async_trait]
impl TypedNode for PixverseImageToVideo {
    type Input = ImageToVideoV4;
    type Output = StartedTask;
    const TYPE_ID: &'static str = "pixverse/image-to-video-v4";
    const TITLE: &'static str = "PixVerse v4: image to video";
    const CATEGORY: &'static str = "models";
    const DESCRIPTION: &'static str = "Starts a PixVerse v4 video from a first-frame image URL and a prompt (Run/PixVerse/image-to-video-v4); connect inputImageUrl to wiro/file.upload's url. Returns the task handle as soon as it is accepted. Costs money; never sent twice. 1080p allows only 5 s and normal motion; fast motion needs 5 s.";
    const SPENDS_MONEY: bool = true;

    fn check_partial(inputs: &Map<String, Value>) -> Vec<InputProblem> {
        check_partial(inputs).into_iter().map(Into::into).collect()
    }

    fn priced_run(inputs: &Map<String, Value>, linked: &BTreeSet<String>) -> Option<PricedRun> {
        Some(PricedRun::literal(ImageToVideoV4::SLUG, inputs, linked))
    }

    fn sent_run(input: &Self::Input) -> Option<PricedRun> {
        Some(PricedRun::literal(
            ImageToVideoV4::SLUG,
            &input.to_wire(),
            &BTreeSet::new(),
        ))
    }

    fn check(input: &Self::Input) -> Vec<InputProblem> {
        input
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        submit_run(ctx, ImageToVideoV4::SLUG, &input.to_wire()).await
    }
}

crate::register_node!(PixverseImageToVideo);
