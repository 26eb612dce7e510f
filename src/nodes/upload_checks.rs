//! What `wiro/file.upload` checks about a local file before anything is sent: that the
//! workflow may read it, that it is a regular file Wiro takes (by size and name), and that its
//! first bytes are what its name says — a `.png` that is really an executable is refused.

use std::io::Read;
use std::path::PathBuf;

use crate::api::wire::{upload_content_type, MAX_UPLOAD_BYTES};
use crate::node::{InputProblem, Walls};

/// The port the path comes in on.
const PORT: &str = "path";

/// The real path of the file to upload, or what is wrong with it.
pub(crate) fn check_upload(files: &Walls, path: &str) -> Result<PathBuf, InputProblem> {
    let wanted = files.resolve(path);
    let real = files
        .access
        .check(&wanted)
        .map_err(|message| InputProblem::new(PORT, "file-readable", message))?;
    let metadata = std::fs::metadata(&real)
        .map_err(|error| InputProblem::new(PORT, "file-readable", format!("{path}: {error}")))?;
    if !metadata.is_file() {
        return Err(InputProblem::new(
            PORT,
            "regular-file",
            format!("{path} is not a regular file"),
        ));
    }
    if metadata.len() > MAX_UPLOAD_BYTES {
        return Err(InputProblem::new(
            PORT,
            "max-size",
            format!(
                "{path} is {} bytes; File/Upload takes at most {MAX_UPLOAD_BYTES} bytes (100 MB)",
                metadata.len()
            ),
        ));
    }
    // The user wrote one name (a link's, say); the server is given the file's own, links
    // followed (`Client::upload` of the path returned): both must be a type it takes.
    for name in [&wanted, &real] {
        let name = name
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if upload_content_type(name).is_none() {
            return Err(InputProblem::new(
                PORT,
                "file-type",
                format!("{name}: File/Upload does not take this type (images jpg png gif webp heic, video mp4 webm mov, audio mp3 wav m4a, documents pdf csv docx xlsx pptx txt md epub, zip)"),
            ));
        }
    }
    let ending = real
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(&real)
        .and_then(|file| file.take(512).read_to_end(&mut head))
        .map_err(|error| InputProblem::new(PORT, "file-readable", format!("{path}: {error}")))?;
    if !content_matches(&ending, &head) {
        return Err(InputProblem::new(
            PORT,
            "file-content",
            format!(
                "{path}: its content is not {ending} (it starts with {:02x?})",
                &head[..head.len().min(8)]
            ),
        ));
    }
    Ok(real)
}

/// Whether a file's first bytes fit its ending.
fn content_matches(ending: &str, head: &[u8]) -> bool {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    let iso_box = || {
        [&b"ftyp"[..], b"moov", b"mdat", b"wide", b"free", b"skip"]
            .iter()
            .any(|kind| at(4, kind))
    };
    match ending {
        "jpg" | "jpeg" => at(0, &[0xFF, 0xD8, 0xFF]),
        "png" => at(0, b"\x89PNG\r\n\x1a\n"),
        "gif" => at(0, b"GIF87a") || at(0, b"GIF89a"),
        "webp" => at(0, b"RIFF") && at(8, b"WEBP"),
        "heic" | "mp4" | "mov" | "m4a" => iso_box(),
        "webm" => at(0, &[0x1A, 0x45, 0xDF, 0xA3]),
        "mp3" => at(0, b"ID3") || head.first() == Some(&0xFF),
        "wav" => at(0, b"RIFF") && at(8, b"WAVE"),
        "pdf" => at(0, b"%PDF"),
        "zip" | "docx" | "xlsx" | "pptx" | "epub" => at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06"),
        // Text: no NUL byte in its start.
        "txt" | "md" | "csv" => !head.contains(&0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::FileAccess;

    fn files(dir: &std::path::Path) -> Walls {
        Walls {
            input_dir: dir.to_owned(),
            access: FileAccess::inside([dir]),
            fetch: crate::api::FetchRules::new(
                Vec::new(),
                &[],
                crate::api::SealKey::from_bytes([0; 32]),
            ),
        }
    }

    #[test]
    fn a_file_is_refused_by_existence_kind_type_and_content_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let png = b"\x89PNG\r\n\x1a\n0000";
        std::fs::write(dir.path().join("ok.png"), png).unwrap();
        std::fs::write(dir.path().join("fake.png"), b"MZ\x90\x00 an executable").unwrap();
        std::fs::write(dir.path().join("tool.exe"), b"MZ").unwrap();
        std::fs::create_dir(dir.path().join("folder.png")).unwrap();
        let files = files(dir.path());
        assert!(check_upload(&files, "ok.png").is_ok());
        let rule = |path: &str| check_upload(&files, path).unwrap_err().rule;
        assert_eq!(rule("missing.png"), "file-readable");
        assert_eq!(rule("fake.png"), "file-content");
        assert_eq!(rule("tool.exe"), "file-type");
        assert_eq!(rule("folder.png"), "regular-file");
        assert_eq!(rule("../outside.png"), "file-readable");
    }

    #[test]
    fn each_accepted_type_is_known_by_its_first_bytes() {
        assert!(content_matches("jpg", &[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(content_matches("mp4", b"\0\0\0\x18ftypisom"));
        assert!(content_matches("webp", b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(content_matches("md", b"# title"));
        assert!(!content_matches("txt", b"\0\x01binary"));
        assert!(!content_matches("gif", b"\x89PNG"));
    }
}
