//! What the emulator charges for a PixVerse clip, and the `dynamicprice` table Tool/Detail
//! publishes for it: one list, so what a client estimates from Tool/Detail is what a
//! successful task then costs.
//!
//! The figures are PixVerse's own v4 price list (API.md), credits / 100 = dollars, one price
//! per request (`cpr`). Combinations the rules forbid (1080p with 8 s or fast motion, fast
//! motion with 8 s) have no price: they never run.

use serde_json::{json, Value};

use crate::models::pixverse::{Duration, MotionMode, Quality};

/// `(quality, motion, duration, dollars)` for every combination that can run.
const PRICES: [(Quality, MotionMode, Duration, f64); 10] = [
    (Quality::P360, MotionMode::Normal, Duration::Seconds5, 0.45),
    (Quality::P360, MotionMode::Fast, Duration::Seconds5, 0.90),
    (Quality::P360, MotionMode::Normal, Duration::Seconds8, 0.90),
    (Quality::P540, MotionMode::Normal, Duration::Seconds5, 0.45),
    (Quality::P540, MotionMode::Fast, Duration::Seconds5, 0.90),
    (Quality::P540, MotionMode::Normal, Duration::Seconds8, 0.90),
    (Quality::P720, MotionMode::Normal, Duration::Seconds5, 0.60),
    (Quality::P720, MotionMode::Fast, Duration::Seconds5, 1.20),
    (Quality::P720, MotionMode::Normal, Duration::Seconds8, 1.20),
    (Quality::P1080, MotionMode::Normal, Duration::Seconds5, 1.20),
];

/// The dearest price of the list: what a combination outside it would be charged, though
/// the rules keep every such combination from running.
const DEAREST: f64 = 1.20;

/// What a successful clip of this kind costs, in dollars.
pub(crate) fn clip_price(quality: Quality, motion: MotionMode, duration: Duration) -> f64 {
    PRICES
        .iter()
        .find(|(q, m, d, _)| *q == quality && *m == motion && *d == duration)
        .map_or(DEAREST, |(_, _, _, price)| *price)
}

/// The `dynamicprice` value of Tool/Detail: the tiers as a string holding a JSON array, as
/// the server sends it (clients must also read a plain array).
pub(crate) fn dynamicprice() -> Value {
    let tiers: Vec<Value> = PRICES
        .iter()
        .map(|(quality, motion, duration, price)| {
            json!({
                "inputs": {
                    "quality": quality.as_str(),
                    "duration": duration.as_str(),
                    "motionMode": motion.as_str(),
                },
                "price": price,
                "priceMethod": "cpr",
            })
        })
        .collect();
    Value::String(Value::Array(tiers).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_pixverse_price_list_in_dollars() {
        assert_eq!(
            clip_price(Quality::P540, MotionMode::Normal, Duration::Seconds5),
            0.45
        );
        assert_eq!(
            clip_price(Quality::P720, MotionMode::Fast, Duration::Seconds5),
            1.20
        );
        assert_eq!(
            clip_price(Quality::P1080, MotionMode::Normal, Duration::Seconds5),
            1.20
        );
        let Value::String(text) = dynamicprice() else {
            panic!("a string")
        };
        let tiers: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(tiers.len(), 10);
        assert_eq!(tiers[0]["inputs"]["quality"], "360p");
        assert_eq!(tiers[0]["priceMethod"], "cpr");
    }
}
