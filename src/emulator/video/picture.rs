//! The test picture: a seeded gradient, bouncing squares and a progress bar, painted
//! straight into YUV 4:2:0 planes.

use openh264::formats::YUVSlices;

use super::spec::VideoSpec;

/// Deterministic PRNG (SplitMix64). Kept in-house rather than using `fastrand` so a dependency
/// update can never change the pictures (and thus the bytes) a seed produces.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish integer in `lo..=hi` (modulo bias is irrelevant for picking colours).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next() % span) as i64
    }

    fn sign(&mut self) -> i64 {
        if self.next() & 1 == 0 {
            1
        } else {
            -1
        }
    }
}

/// Saturated colours as limited-range BT.709 (Y, Cb, Cr); integers keep output identical on
/// every platform, which float trigonometry would not guarantee.
const PALETTE: [(u8, u8, u8); 8] = [
    (63, 102, 240),  // red
    (173, 42, 26),   // green
    (32, 240, 118),  // blue
    (219, 16, 138),  // yellow
    (188, 154, 16),  // cyan
    (78, 214, 230),  // magenta
    (141, 59, 189),  // orange
    (235, 128, 128), // white
];

/// Lookup tables hold one period of a triangle wave so the inner loops are an add and a load.
const WAVE_LEN: usize = 512;
const WAVE_MASK: i64 = WAVE_LEN as i64 - 1;
/// Fixed-point fraction bits for phase accumulators.
const FRAC: u32 = 8;

fn triangle_table(lo: u8, hi: u8) -> [u8; WAVE_LEN] {
    let mut table = [0u8; WAVE_LEN];
    let half = WAVE_LEN as i64 / 2;
    let span = i64::from(hi) - i64::from(lo);
    for (i, slot) in table.iter_mut().enumerate() {
        let i = i as i64;
        let ramp = if i < half { i } else { WAVE_LEN as i64 - i };
        *slot = (i64::from(lo) + span * ramp / half) as u8;
    }
    table
}

/// A smooth stripe pattern `table[(x * dx + y * dy) >> FRAC]` in a random direction.
struct Wave {
    table: [u8; WAVE_LEN],
    dx: i64,
    dy: i64,
}

impl Wave {
    /// Random direction with roughly half a period to three periods across `extent` pixels.
    fn random(rng: &mut SplitMix64, lo: u8, hi: u8, extent: u32) -> Self {
        let per_pixel = |rng: &mut SplitMix64| {
            let periods_x100 = rng.range(50, 300);
            rng.sign() * ((WAVE_LEN as i64) << FRAC) * periods_x100
                / (100 * i64::from(extent.max(1)))
        };
        let dx = per_pixel(rng);
        let dy = per_pixel(rng);
        Self {
            table: triangle_table(lo, hi),
            dx,
            dy,
        }
    }

    fn fill(&self, plane: &mut [u8], width: usize) {
        if width == 0 {
            return;
        }
        for (y, row) in plane.chunks_exact_mut(width).enumerate() {
            let mut phase = y as i64 * self.dy;
            for px in row {
                *px = self.table[((phase >> FRAC) & WAVE_MASK) as usize];
                phase += self.dx;
            }
        }
    }
}

/// Position bouncing between 0 and `range`, given a start and a speed in 1/256 pixel per frame.
fn bounce(start: i64, speed: i64, frame: u32, range: i64) -> i64 {
    if range <= 0 {
        return 0;
    }
    let travelled = (start + speed * i64::from(frame)) >> FRAC;
    let period = 2 * range;
    let p = travelled.rem_euclid(period);
    if p > range {
        period - p
    } else {
        p
    }
}

/// Draws the frames of one clip into reused I420 planes.
pub(super) struct Painter {
    width: usize,
    height: usize,
    pub(super) y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    /// Y, Cb and Cr of the backdrop, painted once and copied into every frame.
    background: [Vec<u8>; 3],
    sprites: [Sprite; 2],
    bar_height: usize,
}

/// A solid square bouncing off the frame edges.
struct Sprite {
    colour: (u8, u8, u8),
    side: usize,
    /// Start position and speed, both in 1/256 pixel (per frame for the speed).
    start: (i64, i64),
    speed: (i64, i64),
}

impl Sprite {
    fn random(rng: &mut SplitMix64, side: usize, width: usize, height: usize, fps: u32) -> Self {
        let colour = PALETTE[(rng.next() % PALETTE.len() as u64) as usize];
        let range = |extent: usize| extent.saturating_sub(side) as i64;
        let start = (
            rng.range(0, range(width)) << FRAC,
            rng.range(0, range(height)) << FRAC,
        );
        // Crosses the frame in roughly one to four seconds whatever the frame rate.
        let speed_along = |rng: &mut SplitMix64, extent: usize| {
            let px_per_second = rng.range(extent as i64 / 4, extent as i64).max(1);
            rng.sign() * (px_per_second << FRAC) / i64::from(fps.max(1))
        };
        let speed = (speed_along(rng, width), speed_along(rng, height));
        Self {
            colour,
            side,
            start,
            speed,
        }
    }

