//! A real WAV file: 16-bit PCM, mono, 22 050 Hz, a tone whose pitch comes from a seed, with
//! short fades so it does not click. Equal inputs give identical files.

/// Samples per second.
pub(crate) const SAMPLE_RATE: u32 = 22_050;
/// The longest sound accepted: keeps a runaway text from filling memory.
pub(crate) const MAX_SECONDS: f64 = 600.0;

/// Encodes `seconds` (rounded to whole samples, at most [`MAX_SECONDS`]) of a tone.
pub(crate) fn encode_wav(seconds: f64, seed: u64) -> Vec<u8> {
    let seconds = if seconds.is_finite() {
        seconds.clamp(0.0, MAX_SECONDS)
    } else {
        0.0
    };
    // In range: at most 600 s × 22 050 samples.
    let samples = (seconds * f64::from(SAMPLE_RATE)).round() as u32;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    wav.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());

    let pitch = 220.0 + (seed % 12) as f64 * 30.0;
    let fade = f64::from(SAMPLE_RATE) * 0.01;
    let step = std::f64::consts::TAU * pitch / f64::from(SAMPLE_RATE);
    for index in 0..samples {
        let envelope = (f64::from(index) / fade)
            .min(f64::from(samples - index) / fade)
            .min(1.0);
        let level = (f64::from(index) * step).sin() * envelope * 0.4;
        let sample = (level * f64::from(i16::MAX)) as i16;
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
    }

    #[test]
    fn the_header_says_pcm_mono_16_bit_and_the_length_matches() {
        let wav = encode_wav(1.5, 3);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u32_at(&wav, 4) as usize, wav.len() - 8);
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(&wav, 16), 16);
        assert_eq!((u16_at(&wav, 20), u16_at(&wav, 22)), (1, 1));
        assert_eq!(u32_at(&wav, 24), SAMPLE_RATE);
        assert_eq!(u32_at(&wav, 28), SAMPLE_RATE * 2);
        assert_eq!((u16_at(&wav, 32), u16_at(&wav, 34)), (2, 16));
        assert_eq!(&wav[36..40], b"data");
        let data = u32_at(&wav, 40);
        assert_eq!(data as usize, wav.len() - 44);
        let seconds = f64::from(data / 2) / f64::from(SAMPLE_RATE);
        assert!((seconds - 1.5).abs() < 1e-3, "{seconds}");
        // A tone, not silence.
        assert!(wav[44..]
            .chunks(2)
            .any(|s| i16::from_le_bytes([s[0], s[1]]).abs() > 1000));
    }

    #[test]
    fn lengths_are_bounded_and_files_repeat() {
        assert_eq!(encode_wav(0.0, 1).len(), 44);
        assert_eq!(encode_wav(f64::NAN, 1).len(), 44);
        assert_eq!(encode_wav(1e9, 1).len(), 44 + 600 * 22_050 * 2);
        assert_eq!(encode_wav(0.2, 5), encode_wav(0.2, 5));
    }
}
