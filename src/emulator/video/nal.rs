//! H.264 NAL units: parameter sets out of the encoder's Annex B stream, and samples in the
//! length-prefixed form MP4 wants.

use openh264::encoder::EncodedBitStream;

use super::spec::VideoError;

/// SPS and PPS as first emitted by the encoder, without start codes.
#[derive(Default)]
pub(super) struct ParameterSets {
    pub(super) sps: Option<Vec<u8>>,
    pub(super) pps: Option<Vec<u8>>,
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
pub(super) fn to_length_prefixed(
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