    /// Top-left corner at `frame`, rounded to even so the square stays on the 2x2 chroma grid.
    fn position(&self, frame: u32, width: usize, height: usize) -> (usize, usize) {
        let x = bounce(
            self.start.0,
            self.speed.0,
            frame,
            width.saturating_sub(self.side) as i64,
        );
        let y = bounce(
            self.start.1,
            self.speed.1,
            frame,
            height.saturating_sub(self.side) as i64,
        );
        (x as usize & !1, y as usize & !1)
    }
}

impl Painter {
    pub(super) fn new(spec: &VideoSpec) -> Self {
        let (width, height) = (spec.width as usize, spec.height as usize);
        let mut rng = SplitMix64(spec.seed);
        // Background luma stays inside 40..=180 so the saturated squares always stand out.
        let luma = Wave::random(&mut rng, 40, 180, spec.width);
        let tint = |rng: &mut SplitMix64| {
            let centre = rng.range(88, 168);
            ((centre - 36) as u8, (centre + 36) as u8)
        };
        let (cb_lo, cb_hi) = tint(&mut rng);
        let (cr_lo, cr_hi) = tint(&mut rng);
        let cb = Wave::random(&mut rng, cb_lo, cb_hi, spec.width / 2);
        let cr = Wave::random(&mut rng, cr_lo, cr_hi, spec.width / 2);
        let mut background = [
            vec![0; width * height],
            vec![0; width * height / 4],
            vec![0; width * height / 4],
        ];
        luma.fill(&mut background[0], width);
        cb.fill(&mut background[1], width / 2);
        cr.fill(&mut background[2], width / 2);
        let bar_height = ((height / 40) & !1).max(2);
        // The squares bounce above the progress bar so it is never hidden.
        let field = height - bar_height;
        let short = width.min(field);
        let mut sprites = [
            Sprite::random(&mut rng, ((short / 5) & !1).max(2), width, field, spec.fps),
            Sprite::random(&mut rng, ((short / 9) & !1).max(2), width, field, spec.fps),
        ];
        if sprites[1].colour == sprites[0].colour {
            let index = PALETTE
                .iter()
                .position(|&c| c == sprites[0].colour)
                .unwrap_or(0);
            sprites[1].colour = PALETTE[(index + 1) % PALETTE.len()];
        }

        Self {
            width,
            height,
            y: vec![0; width * height],
            u: vec![0; width * height / 4],
            v: vec![0; width * height / 4],
            background,
            sprites,
            bar_height,
        }
    }

    pub(super) fn paint(&mut self, frame: u32, frame_count: u32) {
        let (w, h) = (self.width, self.height);
        // The backdrop stays still on purpose: without OpenH264's assembly (the bundled build has
        // no nasm) motion search costs ~3 µs per moving macroblock, and a panning full-frame
        // backdrop made a 5 s 540p clip take ~1 s instead of ~0.3 s.
        self.y.copy_from_slice(&self.background[0]);
        self.u.copy_from_slice(&self.background[1]);
        self.v.copy_from_slice(&self.background[2]);

        let bar_y = h - self.bar_height;
        for i in 0..self.sprites.len() {
            let sprite = &self.sprites[i];
            let ((x, y), side, colour) =
                (sprite.position(frame, w, bar_y), sprite.side, sprite.colour);
            self.fill_rect(x, y, side, side, colour);
        }

        // A progress bar makes playback position (and dropped or repeated frames) visible at a glance.
        let done = (w as u64 * u64::from(frame + 1) / u64::from(frame_count.max(1))) as usize & !1;
        self.fill_rect(0, bar_y, done, self.bar_height, (235, 128, 128));
        self.fill_rect(done, bar_y, w - done, self.bar_height, (16, 128, 128));
    }

    /// Fills a rectangle whose origin and size are even (callers guarantee it).
    fn fill_rect(
        &mut self,
        x: usize,
        y: usize,
        width: usize,
        height: usize,
        (cy, cu, cv): (u8, u8, u8),
    ) {
        let x_end = (x + width).min(self.width);
        let y_end = (y + height).min(self.height);
        if x >= x_end || y >= y_end {
            return;
        }
        for row in y..y_end {
            let base = row * self.width;
            self.y[base + x..base + x_end].fill(cy);
        }
        let cw = self.width / 2;
        for row in y / 2..y_end / 2 {
            let base = row * cw;
            self.u[base + x / 2..base + x_end / 2].fill(cu);
            self.v[base + x / 2..base + x_end / 2].fill(cv);
        }
    }

    pub(super) fn slices(&self) -> YUVSlices<'_> {
        YUVSlices::new(
            (&self.y, &self.u, &self.v),
            (self.width, self.height),
            (self.width, self.width / 2, self.width / 2),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Faststart
// ---------------------------------------------------------------------------------------------
