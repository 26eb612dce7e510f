//! "Faststart": moves the `moov` box before `mdat` (shifting chunk offsets) so a player can
//! start before the whole file has arrived.

use super::spec::VideoError;

/// Rewrites `ftyp, mdat, moov` as `ftyp, moov, mdat`, shifting chunk offsets to match.
///
/// The `mp4` crate can only append `moov` at the end; a browser given such a file over HTTP
/// must fetch the tail before it can start playing. While the `moov` bytes are in hand this
/// also fixes two header fields the crate leaves at odd values (see `patch_moov`).
pub(super) fn faststart(file: &[u8]) -> Result<Vec<u8>, VideoError> {
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
