//! The closed sets of PixVerse v4 options: aspect ratio, duration, quality, motion mode, style.
//!
//! Each option serializes to its wire string (`Quality::P1080` ⇄ `"1080p"`), except
//! [`Duration`], which is a JSON integer (`5`) in native form and reads `"5"` as well.
//! An unknown value is an error that names the field and lists the allowed values.

use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::rules;
use crate::models::ParameterProblem;

/// An option whose wire value is one of a few fixed strings.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order a form should offer them.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The parameter this option belongs to, as the wire spells it.
            pub(crate) const FIELD: &'static str = $field;

            /// The value as the wire spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParameterProblem;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| {
                        let allowed = Self::ALL.iter().map(|v| v.as_str());
                        not_one_of(Self::FIELD, format_args!("{s:?}"), allowed)
                    })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct StrVisitor;

                impl Visitor<'_> for StrVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        let allowed = joined($name::ALL.iter().map(|v| v.as_str()));
                        write!(f, "{} as one of {allowed}", $name::FIELD)
                    }

                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        s.parse().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(StrVisitor)
            }
        }

        impl JsonSchema for $name {
            // Inline, so a form sees `enum` right on the property instead of behind a `$ref`.
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let values: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                json_schema!({ "type": "string", "enum": values })
            }
        }
    };
}

wire_enum! {
    /// The shape of the video frame, width to height.
    #[derive(Default)]
    pub enum AspectRatio for "aspectRatio" {
        /// Landscape, 16:9 (the default).
        #[default]
        Landscape16x9 = "16:9",
        /// Landscape, 4:3.
        Landscape4x3 = "4:3",
        /// Square, 1:1.
        Square1x1 = "1:1",
        /// Portrait, 3:4.
        Portrait3x4 = "3:4",
        /// Portrait, 9:16, as phones show stories and shorts.
        Portrait9x16 = "9:16",
    }
}

wire_enum! {
    /// The resolution of the video, named by its short side.
    #[derive(Default)]
    pub enum Quality for "quality" {
        /// 360p, PixVerse's fast "Turbo" quality.
        P360 = "360p",
        /// 540p (the default).
        #[default]
        P540 = "540p",
        /// 720p.
        P720 = "720p",
        /// 1080p: only 5 s long and only with normal motion.
        P1080 = "1080p",
    }
}

wire_enum! {
    /// How fast things move in the video.
    #[derive(Default)]
    pub enum MotionMode for "motionMode" {
        /// Normal motion (the default).
        #[default]
        Normal = "normal",
        /// Fast motion: only 5 s long and not at 1080p.
        Fast = "fast",
    }
}

wire_enum! {
    /// A visual style applied to the whole video.
    pub enum Style for "style" {
        /// Anime.
        Anime = "anime",
        /// 3D animation.
        Animation3d = "3d_animation",
        /// Clay animation.
        Clay = "clay",
        /// Comic book.
        Comic = "comic",
        /// Cyberpunk.
        Cyberpunk = "cyberpunk",
    }
}

/// How long the video is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Duration {
    /// 5 seconds (the default).
    #[default]
    Seconds5,
    /// 8 seconds: not at 1080p and not with fast motion.
    Seconds8,
}

impl Duration {
    /// Every value, in the order a form should offer them.
    pub const ALL: &'static [Self] = &[Self::Seconds5, Self::Seconds8];

    /// The parameter this option belongs to, as the wire spells it.
    pub(crate) const FIELD: &'static str = "duration";

    /// The length in seconds.
    pub const fn seconds(self) -> u32 {
        match self {
            Self::Seconds5 => 5,
            Self::Seconds8 => 8,
        }
    }

    /// The value as the wire spells it: `"5"` or `"8"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Seconds5 => "5",
            Self::Seconds8 => "8",
        }
    }

    fn from_seconds(seconds: u64) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|d| u64::from(d.seconds()) == seconds)
    }

    fn unknown(value: impl fmt::Display) -> ParameterProblem {
        not_one_of(Self::FIELD, value, Self::ALL.iter().map(|d| d.as_str()))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Duration {
    type Err = ParameterProblem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<u64>()
            .ok()
            .and_then(Self::from_seconds)
            .ok_or_else(|| Self::unknown(format_args!("{s:?}")))
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.seconds())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl Visitor<'_> for SecondsVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("duration as 5 or 8 (seconds), a number or a string")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Duration::from_seconds(v).ok_or_else(|| E::custom(Duration::unknown(v)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(Duration::from_seconds)
                    .ok_or_else(|| E::custom(Duration::unknown(v)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                s.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(SecondsVisitor)
    }
}

impl JsonSchema for Duration {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let values: Vec<u32> = Self::ALL.iter().map(|d| d.seconds()).collect();
        json_schema!({ "type": "integer", "enum": values })
    }
}

/// The problem for a value outside a closed set: names the field, the value and what is allowed.
pub(super) fn not_one_of<'a>(
    field: &str,
    value: impl fmt::Display,
    allowed: impl Iterator<Item = &'a str>,
) -> ParameterProblem {
    ParameterProblem::new(
        field,
        rules::ONE_OF,
        format!("{value} is not allowed; choose one of {}", joined(allowed)),
    )
}

fn joined<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_print_their_wire_strings() {
        assert_eq!(Quality::P1080.to_string(), "1080p");
        assert_eq!(AspectRatio::Portrait9x16.as_str(), "9:16");
        assert_eq!(Style::Animation3d.as_str(), "3d_animation");
        assert_eq!(MotionMode::Fast.to_string(), "fast");
        assert_eq!(Duration::Seconds8.to_string(), "8");
        assert_eq!(Duration::Seconds8.seconds(), 8);
    }

    #[test]
    fn every_option_round_trips_through_its_wire_string() {
        for q in Quality::ALL {
            assert_eq!(q.as_str().parse::<Quality>(), Ok(*q));
        }
        for a in AspectRatio::ALL {
            assert_eq!(a.as_str().parse::<AspectRatio>(), Ok(*a));
        }
        for s in Style::ALL {
            assert_eq!(s.as_str().parse::<Style>(), Ok(*s));
        }
        for d in Duration::ALL {
            assert_eq!(d.as_str().parse::<Duration>(), Ok(*d));
        }
    }

    #[test]
    fn duration_reads_numbers_and_strings_and_writes_a_number() {
        for input in [json!(8), json!("8")] {
            assert_eq!(
                serde_json::from_value::<Duration>(input).ok(),
                Some(Duration::Seconds8)
            );
        }
        assert_eq!(
            serde_json::to_value(Duration::Seconds5).ok(),
            Some(json!(5))
        );
    }

    #[test]
    fn an_unknown_value_names_the_field_and_lists_what_is_allowed() {
        let err = serde_json::from_value::<Quality>(json!("2k"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "quality: \"2k\" is not allowed; choose one of 360p, 540p, 720p, 1080p"
        );
        let err = serde_json::from_value::<Duration>(json!(10))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "duration: 10 is not allowed; choose one of 5, 8");
        let err = "1080P".parse::<Quality>().unwrap_err();
        assert_eq!(err.rule, rules::ONE_OF);
        assert_eq!(err.field, "quality");
    }
}
