//! Deterministic synthetic test clips, encoded in-process as H.264 and muxed into MP4.
//!
//! The emulator has to hand out real, playable videos without ffmpeg or network access, so
//! frames are drawn straight into I420 planes (no RGB conversion pass), compressed with the
//! bundled OpenH264 encoder and wrapped by the `mp4` crate. A final pass moves the `moov` box in
//! front of `mdat` ("faststart") so browsers can start playback before the whole file arrives.

use std::io::Cursor;

use bytes::Bytes;
use mp4::{
    AvcConfig, FourCC, MediaConfig, Mp4Config, Mp4Sample, Mp4Writer, TrackConfig, TrackType,
};
use openh264::encoder::{
    BitRate, Complexity, EncodedBitStream, Encoder, EncoderConfig, FrameRate, IntraFramePeriod,
    RateControlMode, SpsPpsStrategy, UsageType, VuiConfig,
};
use openh264::formats::YUVSlices;
use openh264::{OpenH264API, Timestamp};

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
const MAX_SECONDS: u32 = 600;
/// Highest frame rate accepted; more is pointless for test clips.
const MAX_FPS: u32 = 120;
/// OpenH264 fails on frames smaller than one macroblock.
const MIN_SIDE: u32 = 16;
/// OpenH264 rejects anything larger than level 5.2 allows in either orientation.
const MAX_LONG_SIDE: u32 = 3840;
const MAX_SHORT_SIDE: u32 = 2160;
/// Media ticks per frame. Using `fps * TICKS_PER_FRAME` as the timescale makes every sample
/// duration an integer, so the summed duration is exactly `seconds` (the `mp4` crate converts
/// per sample with integer division, so any rounding there would accumulate).
const TICKS_PER_FRAME: u32 = 1000;

/// Encodes a deterministic test clip as an H.264 MP4 held in memory.
///
/// The file has one `avc1` video track with `seconds * fps` samples, a keyframe every second
/// and its `moov` box before the media data. Equal specs yield byte-identical files.
///
/// # Errors
///
/// [`VideoError::InvalidSize`] / [`VideoError::InvalidTiming`] for specs outside the supported
/// range, [`VideoError::Encoder`] / [`VideoError::Mux`] if OpenH264 or the muxer fail.
pub fn encode_mp4(spec: &VideoSpec) -> Result<Vec<u8>, VideoError> {
    validate(spec)?;
    let frame_count = spec.seconds * spec.fps;
    let timescale = spec.fps * TICKS_PER_FRAME;
    let mut painter = Painter::new(spec);

    let config = EncoderConfig::new()
        // The bundled OpenH264 rejects the non-real-time usage types at init ("Invalid usage type").
        .usage_type(UsageType::CameraVideoRealTime)
        // Fixed QP (OpenH264's default 26): every frame is coded, nothing depends on timing, and
        // the init-time "bitrate can't be controlled" warning the other modes print to stderr
        // when frame skipping is off does not appear.
        .rate_control_mode(RateControlMode::Off)
        .bitrate(BitRate::from_bps(target_bitrate(spec)))
        // Scene-change detection would slip in extra IDR frames and make the GOP content-dependent.
        .scene_change_detect(false)
        .max_frame_rate(FrameRate::from_hz(spec.fps as f32))
        // A skipped frame would leave a hole in the sample table; one sample per frame is the contract.
        .skip_frames(false)
        .intra_frame_period(IntraFramePeriod::from_num_frames(spec.fps))
        // Keeps the SPS/PPS identical on every IDR so the single avcC entry stays valid.
        .sps_pps_strategy(SpsPpsStrategy::ConstantId)
        // Multi-threaded slice scheduling could make output depend on timing; one thread is also fast enough.
        .num_threads(1)
        .complexity(Complexity::Low)
        .vui(VuiConfig::bt709());
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| VideoError::Encoder(e.to_string()))?;

    let mut params = ParameterSets::default();
    let mut sample = Vec::with_capacity(64 * 1024);
    let mut muxer: Option<Mp4Writer<Cursor<Vec<u8>>>> = None;
    // Held back one frame so a frame the encoder drops can extend its predecessor instead of
    // shortening the clip.
    let mut pending: Option<Mp4Sample> = None;

    for index in 0..frame_count {
        painter.paint(index, frame_count);
        let millis = u64::from(index) * 1000 / u64::from(spec.fps);
        let stream = encoder
            .encode_at(&painter.slices(), Timestamp::from_millis(millis))
            .map_err(|e| VideoError::Encoder(e.to_string()))?;
        sample.clear();
        let is_sync = to_length_prefixed(&stream, &mut sample, &mut params)?;

        if muxer.is_none() {
            muxer = Some(start_muxer(spec, timescale, &params)?);
        }
        if sample.is_empty() {
            match pending.as_mut() {
                Some(previous) => previous.duration += TICKS_PER_FRAME,
                None => {
                    return Err(VideoError::Encoder(
                        "encoder produced no picture for the first frame".into(),
                    ))
                }
            }
            continue;
        }
        let next = Mp4Sample {
            start_time: u64::from(index) * u64::from(TICKS_PER_FRAME),
            duration: TICKS_PER_FRAME,
            rendering_offset: 0,
            is_sync,
            bytes: Bytes::copy_from_slice(&sample),
        };
        if let (Some(previous), Some(writer)) = (pending.replace(next), muxer.as_mut()) {
            writer.write_sample(1, &previous).map_err(mux_error)?;
        }
    }

    let mut writer = muxer.ok_or_else(|| VideoError::Encoder("no frames were encoded".into()))?;
    if let Some(last) = pending.take() {
        writer.write_sample(1, &last).map_err(mux_error)?;
    }
    writer.write_end().map_err(mux_error)?;
    faststart(&writer.into_writer().into_inner())
}

