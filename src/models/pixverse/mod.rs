//! PixVerse v4 on Wiro: text-to-video and image-to-video, their options and their rules.
//!
//! [`TextToVideoV4`] and [`ImageToVideoV4`] share every option except the aspect ratio (an image
//! brings its own) and obey the same three cross-field rules, listed in [`rules`]:
//! **1080p cannot be 8 s; 1080p cannot be fast; fast needs 5 s.**
//!
//! ```
//! use wiro_nodes::models::pixverse::{ImageToVideoV4, MotionMode};
//! use wiro_nodes::models::ModelParameters;
//!
//! // A body as Wiro receives it: every value a string.
//! let body = serde_json::json!({
//!     "inputImageUrl": "https://cdn1.wiro.ai/uploads/cat.png",
//!     "prompt": "the cat yawns",
//!     "duration": "5", "motionMode": "fast", "seed": "", "Watermark": "false"
//! });
//! let params: ImageToVideoV4 = serde_json::from_value(body).unwrap();
//! assert_eq!(params.motion_mode, MotionMode::Fast);
//! assert!(params.validate().is_ok());
//! assert_eq!(ImageToVideoV4::SLUG, "PixVerse/image-to-video-v4");
//! ```

mod image_to_video;
mod lenient;
mod options;
pub mod rules;
mod text_to_video;

pub use image_to_video::ImageToVideoV4;
pub use options::{AspectRatio, Duration, MotionMode, Quality, Style};
pub use rules::{check_partial, frame_size};
pub use text_to_video::TextToVideoV4;
