//! The rules a PixVerse v4 request must follow, their stable ids, and the output frame sizes.
//!
//! Three cross-field rules hold for every PixVerse v4 model: **1080p cannot be 8 s; 1080p
//! cannot be fast; fast needs 5 s.** They are written once, in [`CROSS_FIELD_RULES`], and from
//! there reach both [`ModelParameters::validate`](crate::models::ModelParameters::validate) and
//! the JSON Schema (an `allOf` of `if`/`then` blocks). A broken rule is reported, never repaired:
//! which choice gives way is the user's call.
//!
//! ```
//! use serde_json::json;
//! use wiro_nodes::models::pixverse::rules::{check_partial, NOT_FAST_AT_1080P};
//!
//! // `duration` comes from another node and is not known yet; the rest is already wrong.
//! let inputs = json!({ "quality": "1080p", "motionMode": "fast" });
//! let problems = check_partial(inputs.as_object().unwrap());
//! assert_eq!(problems.len(), 1);
//! assert_eq!(problems[0].rule, NOT_FAST_AT_1080P);
//! ```

use schemars::Schema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::options::{AspectRatio, Duration, MotionMode, Quality};
use crate::models::ParameterProblem;

/// Rule id: at 1080p the video can only be 5 s long.
pub const MAX_5S_AT_1080P: &str = "pixverse/1080p-max-5s";
/// Rule id: at 1080p the motion mode can only be normal.
pub const NOT_FAST_AT_1080P: &str = "pixverse/1080p-not-fast";
/// Rule id: fast motion only comes with 5 s videos.
pub const FAST_NEEDS_5S: &str = "pixverse/fast-needs-5s";
/// Rule id: a text is longer than its limit.
pub const MAX_LENGTH: &str = "max-length";
/// Rule id: a text is shorter than its minimum (an empty prompt).
pub const MIN_LENGTH: &str = "min-length";
/// A prompt that holds only white space.
pub const NOT_BLANK: &str = "not-blank";
/// Rule id: a number lies outside its allowed range.
pub const RANGE: &str = "range";
/// Rule id: an address is not an http(s) URL.
pub const URL: &str = "url";
/// Rule id: a value is not one of the field's allowed values.
pub const ONE_OF: &str = "one-of";

/// The most characters (not bytes) a prompt or negative prompt may have.
pub const MAX_PROMPT_CHARS: usize = 2048;
/// The largest seed PixVerse accepts.
pub const MAX_SEED: u32 = 2_147_483_647;

/// One cross-field rule: when one field has a value, another field must not have a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossFieldRule {
    /// Stable id, e.g. `pixverse/1080p-max-5s`.
    pub id: &'static str,
    /// The rule in a few words, e.g. "1080p cannot be 8 s".
    pub title: &'static str,
    /// The rule as a sentence for a person.
    pub description: &'static str,
    when: Choice,
    forbids: Choice,
    message: &'static str,
}

impl CrossFieldRule {
    /// The field a broken rule is reported on (the one the rule forbids a value of).
    pub fn field(&self) -> &'static str {
        self.forbids.field()
    }

    /// This rule as a JSON Schema `if`/`then` block. The `if` requires its field, because an
    /// absent field means its default, and no default takes part in any rule.
    fn schema_block(&self) -> Value {
        let (when_field, forbidden_field) = (self.when.field(), self.forbids.field());
        json!({
            "title": self.title,
            "description": self.description,
            "x-rule-id": self.id,
            "if": {
                "properties": { (when_field): { "const": self.when.to_json() } },
                "required": [when_field]
            },
            "then": {
                "properties": { (forbidden_field): { "not": { "const": self.forbids.to_json() } } }
            }
        })
    }
}

