//! The one way hitogata reads a file. What the path is is checked before it is opened (a
//! device never ends, a pipe with no writer never answers), and no more than the kind of file
//! can hold is read: a mistyped path costs a clear message, never the machine's memory.

use std::io::Read;
use std::path::Path;

const KB: u64 = 1 << 10;
const MB: u64 = 1 << 20;

/// What a file is expected to be, and so the most it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileKind {
    /// Named in messages: "a FILE is at most …".
    pub name: &'static str,
    /// Larger files are refused before anything is read.
    pub max_bytes: u64,
}

impl FileKind {
    /// A remote server's token: 32 random bytes as text, with room for a long passphrase.
    pub const TOKEN: Self = Self::new("token file", 4 * KB);
    /// A model.ron: a handful of shapes.
    pub const MODEL: Self = Self::new("model.ron", 64 * KB);
    /// A `train --config` file or a recipe: settings and names.
    pub const SETTINGS: Self = Self::new("settings file", MB);
    /// A state.ron: one row of metrics per training step (~150 bytes), so millions of steps.
    pub const TRAIN_STATE: Self = Self::new("state.ron", 512 * MB);
    /// Latent vectors (`--z`): thousands of vectors of up to 4096 numbers.
    pub const LATENTS: Self = Self::new("latent file", 64 * MB);
    /// Bookmarks: a latent vector, a name and tags each, thousands of them.
    pub const BOOKMARKS: Self = Self::new("bookmarks file", 64 * MB);
    /// Checkpoint notes: names and found directions of every checkpoint seen.
    pub const NOTES: Self = Self::new("notes file", 64 * MB);
    /// A direction set: up to a few hundred latent-sized vectors.
    pub const DIRECTIONS: Self = Self::new("directions file", 64 * MB);
    /// A picture: at most 4096 pixels a side (the decoders' own limit), 4 bytes a pixel at
    /// worst uncompressed, plus room for metadata such as hitogata's own z chunk.
    pub const PICTURE: Self = Self::new("picture", 72 * MB);

    /// A kind with its own limit.
    pub const fn new(name: &'static str, max_bytes: u64) -> Self {
        Self { name, max_bytes }
    }

    /// Weights (or optimizer moments) holding at least `numbers` values: f32 each, with room
    /// for the kernels the lower bound leaves out (3×3 against 4×4), BatchNorm, and the header.
    pub fn weights(numbers_at_least: u64) -> Self {
        Self::new(
            "weights file for this model",
            numbers_at_least.saturating_mul(8).saturating_add(16 * MB),
        )
    }
}

/// `bytes` for people: "812 B", "64 KB", "8.0 GB".
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < MB {
        format!("{:.0} KB", b / KB as f64)
    } else if bytes < 1 << 30 {
        format!("{:.1} MB", b / MB as f64)
    } else {
        format!("{:.1} GB", b / (1u64 << 30) as f64)
    }
}

/// What a path that is not a regular file is, for a message; `None` for a regular file.
fn not_a_file(file_type: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a folder, not a file")
    } else if file_type.is_char_device() {
        Some("a character device (like /dev/zero, which never ends), not a file")
    } else if file_type.is_block_device() {
        Some("a block device (a disk), not a file")
    } else if file_type.is_fifo() {
        Some("a named pipe (FIFO), not a file: reading it would wait for a writer")
    } else if file_type.is_socket() {
        Some("a socket, not a file")
    } else {
        Some("not a regular file")
    }
}

fn refused(path: &Path, what: &str) -> std::io::Error {
    // Through a link, name where it leads: "a link to /dev/zero: a character device …".
    let through_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let message = match std::fs::canonicalize(path) {
        Ok(target) if through_link => format!("a link to {}: {what}", target.display()),
        _ => what.to_string(),
    };
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

fn too_large(size: u64, kind: FileKind) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!(
            "it is {}; a {} is at most {}",
            human_size(size),
            kind.name,
            human_size(kind.max_bytes)
        ),
    )
}

/// Refuses what `meta` (of `path`) says is not a regular file, or is larger than `kind` allows;
/// returns its size.
fn check_metadata(path: &Path, meta: &std::fs::Metadata, kind: FileKind) -> std::io::Result<u64> {
    if let Some(what) = not_a_file(&meta.file_type()) {
        return Err(refused(path, what));
    }
    if meta.len() > kind.max_bytes {
        return Err(too_large(meta.len(), kind));
    }
    Ok(meta.len())
}

/// Checks that `path` (links followed) is a regular file no larger than `kind` allows,
/// without opening it; returns its size.
pub fn check_file(path: &Path, kind: FileKind) -> std::io::Result<u64> {
    check_metadata(path, &std::fs::metadata(path)?, kind)
}

/// Reads the whole of `path`, which must be a regular file of at most `kind.max_bytes`.
/// Devices, pipes, sockets and folders are refused from their metadata, before `open`; the
/// file is opened without blocking and checked again, so a path swapped for a pipe in between
/// cannot hang; and reading stops at the limit even if the file grows meanwhile.
pub fn read_bytes(path: &Path, kind: FileKind) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    check_file(path, kind)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let size = check_metadata(path, &file.metadata()?, kind)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(kind.max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > kind.max_bytes {
        return Err(too_large(bytes.len() as u64, kind));
    }
    Ok(bytes)
}

/// [`read_bytes`], as UTF-8 text.
pub fn read_text(path: &Path, kind: FileKind) -> std::io::Result<String> {
    String::from_utf8(read_bytes(path, kind)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not text (a {} is UTF-8 text)", kind.name),
        )
    })
}

/// Whether an error is this module's refusal of a path (its kind or its size) rather than a
/// failure to read it.
pub fn is_refusal(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::FileTooLarge
    )
}
