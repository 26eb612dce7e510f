//! What kind of file a name says (an image, a video, ...), and what kind a model parameter
//! takes by its name, with the schema keywords that carry the kinds: a text file uploaded
//! into a model's image input would be a paid Run that fails, so the node layer
//! ([`crate::node::file_kind`]) and the workflow's check compare them before anything is sent.
//!
//! Five keywords carry it: [`FILE_KIND_KEY`] on an input that takes a file's URL (the kind it
//! takes), [`FILE_KIND_OF_KEY`] on an output that is the URL of a file another input of the
//! same node names (`wiro/file.upload`'s `url`, of its `path`), [`FILE_KIND_BY_NAME_KEY`]
//! on an object input whose keys are a model's parameters, [`FILE_KIND_MADE_KEY`] on a
//! model's started task (the kind of files it makes), [`FILE_KIND_OF_TASK_KEY`] on an output
//! that holds the files of the task another input names (`wiro/task.wait`'s `outputs`, of its
//! `task`), and [`RUNS_MODEL_KEY`] on the input that names the model a generic node runs
//! (`wiro/model.run`'s `model`: the kind is that model's).

use crate::api::wire::upload_content_type;

/// The keyword of an input that takes a file's URL: the kind of file it takes (`image`,
/// `video`, `audio`).
pub const FILE_KIND_KEY: &str = "x-file-kind";

/// The keyword of an output that is the URL of the file named by another input of its node:
/// that input's name (`path`).
pub const FILE_KIND_OF_KEY: &str = "x-file-kind-of";

/// The keyword of an object input whose keys are a model's parameters (`wiro/model.run`'s
/// `parameters`): a key that names a kind of file ([`kind_of_parameter`]) takes that kind.
pub const FILE_KIND_BY_NAME_KEY: &str = "x-file-kind-by-name";

/// The keyword of a model node's started-task output: the kind of files its task makes
/// (`video`), read from the model's categories.
pub const FILE_KIND_MADE_KEY: &str = "x-file-kind-made";

/// The keyword of an output that holds the files of the task another input of its node
/// names (a list of them, or a record whose `outputs` lists them): that input's name
/// (`task`).
pub const FILE_KIND_OF_TASK_KEY: &str = "x-file-kind-of-task";

/// The keyword of the input that names the model a generic node runs (`wiro/model.run`'s
/// `model`): given literally, the files its task makes are of that model's
/// [`FILE_KIND_MADE_KEY`].
pub const RUNS_MODEL_KEY: &str = "x-runs-model";

/// The kind of files a model makes, read from its categories when they say one kind
/// plainly (`text-to-video`, `image-generation`, `text-to-speech`); `None` when they say none,
/// or when any category names another kind of output (`image-editing` beside
/// `video-editing`): a refusal read from it has no override, so it is never a guess. A
/// category's part after its last `-to-` is what it makes (`video-to-audio`: audio).
pub fn kind_made_by(categories: &[String]) -> Option<&'static str> {
    const MADE: [(&str, &[&str]); 3] = [
        (
            "video",
            &[
                "video-generation",
                "text-to-video",
                "image-to-video",
                "video-to-video",
            ],
        ),
        (
            "image",
            &[
                "image-generation",
                "text-to-image",
                "image-to-image",
                "image-editing",
            ],
        ),
        (
            "audio",
            &[
                "audio-generation",
                "text-to-speech",
                "text-to-audio",
                "video-to-audio",
                "music-generation",
            ],
        ),
    ];
    const NAMED: [(&str, &[&str]); 3] = [
        ("video", &["video"]),
        ("image", &["image", "photo", "picture"]),
        (
            "audio",
            &["audio", "speech", "music", "voice", "sound", "song"],
        ),
    ];
    let categories: Vec<String> = categories
        .iter()
        .map(|category| category.trim().to_ascii_lowercase())
        .collect();
    let said = |words: &[&str]| categories.iter().any(|c| words.contains(&c.as_str()));
    let mut made = MADE.iter().filter(|(_, words)| said(words));
    let kind = match (made.next(), made.next()) {
        (Some((kind, _)), None) => *kind,
        _ => return None,
    };
    let names_another = categories.iter().any(|category| {
        let makes = category.rsplit("-to-").next().unwrap_or_default();
        NAMED
            .iter()
            .any(|(other, words)| *other != kind && words.iter().any(|w| makes.contains(w)))
    });
    (!names_another).then_some(kind)
}

