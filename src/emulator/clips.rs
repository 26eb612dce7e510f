//! Encoded clips, cached by spec: equal specs are encoded once (same seed, same bytes), on a
//! blocking thread so the server keeps answering meanwhile, at most as many at once as the
//! machine has cores. Each clip is written to a file in a folder of its own and only its path
//! is kept, so a thousand tasks' outputs cost disk space, not memory; the folder goes when the
//! cache does, and the folders of emulators that ended without dropping theirs (a process
//! killed, an emulator held until exit) go, an hour later, when an emulator makes its first clip.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

use tokio::sync::{OnceCell, Semaphore};

use super::basics::{lock, random_hex};
use super::video::{encode_mp4, VideoSpec};

type Key = (u32, u32, u32, u32, u64);

/// An encoded MP4 on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clip {
    /// The file.
    pub path: Arc<Path>,
    /// Its size in bytes.
    pub len: u64,
}

/// Encoded MP4 files by spec.
pub(crate) struct ClipCache {
    clips: Mutex<HashMap<Key, Arc<OnceCell<Clip>>>>,
    /// Where the clips are written (created on the first one).
    folder: PathBuf,
    /// One permit per core: encoders beyond that would only share the cores and hold their
    /// frame buffers longer.
    encoders: Arc<Semaphore>,
    /// Counts the encoders at work now and at most.
    counted: Arc<EncoderCount>,
}

/// The start of every clip folder's name; the emulator's process id and a random part follow.
const FOLDER_PREFIX: &str = "wiro-emulator-clips-";

impl Default for ClipCache {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let folder = std::env::temp_dir().join(format!(
            "{FOLDER_PREFIX}{}-{}",
            std::process::id(),
            random_hex(12)
        ));
        Self {
            clips: Mutex::new(HashMap::new()),
            folder,
            encoders: Arc::new(Semaphore::new(cores)),
            counted: Arc::default(),
        }
    }
}

impl Drop for ClipCache {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// Encoders at work now and the most there ever were at once.
#[derive(Default)]
struct EncoderCount {
    now: AtomicU64,
    peak: AtomicU64,
}

/// One encoder at work: counted while it lives.
struct Encoding(Arc<EncoderCount>);

impl Encoding {
    fn start(count: &Arc<EncoderCount>) -> Self {
        let now = count.now.fetch_add(1, Ordering::Relaxed) + 1;
        count.peak.fetch_max(now, Ordering::Relaxed);
        Self(Arc::clone(count))
    }
}

impl Drop for Encoding {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ClipCache {
    /// The MP4 file for `spec`, encoded now (when a core is free) or taken from the cache.
    pub async fn get(&self, spec: VideoSpec) -> Result<Clip, String> {
        let key = (spec.width, spec.height, spec.seconds, spec.fps, spec.seed);
        let cell = Arc::clone(lock(&self.clips).entry(key).or_default());
        let path = self.folder.join(format!(
            "{}x{}-{}s-{}fps-{}.mp4",
            spec.width, spec.height, spec.seconds, spec.fps, spec.seed
        ));
        let folder = self.folder.clone();
        let encoders = Arc::clone(&self.encoders);
        let counted = Arc::clone(&self.counted);
        cell.get_or_try_init(|| async move {
            let _permit = encoders
                .acquire_owned()
                .await
                .map_err(|problem| format!("the encoders are gone: {problem}"))?;
            tokio::task::spawn_blocking(move || {
                let encoded = {
                    let _counted = Encoding::start(&counted);
                    encode_mp4(&spec).map_err(|problem| problem.to_string())?
                };
                static SWEPT: Once = Once::new();
                SWEPT.call_once(|| remove_orphaned_folders(&std::env::temp_dir()));
                std::fs::create_dir_all(&folder)
                    .and_then(|()| std::fs::write(&path, &encoded))
                    .map_err(|problem| format!("writing {}: {problem}", path.display()))?;
                let len = encoded.len() as u64;
                drop(encoded);
                super::memory::give_back();
                Ok(Clip {
                    path: Arc::from(path),
                    len,
                })
            })
            .await
            .map_err(|problem| format!("the encoder thread failed: {problem}"))?
        })
        .await
        .cloned()
    }

    /// The most clips encoded at once so far.
    pub fn encoders_peak(&self) -> u64 {
        self.counted.peak.load(Ordering::Relaxed)
    }
}

/// A clip folder left alone this long (no clip added) may be removed once its process is gone.
/// The wait spares an emulator whose process this one cannot see (another container sharing
/// the temporary folder) while it is busy.
const ORPHAN_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the clip folders in `temp` whose emulator's process is gone and that had no clip
/// added for [`ORPHAN_AGE`]. Only where a process can be looked up by id (`/proc`); elsewhere
/// such folders stay for the system to clear.
fn remove_orphaned_folders(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(FOLDER_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let idle = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|idle| idle >= ORPHAN_AGE);
        if idle && process_is_gone(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether no process has id `pid` (never true where that cannot be known).
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_ended_emulators_are_removed_and_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        let mine = temp
            .path()
            .join(format!("{FOLDER_PREFIX}{}-aa", std::process::id()));
        // Process ids stop well below this on Linux (at most 2^22).
        let gone = temp.path().join(format!("{FOLDER_PREFIX}999999999-bb"));
        let recent = temp.path().join(format!("{FOLDER_PREFIX}999999998-cc"));
        let other = temp.path().join("wiro-emulator-clips-notes");
        let long_ago = std::time::SystemTime::now() - ORPHAN_AGE * 2;
        for folder in [&mine, &gone, &recent, &other] {
            std::fs::create_dir_all(folder).unwrap();
            std::fs::write(folder.join("clip.mp4"), b"x").unwrap();
            if folder != &recent {
                let opened = std::fs::File::open(folder).unwrap();
                opened.set_modified(long_ago).unwrap();
            }
        }
        remove_orphaned_folders(temp.path());
        assert!(mine.exists(), "a live emulator keeps its clips");
        assert!(recent.exists(), "a folder that had a clip lately is spared");
        assert!(other.exists(), "a folder not named as ours is left alone");
        assert_eq!(gone.exists(), !Path::new("/proc/self").exists());
    }
}