fn validate(spec: &VideoSpec) -> Result<(), VideoError> {
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

/// About 0.05 bits per pixel. With rate control off this is only a hint OpenH264 weighs when
/// it picks the level; the clamp keeps it inside what baseline levels 1.1 to 5.1 allow.
fn target_bitrate(spec: &VideoSpec) -> u32 {
    let bps = u64::from(spec.width) * u64::from(spec.height) * u64::from(spec.fps) / 20;
    u32::try_from(bps.clamp(100_000, 8_000_000)).unwrap_or(8_000_000)
}

fn mux_error(e: mp4::Error) -> VideoError {
    VideoError::Mux(e.to_string())
}

fn start_muxer(
    spec: &VideoSpec,
    timescale: u32,
    params: &ParameterSets,
) -> Result<Mp4Writer<Cursor<Vec<u8>>>, VideoError> {
    let (Some(sps), Some(pps)) = (params.sps.as_ref(), params.pps.as_ref()) else {
        return Err(VideoError::Encoder(
            "first access unit carried no SPS/PPS".into(),
        ));
    };
    // `AvcCBox::new` indexes the profile/level bytes directly and would panic on a stub SPS.
    if sps.len() < 4 {
        return Err(VideoError::Encoder(format!(
            "SPS too short ({} bytes)",
            sps.len()
        )));
    }
    let brand = |s: &[u8; 4]| FourCC { value: *s };
    let config = Mp4Config {
        major_brand: brand(b"isom"),
        minor_version: 512,
        compatible_brands: vec![
            brand(b"isom"),
            brand(b"iso2"),
            brand(b"avc1"),
            brand(b"mp41"),
        ],
        // Same scale as the track: the crate rescales durations per sample with integer division.
        timescale,
    };
    // Rough size guess (about what QP 26 gives for this picture) to avoid early reallocations.
    let estimate =
        u64::from(spec.width) * u64::from(spec.height) * u64::from(spec.seconds) / 16 + 64 * 1024;
    let buffer = Vec::with_capacity(usize::try_from(estimate).unwrap_or(0));
    let mut writer = Mp4Writer::write_start(Cursor::new(buffer), &config).map_err(mux_error)?;
    let (width, height) = side_u16(spec)?;
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Video,
            timescale,
            language: String::from("und"),
            media_conf: MediaConfig::AvcConfig(AvcConfig {
                width,
                height,
                seq_param_set: sps.clone(),
                pic_param_set: pps.clone(),
            }),
        })
        .map_err(mux_error)?;
    Ok(writer)
}

