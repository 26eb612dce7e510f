//! Encoded clips, cached by spec: equal specs are encoded once (same seed, same bytes), on a
//! blocking thread so the server keeps answering meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::OnceCell;

use super::basics::lock;
use super::video::{encode_mp4, VideoSpec};

/// Clips kept at most; past this the cache starts over (a test suite needs a handful).
const MAX_CLIPS: usize = 32;

type Key = (u32, u32, u32, u32, u64);

/// Encoded MP4 files by spec.
#[derive(Default)]
pub(crate) struct ClipCache {
    clips: Mutex<HashMap<Key, Arc<OnceCell<Bytes>>>>,
}

impl ClipCache {
    /// The MP4 for `spec`, encoded now or taken from the cache.
    pub async fn get(&self, spec: VideoSpec) -> Result<Bytes, String> {
        let key = (spec.width, spec.height, spec.seconds, spec.fps, spec.seed);
        let cell = {
            let mut clips = lock(&self.clips);
            if clips.len() >= MAX_CLIPS && !clips.contains_key(&key) {
                clips.clear();
            }
            Arc::clone(clips.entry(key).or_default())
        };
        cell.get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || encode_mp4(&spec))
                .await
                .map_err(|problem| format!("the encoder thread failed: {problem}"))?
                .map(Bytes::from)
                .map_err(|problem| problem.to_string())
        })
        .await
        .cloned()
    }
}