/// Every PixVerse v4 cross-field rule.
pub const CROSS_FIELD_RULES: [CrossFieldRule; 3] = [
    CrossFieldRule {
        id: MAX_5S_AT_1080P,
        title: "1080p cannot be 8 s",
        description: "At 1080p quality PixVerse makes only 5-second videos.",
        when: Choice::Quality(Quality::P1080),
        forbids: Choice::Duration(Duration::Seconds8),
        message: "8 s is not available at 1080p (PixVerse allows only 5 s at 1080p); \
                  choose 5 s or a lower quality",
    },
    CrossFieldRule {
        id: NOT_FAST_AT_1080P,
        title: "1080p cannot be fast",
        description: "At 1080p quality PixVerse offers only normal motion.",
        when: Choice::Quality(Quality::P1080),
        forbids: Choice::MotionMode(MotionMode::Fast),
        message: "fast motion is not available at 1080p (PixVerse allows only normal motion \
                  at 1080p); choose normal motion or a lower quality",
    },
    CrossFieldRule {
        id: FAST_NEEDS_5S,
        title: "fast needs 5 s",
        description: "Fast motion is available only for 5-second videos.",
        when: Choice::MotionMode(MotionMode::Fast),
        forbids: Choice::Duration(Duration::Seconds8),
        message: "8 s is not available with fast motion (PixVerse allows only 5 s with fast \
                  motion); choose 5 s or normal motion",
    },
];

/// One value of one field that takes part in a cross-field rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Quality(Quality),
    Duration(Duration),
    MotionMode(MotionMode),
}

impl Choice {
    fn field(self) -> &'static str {
        match self {
            Self::Quality(_) => Quality::FIELD,
            Self::Duration(_) => Duration::FIELD,
            Self::MotionMode(_) => MotionMode::FIELD,
        }
    }

    /// The value in its native JSON form, as the schema compares it.
    fn to_json(self) -> Value {
        match self {
            Self::Quality(q) => q.as_str().into(),
            Self::Duration(d) => d.seconds().into(),
            Self::MotionMode(m) => m.as_str().into(),
        }
    }
}

/// The values the cross-field rules look at; `None` is "not known yet", which breaks nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Known {
    pub quality: Option<Quality>,
    pub duration: Option<Duration>,
    pub motion_mode: Option<MotionMode>,
}

impl Known {
    fn has(&self, choice: Choice) -> bool {
        match choice {
            Choice::Quality(q) => self.quality == Some(q),
            Choice::Duration(d) => self.duration == Some(d),
            Choice::MotionMode(m) => self.motion_mode == Some(m),
        }
    }

    /// Every cross-field rule these values break, in the order of [`CROSS_FIELD_RULES`].
    pub fn problems(&self) -> Vec<ParameterProblem> {
        CROSS_FIELD_RULES
            .iter()
            .filter(|rule| self.has(rule.when) && self.has(rule.forbids))
            .map(|rule| ParameterProblem::new(rule.field(), rule.id, rule.message))
            .collect()
    }
}

/// The cross-field rules applied to a partial input, e.g. while a workflow is being checked and
/// some inputs will only come from other nodes.
///
/// Reads `quality`, `duration` and `motionMode` in native or wire form (`8` or `"8"`); an absent
/// field counts as its default, and a value it cannot read is skipped (the schema check reports
/// it). Works for every PixVerse v4 model.
pub fn check_partial(inputs: &Map<String, Value>) -> Vec<ParameterProblem> {
    let mut problems: Vec<ParameterProblem> = inputs
        .get("prompt")
        .and_then(Value::as_str)
        .and_then(blank_prompt)
        .into_iter()
        .collect();
    problems.extend(
        Known {
            quality: read(inputs, Quality::FIELD),
            duration: read(inputs, Duration::FIELD),
            motion_mode: read(inputs, MotionMode::FIELD),
        }
        .problems(),
    );
    problems
}

/// A prompt of spaces alone says nothing, and would be paid for all the same.
fn blank_prompt(prompt: &str) -> Option<ParameterProblem> {
    (!prompt.is_empty() && prompt.trim().is_empty()).then(|| {
        ParameterProblem::new(
            "prompt",
            NOT_BLANK,
            "holds only white space; describe the video to make",
        )
    })
}