fn side_u16(spec: &VideoSpec) -> Result<(u16, u16), VideoError> {
    match (u16::try_from(spec.width), u16::try_from(spec.height)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(VideoError::InvalidSize {
            width: spec.width,
            height: spec.height,
        }),
    }
}

/// SPS and PPS as first emitted by the encoder, without start codes.
#[derive(Default)]
struct ParameterSets {
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl ParameterSets {
    /// Records a parameter set; a different one later on would contradict the single avcC entry.
    fn note(slot: &mut Option<Vec<u8>>, nal: &[u8]) -> Result<(), VideoError> {
        match slot {
            Some(known) if known.as_slice() != nal => Err(VideoError::Encoder(
                "encoder changed its parameter sets mid-stream".into(),
            )),
            Some(_) => Ok(()),
            None => {
                *slot = Some(nal.to_vec());
                Ok(())
            }
        }
    }
}

const NAL_IDR_SLICE: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

/// Converts one encoded frame from Annex B to the 4-byte length-prefixed form MP4 samples use.
///
/// SPS/PPS are lifted out into `params` because `avc1` carries them in the sample entry.
/// Returns whether the frame is an IDR picture, i.e. a sync sample.
fn to_length_prefixed(
    stream: &EncodedBitStream<'_>,
    out: &mut Vec<u8>,
    params: &mut ParameterSets,
) -> Result<bool, VideoError> {
    let mut is_idr = false;
    for layer_index in 0..stream.num_layers() {
        let Some(layer) = stream.layer(layer_index) else {
            continue;
        };
        for nal_index in 0..layer.nal_count() {
            let Some(raw) = layer.nal_unit(nal_index) else {
                continue;
            };
            let nal = strip_start_code(raw);
            let Some(&header) = nal.first() else { continue };
            match header & 0x1f {
                NAL_SPS => ParameterSets::note(&mut params.sps, nal)?,
                NAL_PPS => ParameterSets::note(&mut params.pps, nal)?,
                kind => {
                    is_idr |= kind == NAL_IDR_SLICE;
                    let len = u32::try_from(nal.len())
                        .map_err(|_| VideoError::Encoder("NAL unit larger than 4 GiB".into()))?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(nal);
                }
            }
        }
    }
    Ok(is_idr)
}

fn strip_start_code(nal: &[u8]) -> &[u8] {
    if let Some(rest) = nal.strip_prefix(&[0, 0, 0, 1]) {
        rest
    } else if let Some(rest) = nal.strip_prefix(&[0, 0, 1]) {
        rest
    } else {
        nal
    }
}

// ---------------------------------------------------------------------------------------------
// Picture generation
// ---------------------------------------------------------------------------------------------

/// Deterministic PRNG (SplitMix64). Kept in-house rather than using `fastrand` so a dependency
/// update can never change the pictures (and thus the bytes) a seed produces.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish integer in `lo..=hi` (modulo bias is irrelevant for picking colours).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next() % span) as i64
    }

    fn sign(&mut self) -> i64 {
        if self.next() & 1 == 0 {
            1
        } else {
            -1
        }
    }
}

/// Saturated colours as limited-range BT.709 (Y, Cb, Cr); integers keep output identical on
/// every platform, which float trigonometry would not guarantee.
const PALETTE: [(u8, u8, u8); 8] = [
    (63, 102, 240),  // red
    (173, 42, 26),   // green
    (32, 240, 118),  // blue
    (219, 16, 138),  // yellow
    (188, 154, 16),  // cyan
    (78, 214, 230),  // magenta
    (141, 59, 189),  // orange
    (235, 128, 128), // white
];

