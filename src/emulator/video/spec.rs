//! What a clip is made from ([`VideoSpec`]), why one cannot be made ([`VideoError`]), and the
//! limits a spec must keep. A leaf of `video`: the encoder, the painter and the muxing passes
//! all import it, it imports none of them.

/// What to encode: frame size, length and the seed that makes the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSpec {
    /// Frame width in pixels; must be even.
    pub width: u32,
    /// Frame height in pixels; must be even.
    pub height: u32,
    /// Clip length in whole seconds.
    pub seconds: u32,
    /// Frames per second.
    pub fps: u32,
    /// Picks colours, gradient direction and motion; equal seeds give identical files.
    pub seed: u64,
}

/// Why a clip could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// A side is odd or below 16, or the frame exceeds what OpenH264 accepts (3840x2160 either way).
    #[error("invalid frame size {width}x{height}: sides must be even, at least 16 and fit 3840x2160 in either orientation")]
    InvalidSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// Length or frame rate is zero or beyond the supported range.
    #[error("invalid timing {seconds} s at {fps} fps: need 1..={max_seconds} s and 1..={max_fps} fps", max_seconds = MAX_SECONDS, max_fps = MAX_FPS)]
    InvalidTiming {
        /// Requested length in seconds.
        seconds: u32,
        /// Requested frames per second.
        fps: u32,
    },
    /// OpenH264 refused the configuration or a frame, or produced a stream we cannot mux.
    #[error("H.264 encoder failed: {0}")]
    Encoder(String),
    /// The MP4 container could not be written.
    #[error("MP4 muxing failed: {0}")]
    Mux(String),
}

/// Longest clip we agree to render; keeps a bad request from pinning a core for minutes.
pub(super) const MAX_SECONDS: u32 = 600;
/// Highest frame rate accepted; more is pointless for test clips.
pub(super) const MAX_FPS: u32 = 120;
/// OpenH264 fails on frames smaller than one macroblock.
const MIN_SIDE: u32 = 16;
/// OpenH264 rejects anything larger than level 5.2 allows in either orientation.
const MAX_LONG_SIDE: u32 = 3840;
const MAX_SHORT_SIDE: u32 = 2160;
/// Checks a spec against what the encoder accepts.
pub(super) fn validate(spec: &VideoSpec) -> Result<(), VideoError> {
    let (w, h) = (spec.width, spec.height);
    let (long, short) = (w.max(h), w.min(h));
    if short < MIN_SIDE
        || w % 2 != 0
        || h % 2 != 0
        || long > MAX_LONG_SIDE
        || short > MAX_SHORT_SIDE
    {
        return Err(VideoError::InvalidSize {
            width: w,
            height: h,
        });
    }
    if spec.seconds == 0 || spec.fps == 0 || spec.seconds > MAX_SECONDS || spec.fps > MAX_FPS {
        return Err(VideoError::InvalidTiming {
            seconds: spec.seconds,
            fps: spec.fps,
        });
    }
    Ok(())
}