/// The kind of a file by its name's ending: `image`, `video`, `audio`, `document`, or
/// `archive`; `None` when the ending is not one File/Upload takes.
pub fn kind_of_name(name: &str) -> Option<&'static str> {
    let content_type = upload_content_type(name)?;
    Some(match content_type.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ if content_type == "application/zip" => "archive",
        _ => "document",
    })
}

/// The kind of file a URL names by the last part of its path (`https://x/a.png?s=1` is an
/// image); `None` when its name says none.
pub fn kind_of_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let (_, rest) = path.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    kind_of_name(path.rsplit('/').next().unwrap_or_default())
}

/// The kind of file a model parameter takes, read from its name, as Wiro's Tool/Detail has no
/// field for it: `inputImage`, `firstFrame` take images; `videoUrl` a video; `audioFile`,
/// `voiceSample` audio. `None` when the name says no kind, or more than one.
pub fn kind_of_parameter(id: &str) -> Option<&'static str> {
    let id = id.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|word| id.contains(word));
    let kinds = [
        ("image", says(&["image", "frame", "photo", "picture"])),
        ("video", says(&["video"])),
        (
            "audio",
            says(&["audio", "voice", "speech", "music", "song"]),
        ),
    ];
    let mut said = kinds.iter().filter(|(_, said)| *said);
    match (said.next(), said.next()) {
        (Some((kind, _)), None) => Some(kind),
        _ => None,
    }
}

/// `an image`, `a video`: a kind with its article, for a message.
pub fn a_kind(kind: &str) -> String {
    match kind {
        "image" | "archive" => format!("an {kind}"),
        "audio" => "an audio file".into(),
        _ => format!("a {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_s_kind_is_read_from_its_name_and_a_parameter_s_from_its_id() {
        assert_eq!(kind_of_name("meadow.PNG"), Some("image"));
        assert_eq!(kind_of_name("t.csv"), Some("document"));
        assert_eq!(kind_of_name("clip.mov"), Some("video"));
        assert_eq!(kind_of_name("a.zip"), Some("archive"));
        assert_eq!(kind_of_name("noending"), None);
        assert_eq!(
            kind_of_url("https://cdn.x/u/a.png?sig=1.txt"),
            Some("image")
        );
        assert_eq!(
            kind_of_url("https://cdn.x/notes.txt#a.png"),
            Some("document")
        );
        assert_eq!(
            kind_of_url("https://cdn.x.png"),
            None,
            "a host is no file name"
        );
        assert_eq!(kind_of_url("https://cdn.x/get?id=7"), None);
        assert_eq!(kind_of_parameter("inputImageUrl"), Some("image"));
        assert_eq!(kind_of_parameter("firstFrame"), Some("image"));
        assert_eq!(kind_of_parameter("videoUrl"), Some("video"));
        assert_eq!(kind_of_parameter("voiceSample"), Some("audio"));
        assert_eq!(kind_of_parameter("videoFrame"), None, "two kinds say none");
        assert_eq!(kind_of_parameter("inputFile"), None);
        let made = |categories: &[&str]| {
            kind_made_by(&categories.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(made(&["video-generation", "text-to-video"]), Some("video"));
        assert_eq!(made(&["Text-to-Image "]), Some("image"));
        assert_eq!(
            made(&["image-to-video", "image-generation"]),
            None,
            "two kinds"
        );
        assert_eq!(made(&["llm", "chat"]), None);
        assert_eq!(made(&["upscale"]), None);
        assert_eq!(made(&["video-generation", "image-to-video"]), Some("video"));
        assert_eq!(
            made(&["image-editing", "video-editing", "background-removal"]),
            None,
            "another category names a video"
        );
        assert_eq!(made(&["video-to-audio", "audio-generation"]), Some("audio"));
    }
}
