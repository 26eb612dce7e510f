//! Folders and uploaded files, as File/FolderCreate and File/Upload answer them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::WireNumber;

/// The documented upload limit per file (100 MB, taken as 100 MiB).
pub const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// File endings File/Upload accepts, with the content type each is sent as.
pub const UPLOAD_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("heic", "image/heic"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("m4a", "audio/mp4"),
    ("pdf", "application/pdf"),
    ("csv", "text/csv"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    ("epub", "application/epub+zip"),
    ("zip", "application/zip"),
];

/// The content type File/Upload accepts for a file name, by its ending; `None` if refused.
pub fn upload_content_type(file_name: &str) -> Option<&'static str> {
    let (_, ending) = file_name.rsplit_once('.')?;
    let ending = ending.to_ascii_lowercase();
    UPLOAD_TYPES
        .iter()
        .find(|(known, _)| *known == ending)
        .map(|(_, content_type)| *content_type)
}

/// A folder in the project's file storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "Folder", extend("x-port-type" = "Folder"))]
pub struct Folder {
    /// The folder's id; pass it as `folderid` to upload into it.
    #[serde(deserialize_with = "super::lenient::string_or_number")]
    pub id: String,
    /// The folder's name.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub name: String,
    /// The parent folder's id, if any.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub parentid: Option<String>,
    /// Fields the server sent that this crate does not model, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A file stored by File/Upload; its `url` is what model inputs take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "UploadedFile", extend("x-port-type" = "UploadedFile"))]
pub struct UploadedFile {
    /// The file's id.
    #[serde(deserialize_with = "super::lenient::string_or_number")]
    pub id: String,
    /// The stored file name.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub name: String,
    /// The file's content type, e.g. `image/png`.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub contenttype: String,
    /// Size in bytes, as the server wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<WireNumber>,
    /// A public, read-only address of the file: give it to model inputs such as `inputImageUrl`.
    #[serde(default, deserialize_with = "super::lenient::string_or_number")]
    pub url: String,
    /// The folder the file is in, if any.
    #[serde(
        default,
        deserialize_with = "super::lenient::opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub parentid: Option<String>,
    /// Fields the server sent that this crate does not model, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of File/FolderCreate and File/Upload answers: a `list` (older servers: `data`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct FileList<T> {
    /// The created folders or stored files.
    #[serde(
        default = "Vec::new",
        alias = "data",
        deserialize_with = "super::lenient::null_as_default"
    )]
    pub list: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_follows_the_ending_case_insensitively() {
        assert_eq!(upload_content_type("cat.PNG"), Some("image/png"));
        assert_eq!(upload_content_type("a.b.mov"), Some("video/quicktime"));
        assert_eq!(upload_content_type("tool.exe"), None);
        assert_eq!(upload_content_type("no-ending"), None);
    }

    #[test]
    fn upload_answer_keeps_unknown_fields() {
        let list: FileList<UploadedFile> = serde_json::from_str(
            r#"{"list":[{"id":77,"name":"cat.png","contenttype":"image/png","size":"1024",
                "parentid":null,"url":"https://cdn1.wiro.ai/x/cat.png","addedtime":"1700000000",
                "accesskey":"abc"}]}"#,
        )
        .unwrap();
        let file = &list.list[0];
        assert_eq!(file.id, "77");
        assert_eq!(file.size.as_ref().and_then(WireNumber::as_u64), Some(1024));
        assert_eq!(file.parentid, None);
        assert_eq!(file.extra["accesskey"], "abc");
    }

    #[test]
    fn early_folder_answer_with_data_is_read() {
        let list: FileList<Folder> =
            serde_json::from_str(r#"{"data":[{"id":"5","name":"in","parentId":"1"}]}"#).unwrap();
        assert_eq!(list.list[0].id, "5");
        assert_eq!(list.list[0].extra["parentId"], "1");
    }
}
