//! Encoded clips, cached by spec: equal specs are encoded once (same seed, same bytes), on a
//! blocking thread so the server keeps answering meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Counts the encoders at work now and at most.
    encoders: Arc<EncoderCount>,
}

/// Encoders at work now and the most there ever were at once.
#[derive(Default)]
struct EncoderCount {
    now: AtomicU64,
    peak: AtomicU64,
}

/// One encoder at work: counted while it lives.
struct Encoding(Arc<EncoderCount>);

impl Encoding {
    fn start(count: &Arc<EncoderCount>) -> Self {
        let now = count.now.fetch_add(1, Ordering::Relaxed) + 1;
        count.peak.fetch_max(now, Ordering::Relaxed);
        Self(Arc::clone(count))
    }
}

impl Drop for Encoding {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
    }
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
        let encoders = Arc::clone(&self.encoders);
        cell.get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || {
                let _counted = Encoding::start(&encoders);
                encode_mp4(&spec)
            })
            .await
            .map_err(|problem| format!("the encoder thread failed: {problem}"))?
            .map(Bytes::from)
            .map_err(|problem| problem.to_string())
        })
        .await
        .cloned()
    }

    /// The most clips encoded at once so far.
    pub fn encoders_peak(&self) -> u64 {
        self.encoders.peak.load(Ordering::Relaxed)
    }
}
