//! The project's file storage: File/FolderCreate and File/Upload (streamed, never retried).

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_util::io::ReaderStream;

use crate::api::client::{first_of, Repeat};
use crate::api::wire::{upload_content_type, FileList, Folder, UploadedFile, MAX_UPLOAD_BYTES};
use crate::api::{Client, Error, Result};

impl Client {
    /// `POST /File/FolderCreate`: a folder for uploads, optionally inside `parent`.
    pub async fn folder_create(&self, name: &str, parent: Option<&str>) -> Result<Folder> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(Error::invalid(
                "name",
                format!("{name:?} must be letters, digits, '-' or '_' (and not empty)"),
            ));
        }
        let mut body = json!({ "name": name });
        if let Some(parent) = parent {
            body["parentid"] = json!(parent);
        }
        let list: FileList<Folder> = self
            .send("File/FolderCreate", Repeat::Safe, || {
                Ok(self.post("File/FolderCreate").json(&body))
            })
            .await?;
        first_of(list.list, "File/FolderCreate")
    }

    /// `POST /File/Upload`: streams a local file (never held in memory) into the project's
    /// storage, optionally into `folder`. Files over 100 MB or of a type Wiro refuses are
    /// rejected before anything is sent. Never retried once the upload has begun.
    pub async fn upload(&self, path: &Path, folder: Option<&str>) -> Result<UploadedFile> {
        Ok(self.upload_hashed(path, folder).await?.0)
    }

    /// [`Client::upload`], with the SHA-256 (lowercase hex) of the bytes sent: the file as the
    /// server got it, whatever the file on disk holds by the time the upload ends.
    pub async fn upload_hashed(
        &self,
        path: &Path,
        folder: Option<&str>,
    ) -> Result<(UploadedFile, String)> {
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| Error::invalid("file", format!("{} has no file name", path.display())))?
            .to_owned();
        let content_type = upload_content_type(&file_name).ok_or_else(|| {
            Error::invalid(
                "file",
                format!(
                    "{file_name}: this type is not accepted by File/Upload (images jpg png gif webp heic, video mp4 webm mov, audio mp3 wav m4a, documents pdf csv docx xlsx pptx txt md epub, zip)"
                ),
            )
        })?;
        let metadata = tokio::fs::metadata(path)
            .await
            .map_err(|source| Error::io(path, source))?;
        if !metadata.is_file() {
            return Err(Error::invalid(
                "file",
                format!("{} is not a file", path.display()),
            ));
        }
        let size = metadata.len();
        if size > MAX_UPLOAD_BYTES {
            return Err(Error::invalid(
                "file",
                format!(
                    "{file_name} is {size} bytes; File/Upload takes at most {MAX_UPLOAD_BYTES} bytes (100 MB)"
                ),
            ));
        }
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let list: FileList<UploadedFile> = self
            .send("File/Upload", Repeat::Never, || {
                let file = std::fs::File::open(path).map_err(|source| Error::io(path, source))?;
                let hashing = Arc::clone(&hasher);
                let stream =
                    ReaderStream::new(tokio::fs::File::from_std(file)).inspect_ok(move |chunk| {
                        if let Ok(mut hasher) = hashing.lock() {
                            hasher.update(chunk);
                        }
                    });
                let part = reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(stream),
                    size,
                )
                .file_name(file_name.clone())
                .mime_str(content_type)
                .map_err(|problem| Error::invalid("file", problem.to_string()))?;
                let mut form = reqwest::multipart::Form::new().part("file", part);
                if let Some(folder) = folder {
                    form = form.text("folderid", folder.to_owned());
                }
                Ok(self.post("File/Upload").multipart(form))
            })
            .await?;
        let uploaded = first_of(list.list, "File/Upload")?;
        let digest =
            std::mem::take(&mut *hasher.lock().map_err(|_| {
                Error::io(path, std::io::Error::other("the upload's hash was lost"))
            })?);
        Ok((uploaded, hex::encode(digest.finalize())))
    }
}
