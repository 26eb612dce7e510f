//! Lenient readers for the fields whose wire form is a string.
//!
//! Each accepts the native JSON form and the wire form, so one struct reads a node's input and
//! the body Wiro receives: `seed` takes `123`, `"123"`, `null` or `""`; `Watermark` takes
//! `false` or `"false"`; `style` takes a style name, `null` or `""`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

use super::options::{not_one_of, Style};
use super::rules::{MAX_SEED, RANGE};
use crate::models::ParameterProblem;

/// `seed`: `123`, `"123"`, `null` or `""` (the last two mean a random seed).
pub fn seed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    struct SeedVisitor;

    fn out_of_range<E: de::Error>(value: impl fmt::Display) -> E {
        E::custom(ParameterProblem::new(
            "seed",
            RANGE,
            format!(
                "{value} is not a whole number from 0 to {MAX_SEED}; \
                 leave it empty for a random seed"
            ),
        ))
    }

    impl<'de> Visitor<'de> for SeedVisitor {
        type Value = Option<u32>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "seed as a whole number from 0 to {MAX_SEED}, or empty for random"
            )
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u32::try_from(v).map(Some).map_err(|_| out_of_range(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u32::try_from(v).map(Some).map_err(|_| out_of_range(v))
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<u32>()
                .map(Some)
                .map_err(|_| out_of_range(format_args!("{s:?}")))
        }
    }

    deserializer.deserialize_any(SeedVisitor)
}

/// `Watermark`: `true`/`false` or `"true"`/`"false"`.
pub fn watermark<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct FlagVisitor;

    impl Visitor<'_> for FlagVisitor {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Watermark as true or false")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<bool, E> {
            match s.trim() {
                t if t.eq_ignore_ascii_case("true") => Ok(true),
                f if f.eq_ignore_ascii_case("false") => Ok(false),
                _ => Err(E::custom(not_one_of(
                    "Watermark",
                    format_args!("{s:?}"),
                    ["true", "false"].into_iter(),
                ))),
            }
        }
    }

    deserializer.deserialize_any(FlagVisitor)
}

/// `style`: one of the styles, or `null` or `""` for no style.
pub fn style<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Style>, D::Error> {
    struct StyleVisitor;

    impl<'de> Visitor<'de> for StyleVisitor {
        type Value = Option<Style>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("style as a style name, or empty for no style")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(E::custom)
            }
        }
    }

    deserializer.deserialize_any(StyleVisitor)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "super::seed")]
        seed: Option<u32>,
        #[serde(default, deserialize_with = "super::watermark")]
        watermark: bool,
    }

    fn seed_of(value: serde_json::Value) -> Result<Option<u32>, String> {
        serde_json::from_value::<Probe>(json!({ "seed": value }))
            .map(|p| p.seed)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_seed_reads_from_a_number_a_string_or_nothing() {
        assert_eq!(seed_of(json!(123)), Ok(Some(123)));
        assert_eq!(seed_of(json!("123")), Ok(Some(123)));
        assert_eq!(seed_of(json!(" 7 ")), Ok(Some(7)));
        assert_eq!(seed_of(json!("")), Ok(None));
        assert_eq!(seed_of(json!(null)), Ok(None));
        let missing = serde_json::from_value::<Probe>(json!({})).unwrap();
        assert_eq!((missing.seed, missing.watermark), (None, false));
    }

    #[test]
    fn a_seed_that_is_not_a_whole_number_names_the_field() {
        for bad in [json!(-1), json!(4294967296u64), json!("1.5"), json!(true)] {
            let err = seed_of(bad.clone()).unwrap_err();
            assert!(err.contains("seed"), "{bad}: {err}");
        }
    }

    #[test]
    fn watermark_reads_booleans_in_either_form() {
        for (value, expected) in [
            (json!(true), true),
            (json!("true"), true),
            (json!("False"), false),
            (json!(false), false),
        ] {
            let probe = serde_json::from_value::<Probe>(json!({ "watermark": value })).unwrap();
            assert_eq!(probe.watermark, expected);
        }
        assert!(serde_json::from_value::<Probe>(json!({ "watermark": 1 })).is_err());
    }
}