/// Lookup tables hold one period of a triangle wave so the inner loops are an add and a load.
const WAVE_LEN: usize = 512;
const WAVE_MASK: i64 = WAVE_LEN as i64 - 1;
/// Fixed-point fraction bits for phase accumulators.
const FRAC: u32 = 8;

fn triangle_table(lo: u8, hi: u8) -> [u8; WAVE_LEN] {
    let mut table = [0u8; WAVE_LEN];
    let half = WAVE_LEN as i64 / 2;
    let span = i64::from(hi) - i64::from(lo);
    for (i, slot) in table.iter_mut().enumerate() {
        let i = i as i64;
        let ramp = if i < half { i } else { WAVE_LEN as i64 - i };
        *slot = (i64::from(lo) + span * ramp / half) as u8;
    }
    table
}

/// A smooth stripe pattern `table[(x * dx + y * dy) >> FRAC]` in a random direction.
struct Wave {
    table: [u8; WAVE_LEN],
    dx: i64,
    dy: i64,
}

impl Wave {
    /// Random direction with roughly half a period to three periods across `extent` pixels.
    fn random(rng: &mut SplitMix64, lo: u8, hi: u8, extent: u32) -> Self {
        let per_pixel = |rng: &mut SplitMix64| {
            let periods_x100 = rng.range(50, 300);
            rng.sign() * ((WAVE_LEN as i64) << FRAC) * periods_x100
                / (100 * i64::from(extent.max(1)))
        };
        let dx = per_pixel(rng);
        let dy = per_pixel(rng);
        Self {
            table: triangle_table(lo, hi),
            dx,
            dy,
        }
    }

    fn fill(&self, plane: &mut [u8], width: usize) {
        if width == 0 {
            return;
        }
        for (y, row) in plane.chunks_exact_mut(width).enumerate() {
            let mut phase = y as i64 * self.dy;
            for px in row {
                *px = self.table[((phase >> FRAC) & WAVE_MASK) as usize];
                phase += self.dx;
            }
        }
    }
}

/// Position bouncing between 0 and `range`, given a start and a speed in 1/256 pixel per frame.
fn bounce(start: i64, speed: i64, frame: u32, range: i64) -> i64 {
    if range <= 0 {
        return 0;
    }
    let travelled = (start + speed * i64::from(frame)) >> FRAC;
    let period = 2 * range;
    let p = travelled.rem_euclid(period);
    if p > range {
        period - p
    } else {
        p
    }
}

/// Draws the frames of one clip into reused I420 planes.
struct Painter {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    /// Y, Cb and Cr of the backdrop, painted once and copied into every frame.
    background: [Vec<u8>; 3],
    sprites: [Sprite; 2],
    bar_height: usize,
}

/// A solid square bouncing off the frame edges.
struct Sprite {
    colour: (u8, u8, u8),
    side: usize,
    /// Start position and speed, both in 1/256 pixel (per frame for the speed).
    start: (i64, i64),
    speed: (i64, i64),
}

impl Sprite {
    fn random(rng: &mut SplitMix64, side: usize, width: usize, height: usize, fps: u32) -> Self {
        let colour = PALETTE[(rng.next() % PALETTE.len() as u64) as usize];
        let range = |extent: usize| extent.saturating_sub(side) as i64;
        let start = (
            rng.range(0, range(width)) << FRAC,
            rng.range(0, range(height)) << FRAC,
        );
        // Crosses the frame in roughly one to four seconds whatever the frame rate.
        let speed_along = |rng: &mut SplitMix64, extent: usize| {
            let px_per_second = rng.range(extent as i64 / 4, extent as i64).max(1);
            rng.sign() * (px_per_second << FRAC) / i64::from(fps.max(1))
        };
        let speed = (speed_along(rng, width), speed_along(rng, height));
        Self {
            colour,
            side,
            start,
            speed,
        }
    }

