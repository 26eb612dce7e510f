//! A real PNG (8-bit RGB, zlib-compressed with `miniz_oxide`): a deterministic pattern of
//! coloured blocks over a gradient, picked by a seed, so every output image opens in a
//! viewer and equal seeds give identical files.

/// The largest side accepted: Tool/Detail's image models go up to 1536 pixels.
pub(crate) const MAX_SIDE: u32 = 1536;

/// Why an image could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image size {width}x{height}: sides must be 1..={MAX_SIDE}")]
pub(crate) struct SizeError {
    width: u32,
    height: u32,
}

/// Encodes a `width`×`height` RGB PNG whose colours and layout come from `seed`.
pub(crate) fn encode_png(width: u32, height: u32, seed: u64) -> Result<Vec<u8>, SizeError> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(SizeError { width, height });
    }
    let raw = scanlines(width, height, seed);
    // Level 1: the pattern has long runs, so the fastest level already shrinks it ~50 times.
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut png = Vec::with_capacity(compressed.len() + 64);
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &compressed);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

/// The unfiltered rows (filter byte 0, then RGB triples).
fn scanlines(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let palette = palette(seed);
    let block = 32 + (seed % 4) as u32 * 16;
    let row_len = 1 + 3 * width as usize;
    let mut raw = Vec::with_capacity(row_len * height as usize);
    for y in 0..height {
        raw.push(0);
        let shade = (y * 96 / height) as u8;
        for x in 0..width {
            let cell = (x / block + y / block + (x / block) * (y / block) % 3) as usize;
            let [r, g, b] = palette[cell % palette.len()];
            raw.extend_from_slice(&[r.saturating_add(shade), g.saturating_add(shade / 2), b]);
        }
    }
    raw
}

/// Four colours drawn from the seed (a splitmix64 sequence).
fn palette(seed: u64) -> [[u8; 3]; 4] {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut colours = [[0; 3]; 4];
    for colour in &mut colours {
        let bits = next().to_le_bytes();
        // Kept below 160 so the gradient added on top does not clip everywhere.
        *colour = [bits[0] % 160, bits[1] % 160, bits[2] % 160];
    }
    colours
}

/// Appends one chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    png.extend_from_slice(&length.to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO 3309, the one PNG chunks carry), bit by bit: a few hundred kilobytes per image
/// at most, so a table would buy nothing that matters.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks of a PNG as (type, data), checking each CRC on the way.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut found = Vec::new();
        let mut at = 8;
        while at < png.len() {
            let length = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let body = &png[at + 4..at + 8 + length];
            let crc =
                u32::from_be_bytes(png[at + 8 + length..at + 12 + length].try_into().unwrap());
            assert_eq!(crc32(body), crc, "CRC of {:?}", &body[..4]);
            found.push((body[..4].try_into().unwrap(), body[4..].to_vec()));
            at += 12 + length;
        }
        assert_eq!(at, png.len());
        found
    }

    #[test]
    fn the_crc_is_the_standard_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn a_png_decodes_to_its_size_and_pixels() {
        let png = encode_png(300, 200, 7).unwrap();
        assert_eq!(
            crate::emulator::image_size::dimensions(&png),
            Some((300, 200))
        );
        let chunks = chunks(&png);
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(kind, _)| kind).collect();
        assert_eq!(kinds, [b"IHDR", b"IDAT", b"IEND"]);
        assert_eq!(&chunks[0].1[8..], &[8, 2, 0, 0, 0]);
        let pixels = miniz_oxide::inflate::decompress_to_vec_zlib(&chunks[1].1).unwrap();
        assert_eq!(pixels.len(), 200 * (1 + 3 * 300));
        assert!(pixels.chunks(1 + 3 * 300).all(|row| row[0] == 0));
    }

    #[test]
    fn equal_seeds_give_equal_files_and_sizes_are_bounded() {
        assert_eq!(encode_png(64, 48, 1), encode_png(64, 48, 1));
        assert_ne!(encode_png(64, 48, 1), encode_png(64, 48, 2));
        assert!(encode_png(MAX_SIDE, MAX_SIDE, 3).is_ok());
        assert!(encode_png(0, 10, 3).is_err());
        assert!(encode_png(MAX_SIDE + 1, 10, 3).is_err());
    }
}