fn read<T: for<'de> Deserialize<'de> + Default>(
    inputs: &Map<String, Value>,
    field: &str,
) -> Option<T> {
    match inputs.get(field) {
        None => Some(T::default()),
        Some(value) => T::deserialize(value).ok(),
    }
}

/// Adds the cross-field rules to a model's schema as an `allOf` of `if`/`then` blocks.
pub(super) fn add_to_schema(schema: &mut Schema) {
    let blocks = CROSS_FIELD_RULES.iter().map(CrossFieldRule::schema_block);
    let object = schema.ensure_object();
    match object.get_mut("allOf") {
        Some(Value::Array(all_of)) => all_of.extend(blocks),
        _ => {
            object.insert("allOf".into(), Value::Array(blocks.collect()));
        }
    }
}

/// The checks every PixVerse v4 model shares: prompt lengths, seed range, cross-field rules.
pub(super) fn check_shared(
    prompt: &str,
    negative_prompt: &str,
    seed: Option<u32>,
    known: Known,
) -> Vec<ParameterProblem> {
    let mut problems = Vec::new();
    check_length("prompt", prompt, 1, MAX_PROMPT_CHARS, &mut problems);
    problems.extend(blank_prompt(prompt));
    check_length(
        "negativePrompt",
        negative_prompt,
        0,
        MAX_PROMPT_CHARS,
        &mut problems,
    );
    if let Some(seed) = seed.filter(|seed| *seed > MAX_SEED) {
        problems.push(ParameterProblem::new(
            "seed",
            RANGE,
            format!(
                "{seed} is out of range; choose a whole number from 0 to {MAX_SEED}, \
                 or leave it empty for a random seed"
            ),
        ));
    }
    problems.extend(known.problems());
    problems
}

/// Counts characters, not bytes, as PixVerse and JSON Schema's `maxLength` do.
fn check_length(
    field: &str,
    text: &str,
    min: usize,
    max: usize,
    problems: &mut Vec<ParameterProblem>,
) {
    let count = text.chars().count();
    if count < min {
        let message = if count == 0 {
            format!("is empty; it needs at least {min} character(s)")
        } else {
            format!("has {count} character(s); it needs at least {min}")
        };
        problems.push(ParameterProblem::new(field, MIN_LENGTH, message));
    } else if count > max {
        problems.push(ParameterProblem::new(
            field,
            MAX_LENGTH,
            format!("has {count} characters; PixVerse accepts at most {max}, shorten it"),
        ));
    }
}

/// Checks that `value` is an absolute http or https URL with a host.
pub(super) fn check_http_url(field: &str, value: &str, problems: &mut Vec<ParameterProblem>) {
    if !is_http_url(value) {
        problems.push(ParameterProblem::new(
            field,
            URL,
            format!(
                "{value:?} is not an http(s) URL; give a public http:// or https:// address, \
                 such as the url a file upload returns"
            ),
        ));
    }
}

/// A scheme and host check, enough to catch a file path or a typo before money is spent.
fn is_http_url(value: &str) -> bool {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, after)| after);
    let (host, port) = match host_and_port.strip_prefix('[') {
        // An IPv6 literal, e.g. `[::1]:8080`.
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':').unwrap_or(after)),
            None => return false,
        },
        None => host_and_port.split_once(':').unwrap_or((host_and_port, "")),
    };
    !host.is_empty() && port.chars().all(|c| c.is_ascii_digit())
}

