//! Reads the pixel size of an uploaded image from its header, for every image type File/Upload
//! accepts (PNG, JPEG, GIF, WebP, HEIC/HEIF), so image-to-video keeps the image's shape.

/// Width and height of a PNG, JPEG, GIF, WebP or HEIC/HEIF image (a HEIC's `irot` rotation
/// applied); `None` for anything else or a damaged header.
pub(crate) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    // The `imagesize` crate is built with exactly these five formats (see Cargo.toml).
    let size = imagesize::blob_size(bytes).ok()?;
    let width = u32::try_from(size.width).ok()?;
    let height = u32::try_from(size.height).ok()?;
    (width > 0 && height > 0).then_some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ISO-BMFF box: 32-bit size, four-character type, payload.
    fn iso_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut bytes = u32::try_from(8 + payload.len())
            .unwrap()
            .to_be_bytes()
            .to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn png_size_comes_from_the_ihdr_chunk() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&300u32.to_be_bytes());
        png.extend_from_slice(&400u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        assert_eq!(dimensions(&png), Some((300, 400)));
    }

    #[test]
    fn jpeg_size_comes_from_the_start_of_frame_after_other_segments() {
        // SOI, an APP0 segment of 4 bytes, then SOF0 with height 720 and width 1280.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02,
            0xD0, 0x05, 0x00,
        ];
        assert_eq!(dimensions(&jpeg), Some((1280, 720)));
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF]), None);
    }

    #[test]
    fn gif_size_comes_from_the_logical_screen() {
        // Header, then width 480 and height 270 (little-endian), flags, background, aspect.
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&480u16.to_le_bytes());
        gif.extend_from_slice(&270u16.to_le_bytes());
        gif.extend_from_slice(&[0, 0, 0]);
        gif.push(b';');
        assert_eq!(dimensions(&gif), Some((480, 270)));
    }

    #[test]
    fn webp_size_comes_from_each_kind_of_first_chunk() {
        // Lossy (VP8): a key frame's tag and start code, then width and height.
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
        vp8.extend_from_slice(&[0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]);
        vp8.extend_from_slice(&640u16.to_le_bytes());
        vp8.extend_from_slice(&360u16.to_le_bytes());
        assert_eq!(dimensions(&vp8), Some((640, 360)));

        // Lossless (VP8L): a signature byte, then width-1 and height-1 in 14 bits each.
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let packed: u32 = (199) | (99 << 14);
        vp8l.extend_from_slice(&packed.to_le_bytes());
        assert_eq!(dimensions(&vp8l), Some((200, 100)));

        // Extended (VP8X): flags, then canvas width-1 and height-1 in 24 bits each.
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&1079u32.to_le_bytes()[..3]);
        vp8x.extend_from_slice(&1919u32.to_le_bytes()[..3]);
        assert_eq!(dimensions(&vp8x), Some((1080, 1920)));
    }

    #[test]
    fn heic_size_comes_from_the_image_spatial_extents() {
        // ftyp (brand heic), then meta > iprp > ipco > ispe (version/flags, width, height).
        let ftyp = iso_box(b"ftyp", b"heic\0\0\0\0mif1heic");
        let mut ispe_payload = vec![0; 4];
        ispe_payload.extend_from_slice(&4032u32.to_be_bytes());
        ispe_payload.extend_from_slice(&3024u32.to_be_bytes());
        let heic = |rotation: Option<u8>| {
            let mut properties = iso_box(b"ispe", &ispe_payload);
            if let Some(rotation) = rotation {
                properties.extend(iso_box(b"irot", &[rotation]));
            }
            let ipco = iso_box(b"ipco", &properties);
            let iprp = iso_box(b"iprp", &ipco);
            let mut meta_payload = vec![0; 4];
            meta_payload.extend(iprp);
            let mut file = ftyp.clone();
            file.extend(iso_box(b"meta", &meta_payload));
            file
        };
        assert_eq!(dimensions(&heic(None)), Some((4032, 3024)));
        // Turned a quarter: a portrait photo.
        assert_eq!(dimensions(&heic(Some(1))), Some((3024, 4032)));
    }

    #[test]
    fn other_files_have_no_size() {
        assert_eq!(dimensions(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), None);
        assert_eq!(
            dimensions(b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0"),
            None
        );
        assert_eq!(dimensions(b""), None);
    }
}
