//! Times `encode_mp4` at the emulator's common output sizes.
//!
//! Run with `cargo bench --bench video_encode --features emulator`; numbers only mean something
//! in a release build, which `cargo bench` uses.

use std::time::{Duration, Instant};

use wiro_nodes::emulator::video::{encode_mp4, VideoSpec};

/// Enough runs for a stable median without making the bench slow on a small machine.
const RUNS: usize = 5;

fn main() {
    let cases = [
        ("540p (PixVerse default)", 960, 540),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ];
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}",
        "clip (5 s @ 24 fps)", "median ms", "min ms", "max ms", "bytes"
    );
    for (label, width, height) in cases {
        let spec = VideoSpec {
            width,
            height,
            seconds: 5,
            fps: 24,
            seed: 0x5eed,
        };
        let mut times = Vec::with_capacity(RUNS);
        let mut size = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let bytes = match encode_mp4(&spec) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("{label}: {e}");
                    std::process::exit(1);
                }
            };
            times.push(start.elapsed());
            size = std::hint::black_box(bytes).len();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<34} {:>10.1} {:>10.1} {:>10.1} {:>12}",
            format!("{label} {width}x{height}"),
            ms(times[RUNS / 2]),
            ms(times[0]),
            ms(times[RUNS - 1]),
            size
        );
    }
}
