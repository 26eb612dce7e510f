//! Still images and sound made in-process for emulated outputs: `png` (RGB, a pattern drawn
//! from a seed) and `wav` (16-bit PCM mono tone). Videos are `video`'s job.

pub(crate) mod png;
pub(crate) mod wav;