    /// Top-left corner at `frame`, rounded to even so the square stays on the 2x2 chroma grid.
    fn position(&self, frame: u32, width: usize, height: usize) -> (usize, usize) {
        let x = bounce(
            self.start.0,
            self.speed.0,
            frame,
            width.saturating_sub(self.side) as i64,
        );
        let y = bounce(
            self.start.1,
            self.speed.1,
            frame,
            height.saturating_sub(self.side) as i64,
        );
        (x as usize & !1, y as usize & !1)
    }
}

impl Painter {
    fn new(spec: &VideoSpec) -> Self {
        let (width, height) = (spec.width as usize, spec.height as usize);
        let mut rng = SplitMix64(spec.seed);
        // Background luma stays inside 40..=180 so the saturated squares always stand out.
        let luma = Wave::random(&mut rng, 40, 180, spec.width);
        let tint = |rng: &mut SplitMix64| {
            let centre = rng.range(88, 168);
            ((centre - 36) as u8, (centre + 36) as u8)
        };
        let (cb_lo, cb_hi) = tint(&mut rng);
        let (cr_lo, cr_hi) = tint(&mut rng);
        let cb = Wave::random(&mut rng, cb_lo, cb_hi, spec.width / 2);
        let cr = Wave::random(&mut rng, cr_lo, cr_hi, spec.width / 2);
        let mut background = [
            vec![0; width * height],
            vec![0; width * height / 4],
            vec![0; width * height / 4],
        ];
        luma.fill(&mut background[0], width);
        cb.fill(&mut background[1], width / 2);
        cr.fill(&mut background[2], width / 2);
        let bar_height = ((height / 40) & !1).max(2);
        // The squares bounce above the progress bar so it is never hidden.
        let field = height - bar_height;
        let short = width.min(field);
        let mut sprites = [
            Sprite::random(&mut rng, ((short / 5) & !1).max(2), width, field, spec.fps),
            Sprite::random(&mut rng, ((short / 9) & !1).max(2), width, field, spec.fps),
        ];
        if sprites[1].colour == sprites[0].colour {
            let index = PALETTE
                .iter()
                .position(|&c| c == sprites[0].colour)
                .unwrap_or(0);
            sprites[1].colour = PALETTE[(index + 1) % PALETTE.len()];
        }

        Self {
            width,
            height,
            y: vec![0; width * height],
            u: vec![0; width * height / 4],
            v: vec![0; width * height / 4],
            background,
            sprites,
            bar_height,
        }
    }

    fn paint(&mut self, frame: u32, frame_count: u32) {
        let (w, h) = (self.width, self.height);
        // The backdrop stays still on purpose: without OpenH264's assembly (the bundled build has
        // no nasm) motion search costs ~3 µs per moving macroblock, and a panning full-frame
        // backdrop made a 5 s 540p clip take ~1 s instead of ~0.3 s.
        self.y.copy_from_slice(&self.background[0]);
        self.u.copy_from_slice(&self.background[1]);
        self.v.copy_from_slice(&self.background[2]);

        let bar_y = h - self.bar_height;
        for i in 0..self.sprites.len() {
            let sprite = &self.sprites[i];
            let ((x, y), side, colour) =
                (sprite.position(frame, w, bar_y), sprite.side, sprite.colour);
            self.fill_rect(x, y, side, side, colour);
        }

        // A progress bar makes playback position (and dropped or repeated frames) visible at a glance.
        let done = (w as u64 * u64::from(frame + 1) / u64::from(frame_count.max(1))) as usize & !1;
        self.fill_rect(0, bar_y, done, self.bar_height, (235, 128, 128));
        self.fill_rect(done, bar_y, w - done, self.bar_height, (16, 128, 128));
    }

