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
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode,
    SpsPpsStrategy, UsageType, VuiConfig,
};
use openh264::{OpenH264API, Timestamp};

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

mod faststart;
mod nal;
mod picture;
mod spec;

pub use spec::{VideoError, VideoSpec};

use faststart::faststart;
use nal::{to_length_prefixed, ParameterSets};
use picture::Painter;
use spec::validate;

#[cfg(test)]
mod tests {
    use super::spec::{MAX_FPS, MAX_SECONDS};
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