/// The width and height in pixels of a video at this quality and aspect ratio.
///
/// The quality names the short side; the long side follows from the ratio.
///
/// ```
/// use wiro_nodes::models::pixverse::{frame_size, AspectRatio, Quality};
///
/// assert_eq!(frame_size(Quality::P540, AspectRatio::Landscape16x9), (960, 540));
/// assert_eq!(frame_size(Quality::P1080, AspectRatio::Portrait9x16), (1080, 1920));
/// ```
pub fn frame_size(quality: Quality, aspect: AspectRatio) -> (u32, u32) {
    let short = match quality {
        Quality::P360 => 360,
        Quality::P540 => 540,
        Quality::P720 => 720,
        Quality::P1080 => 1080,
    };
    // Every quality is divisible by 9 and 3, so the long side is exact.
    match aspect {
        AspectRatio::Landscape16x9 => (short * 16 / 9, short),
        AspectRatio::Landscape4x3 => (short * 4 / 3, short),
        AspectRatio::Square1x1 => (short, short),
        AspectRatio::Portrait3x4 => (short, short * 4 / 3),
        AspectRatio::Portrait9x16 => (short, short * 16 / 9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn frame_sizes_match_the_pixverse_table() {
        use AspectRatio::*;
        let table = [
            (
                Quality::P360,
                [(640, 360), (480, 360), (360, 360), (360, 480), (360, 640)],
            ),
            (
                Quality::P540,
                [(960, 540), (720, 540), (540, 540), (540, 720), (540, 960)],
            ),
            (
                Quality::P720,
                [(1280, 720), (960, 720), (720, 720), (720, 960), (720, 1280)],
            ),
            (
                Quality::P1080,
                [
                    (1920, 1080),
                    (1440, 1080),
                    (1080, 1080),
                    (1080, 1440),
                    (1080, 1920),
                ],
            ),
        ];
        let aspects = [
            Landscape16x9,
            Landscape4x3,
            Square1x1,
            Portrait3x4,
            Portrait9x16,
        ];
        for (quality, sizes) in table {
            for (aspect, size) in aspects.into_iter().zip(sizes) {
                assert_eq!(frame_size(quality, aspect), size, "{quality} {aspect}");
            }
        }
    }

    #[test]
    fn partial_check_reads_wire_strings_and_native_values() {
        let problems = check_partial(&object(json!({ "quality": "1080p", "duration": "8" })));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, MAX_5S_AT_1080P);
        assert_eq!(problems[0].field, "duration");

        let problems = check_partial(&object(json!({ "motionMode": "fast", "duration": 8 })));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, FAST_NEEDS_5S);
    }

    #[test]
    fn partial_check_treats_absent_fields_as_defaults_and_skips_unreadable_ones() {
        assert!(check_partial(&Map::new()).is_empty());
        assert!(check_partial(&object(json!({ "quality": "1080p" }))).is_empty());
        assert!(check_partial(&object(json!({ "duration": 8 }))).is_empty());
        let unreadable = json!({ "quality": "1080p", "duration": "eight", "motionMode": null });
        assert!(check_partial(&object(unreadable)).is_empty());
    }

    #[test]
    fn partial_check_reports_every_broken_rule() {
        let all_wrong = json!({ "quality": "1080p", "duration": 8, "motionMode": "fast" });
        let rules: Vec<_> = check_partial(&object(all_wrong))
            .into_iter()
            .map(|p| p.rule)
            .collect();
        assert_eq!(rules, [MAX_5S_AT_1080P, NOT_FAST_AT_1080P, FAST_NEEDS_5S]);
    }

    #[test]
    fn urls_need_an_http_scheme_and_a_host() {
        for good in [
            "https://cdn1.wiro.ai/uploads/cat.png",
            "http://127.0.0.1:8080/file?id=3",
            "HTTPS://example.com",
            "https://user@example.com/a.jpg",
            "http://[::1]:3000/x.png",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "",
            "cat.png",
            "/tmp/cat.png",
            "file:///tmp/cat.png",
            "ftp://example.com/cat.png",
            "https://",
            "https:///cat.png",
            "https://example.com:port/",
            "https://exa mple.com/",
            "https://user@/cat.png",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut problems = Vec::new();
        check_length("prompt", &"é".repeat(2048), 1, 2048, &mut problems);
        assert!(problems.is_empty());
        check_length("prompt", &"é".repeat(2049), 1, 2048, &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, MAX_LENGTH);
        assert!(problems[0].message.contains("2049"));
    }
}