    /// Fills a rectangle whose origin and size are even (callers guarantee it).
    fn fill_rect(
        &mut self,
        x: usize,
        y: usize,
        width: usize,
        height: usize,
        (cy, cu, cv): (u8, u8, u8),
    ) {
        let x_end = (x + width).min(self.width);
        let y_end = (y + height).min(self.height);
        if x >= x_end || y >= y_end {
            return;
        }
        for row in y..y_end {
            let base = row * self.width;
            self.y[base + x..base + x_end].fill(cy);
        }
        let cw = self.width / 2;
        for row in y / 2..y_end / 2 {
            let base = row * cw;
            self.u[base + x / 2..base + x_end / 2].fill(cu);
            self.v[base + x / 2..base + x_end / 2].fill(cv);
        }
    }

    fn slices(&self) -> YUVSlices<'_> {
        YUVSlices::new(
            (&self.y, &self.u, &self.v),
            (self.width, self.height),
            (self.width, self.width / 2, self.width / 2),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Faststart
// ---------------------------------------------------------------------------------------------

/// Rewrites `ftyp, mdat, moov` as `ftyp, moov, mdat`, shifting chunk offsets to match.
///
/// The `mp4` crate can only append `moov` at the end; a browser given such a file over HTTP
/// must fetch the tail before it can start playing. While the `moov` bytes are in hand this
/// also fixes two header fields the crate leaves at odd values (see `patch_moov`).
fn faststart(file: &[u8]) -> Result<Vec<u8>, VideoError> {
    let boxes = child_boxes(file)?;
    let [ftyp, mdat, moov] = boxes.as_slice() else {
        return Err(VideoError::Mux(format!(
            "unexpected top-level layout ({} boxes)",
            boxes.len()
        )));
    };
    if &ftyp.kind != b"ftyp" || &mdat.kind != b"mdat" || &moov.kind != b"moov" {
        return Err(VideoError::Mux("unexpected top-level box order".into()));
    }
    let mut moov_bytes = file[moov.start..moov.end].to_vec();
    let shift = moov_bytes.len() as u64;
    patch_moov(&mut moov_bytes, shift)?;

    let mut out = Vec::with_capacity(file.len());
    out.extend_from_slice(&file[ftyp.start..ftyp.end]);
    out.extend_from_slice(&moov_bytes);
    out.extend_from_slice(&file[mdat.start..mdat.end]);
    Ok(out)
}

struct BoxSpan {
    kind: [u8; 4],
    /// Start of the box header.
    start: usize,
    /// Start of the payload.
    body: usize,
    end: usize,
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

fn child_boxes(data: &[u8]) -> Result<Vec<BoxSpan>, VideoError> {
    let malformed = |at: usize| VideoError::Mux(format!("malformed box at byte {at}"));
    let mut spans = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let size32 = read_u32(data, at).ok_or_else(|| malformed(at))?;
        let kind: [u8; 4] = data
            .get(at + 4..at + 8)
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| malformed(at))?;
        let (size, header) = match size32 {
            0 => ((data.len() - at) as u64, 8),
            1 => (read_u64(data, at + 8).ok_or_else(|| malformed(at))?, 16),
            n => (u64::from(n), 8),
        };
        let end = usize::try_from(size)
            .ok()
            .and_then(|size| at.checked_add(size))
            .filter(|&end| end <= data.len() && end >= at + header)
            .ok_or_else(|| malformed(at))?;
        spans.push(BoxSpan {
            kind,
            start: at,
            body: at + header,
            end,
        });
        at = end;
    }
    Ok(spans)
}

/// Walks `moov` and adjusts what has to change once it sits before `mdat`.
///
/// Besides the chunk offsets, `mvhd.next_track_id` is raised to 2 (the crate writes 1, which
/// claims track 1 is still free) and `tkhd` gets the usual "enabled | in movie" flags (the crate
/// sets only "enabled", which some players treat as a track not meant for playback).
fn patch_moov(moov: &mut [u8], shift: u64) -> Result<(), VideoError> {
    let overflow = || VideoError::Mux("chunk offset overflow while moving moov".into());
    let malformed = |what: &str| VideoError::Mux(format!("malformed {what} box"));
    let mut stack = vec![(0usize, moov.len())];
    while let Some((from, to)) = stack.pop() {
        for span in child_boxes(&moov[from..to])? {
            let (body, end) = (from + span.body, from + span.end);
            match &span.kind {
                b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" => stack.push((body, end)),
                b"mvhd" => {
                    let at = end
                        .checked_sub(4)
                        .filter(|&at| at >= body)
                        .ok_or_else(|| malformed("mvhd"))?;
                    moov[at..end].copy_from_slice(&2u32.to_be_bytes());
                }
                b"tkhd" => {
                    let flags = moov
                        .get_mut(body + 1..body + 4)
                        .ok_or_else(|| malformed("tkhd"))?;
                    flags.copy_from_slice(&[0, 0, 3]);
                }
                b"stco" | b"co64" => {
                    let wide = &span.kind == b"co64";
                    let count = read_u32(moov, body + 4).ok_or_else(|| malformed("stco"))? as usize;
                    let entry = if wide { 8 } else { 4 };
                    let first = body + 8;
                    if first + count * entry > end {
                        return Err(malformed("stco"));
                    }
                    for i in 0..count {
                        let at = first + i * entry;
                        if wide {
                            let old = read_u64(moov, at).ok_or_else(|| malformed("co64"))?;
                            let new = old.checked_add(shift).ok_or_else(overflow)?;
                            moov[at..at + 8].copy_from_slice(&new.to_be_bytes());
                        } else {
                            let old = read_u32(moov, at).ok_or_else(|| malformed("stco"))?;
                            let new =
                                u32::try_from(u64::from(old) + shift).map_err(|_| overflow())?;
                            moov[at..at + 4].copy_from_slice(&new.to_be_bytes());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openh264::decoder::Decoder;
    use openh264::formats::YUVSource;

    fn spec(width: u32, height: u32, seconds: u32, fps: u32, seed: u64) -> VideoSpec {
        VideoSpec {
            width,
            height,
            seconds,
            fps,
            seed,
        }
    }

    fn reader(bytes: &[u8]) -> mp4::Mp4Reader<Cursor<&[u8]>> {
        mp4::Mp4Reader::read_header(Cursor::new(bytes), bytes.len() as u64).expect("parse mp4")
    }

    #[test]
    fn portrait_clip_has_expected_metadata() {
        let bytes = encode_mp4(&spec(360, 640, 2, 24, 7)).expect("encode");
        let mp4 = reader(&bytes);
        assert_eq!(mp4.duration(), std::time::Duration::from_secs(2));
        assert_eq!(mp4.tracks().len(), 1);
        let track = mp4.tracks().get(&1).expect("track 1");
        assert_eq!(track.box_type().expect("sample entry").to_string(), "avc1");
        assert_eq!(
            track.media_type().expect("media type"),
            mp4::MediaType::H264
        );
        assert_eq!((track.width(), track.height()), (360, 640));
        assert_eq!(
            (
                track.trak.tkhd.width.value(),
                track.trak.tkhd.height.value()
            ),
            (360, 640)
        );
        assert_eq!(track.sample_count(), 48);
        assert_eq!(track.duration(), std::time::Duration::from_secs(2));
        assert_eq!(track.trak.tkhd.duration, track.trak.mdia.mdhd.duration);
        let sync = track.trak.mdia.minf.stbl.stss.as_ref().expect("stss");
        assert_eq!(sync.entries, vec![1, 25], "one keyframe per second");
        // Faststart: moov precedes mdat.
        let moov = bytes.windows(4).position(|w| w == b"moov").expect("moov");
        let mdat = bytes.windows(4).position(|w| w == b"mdat").expect("mdat");
        assert!(moov < mdat);
    }

    #[test]
    fn output_is_deterministic_and_seed_dependent() {
        let a = encode_mp4(&spec(320, 180, 1, 12, 42)).expect("encode");
        let b = encode_mp4(&spec(320, 180, 1, 12, 42)).expect("encode");
        let c = encode_mp4(&spec(320, 180, 1, 12, 43)).expect("encode");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// Re-assembles an Annex B access unit from a length-prefixed sample.
    fn annex_b(sps: &[u8], pps: &[u8], sample: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for nal in [sps, pps] {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
        }
        let mut rest = sample;
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().expect("length")) as usize;
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(&rest[4..4 + len]);
            rest = &rest[4 + len..];
        }
        out
    }

    #[test]
    fn samples_decode_back_to_the_painted_frames() {
        let clip = spec(360, 640, 1, 8, 99);
        let bytes = encode_mp4(&clip).expect("encode");
        let mut mp4 = reader(&bytes);
        let track = mp4.tracks().get(&1).expect("track 1");
        let sps = track.sequence_parameter_set().expect("sps").to_vec();
        let pps = track.picture_parameter_set().expect("pps").to_vec();

        let mut decoder = Decoder::new().expect("decoder");
        let mut painter = Painter::new(&clip);
        for sample_id in 1..=8 {
            let sample = mp4
                .read_sample(1, sample_id)
                .expect("read")
                .expect("sample");
            let packet = annex_b(&sps, &pps, &sample.bytes);
            let picture = decoder
                .decode(&packet)
                .expect("decode")
                .expect("a picture per sample");
            assert_eq!(picture.dimensions(), (360, 640));

            // Lossy, but the decoded luma must stay close to what was painted.
            painter.paint(sample_id - 1, 8);
            let (stride, _, _) = picture.strides();
            let mut diff = 0u64;
            for row in 0..640 {
                let decoded = &picture.y()[row * stride..row * stride + 360];
                let painted = &painter.y[row * 360..(row + 1) * 360];
                diff += decoded
                    .iter()
                    .zip(painted)
                    .map(|(a, b)| u64::from(a.abs_diff(*b)))
                    .sum::<u64>();
            }
            let mean = diff as f64 / (360.0 * 640.0);
            assert!(mean < 6.0, "frame {sample_id}: mean luma error {mean}");
        }
    }

    #[test]
    fn invalid_specs_are_rejected() {
        for (w, h) in [
            (0, 640),
            (360, 0),
            (361, 640),
            (360, 641),
            (14, 640),
            (4000, 100),
            (2200, 2200),
        ] {
            assert!(
                matches!(encode_mp4(&spec(w, h, 1, 24, 0)), Err(VideoError::InvalidSize { width, height }) if (width, height) == (w, h)),
                "{w}x{h} accepted"
            );
        }
        for (s, f) in [(0, 24), (5, 0), (MAX_SECONDS + 1, 24), (5, MAX_FPS + 1)] {
            assert!(
                matches!(
                    encode_mp4(&spec(360, 640, s, f, 0)),
                    Err(VideoError::InvalidTiming { .. })
                ),
                "{s}s@{f} accepted"
            );
        }
    }

    #[test]
    fn tiny_and_odd_rate_clips_keep_exact_duration() {
        for clip in [
            spec(16, 16, 1, 1, 1),
            spec(16, 16, 3, 7, 2),
            spec(2160, 16, 1, 5, 3),
            spec(64, 3840, 1, 3, 4),
        ] {
            let bytes = encode_mp4(&clip).expect("encode");
            let mp4 = reader(&bytes);
            let track = mp4.tracks().get(&1).expect("track 1");
            assert_eq!(
                mp4.duration(),
                std::time::Duration::from_secs(u64::from(clip.seconds)),
                "{clip:?}"
            );
            assert_eq!(track.sample_count(), clip.seconds * clip.fps, "{clip:?}");
        }
    }
}
