//! `pixverse/text-to-video-v4`: starts PixVerse v4 text-to-video with typed parameters;
//! impossible combinations are refused before anything is sent.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::support::{submit_run, StartedTask};
use crate::models::pixverse::{check_partial, TextToVideoV4};
use crate::models::ModelParameters;
use crate::node::{InputProblem, NodeContext, NodeError, PricedRun, TypedNode};

/// Starts a PixVerse v4 text-to-video task.
#[derive(Debug, Default)]
pub struct PixverseTextToVideo;

#[async_trait]
impl TypedNode for PixverseTextToVideo {
    type Input = TextToVideoV4;
    type Output = StartedTask;
    const TYPE_ID: &'static str = "pixverse/text-to-video-v4";
    const TITLE: &'static str = "PixVerse v4: text to video";
    const CATEGORY: &'static str = "models";
    const DESCRIPTION: &'static str = "Starts a PixVerse v4 video from a text prompt (Run/PixVerse/text-to-video-v4) and returns the task handle as soon as it is accepted. Costs money; never sent twice. 1080p allows only 5 s and normal motion; fast motion needs 5 s.";
    const SPENDS_MONEY: bool = true;

    fn check_partial(inputs: &Map<String, Value>) -> Vec<InputProblem> {
        check_partial(inputs).into_iter().map(Into::into).collect()
    }

    fn priced_run(inputs: &Map<String, Value>, linked: &BTreeSet<String>) -> Option<PricedRun> {
        Some(PricedRun::literal(TextToVideoV4::SLUG, inputs, linked))
    }

    fn sent_run(input: &Self::Input) -> Option<PricedRun> {
        Some(PricedRun::literal(
            TextToVideoV4::SLUG,
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
        submit_run(ctx, TextToVideoV4::SLUG, &input.to_wire()).await
    }
}

crate::register_node!(PixverseTextToVideo);
