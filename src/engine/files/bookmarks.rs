//! Bookmarked latent vectors, persisted as RON. A file that cannot be read is never
//! overwritten: it is renamed aside with a timestamp and the store starts empty. A file
//! another program changes while the store is open is kept aside too, and the save says so.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::files::atomic::{BackgroundWriter, WatchedFile, write_atomic};
use crate::engine::files::bounded_read::{FileKind, read_bytes};
use crate::engine::model::latent::Latent;

/// One saved vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bookmark {
    /// Stable identifier within the store.
    pub id: u64,
    /// User-visible name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub note: String,
    /// The vector (a bookmark is a vector, not a picture: thumbnails are re-rendered).
    pub z: Latent,
    /// When it was made (RFC 3339).
    pub created: String,
    /// The checkpoint it was made with.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// The bookmark this one was jittered from, if any.
    #[serde(default)]
    pub parent: Option<u64>,
    /// Labels for groups of faces ("smile", "red hair"): two tags give an attribute direction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Tags as typed: comma-separated, trimmed, empty ones and repeats dropped.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

/// The file format.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BookmarkFile {
    /// Format version.
    pub version: u32,
    /// Next id to hand out.
    pub next_id: u64,
    /// Bookmarks in insertion order.
    pub bookmarks: Vec<Bookmark>,
}

/// A problem with the bookmarks file.
#[derive(Debug, thiserror::Error)]
pub enum BookmarkError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a bookmarks file.
    #[error("{path} is not a valid bookmarks file: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
}

/// Bookmarks backed by a file, saved on every change.
#[derive(Debug)]
pub struct BookmarkStore {
    path: PathBuf,
    file: BookmarkFile,
    writer: Option<BackgroundWriter>,
    disk: WatchedFile,
    /// What saves without a background writer had to report.
    notices: std::sync::Mutex<Vec<String>>,
}

/// What opening a store found.
#[derive(Debug)]
pub struct OpenReport {
    /// The store (empty if the file was missing or broken).
    pub store: BookmarkStore,
    /// When the file was broken: the problem, and where the broken file was moved.
    pub recovered: Option<(BookmarkError, PathBuf)>,
}

impl BookmarkFile {
    /// Reads a bookmarks file.
    pub fn read(path: &Path) -> Result<Self, BookmarkError> {
        let bytes = read_bytes(path, FileKind::BOOKMARKS).map_err(|source| BookmarkError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &bytes)
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Self, BookmarkError> {
        let malformed = |message: String| BookmarkError::Malformed {
            path: path.to_path_buf(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| malformed(e.to_string()))?;
        ron::from_str(text).map_err(|e| malformed(e.to_string()))
    }

    /// Writes it atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<(), BookmarkError> {
        write_file(path, to_ron(path, self)?)
    }
}

impl BookmarkStore {
    /// Opens (or starts) the store at `path`. A broken file is moved aside, not overwritten.
    pub fn open(path: &Path) -> OpenReport {
        let store = |path: &Path, file: BookmarkFile, known: Option<Vec<u8>>| BookmarkStore {
            path: path.to_path_buf(),
            file,
            writer: None,
            disk: WatchedFile::new(path, known),
            notices: Default::default(),
        };
        let empty = || {
            let file = BookmarkFile {
                version: 1,
                ..Default::default()
            };
            store(path, file, None)
        };
        if !path.exists() {
            return OpenReport {
                store: empty(),
                recovered: None,
            };
        }
        let read = read_bytes(path, FileKind::BOOKMARKS)
            .map_err(|source| BookmarkError::Io {
                path: path.to_path_buf(),
                source,
            })
            .and_then(|bytes| Ok((BookmarkFile::parse(path, &bytes)?, bytes)));
        match read {
            Ok((file, bytes)) => OpenReport {
                store: store(path, file, Some(bytes)),
                recovered: None,
            },
            Err(err) => {
                let moved = crate::engine::files::atomic::move_aside(path);
                let mut store = empty();
                // If it could not be moved aside, never write over it.
                if moved.is_err() {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    store.path = path.with_file_name(format!("{name}.new"));
                    store.disk = WatchedFile::new(
                        &store.path,
                        read_bytes(&store.path, FileKind::BOOKMARKS).ok(),
                    );
                }
                OpenReport {
                    store,
                    recovered: Some((err, moved.unwrap_or_else(|_| path.to_path_buf()))),
                }
            }
        }
    }

    /// Saves from now on happen on a background thread (for a UI); failures are reported by
    /// [`take_write_error`](Self::take_write_error). Dropping the store finishes pending saves.
    pub fn with_background_writes(mut self) -> Self {
        self.writer = Some(BackgroundWriter::spawn());
        self
    }

    /// A save that failed, or found the file changed or deleted by another program (see
    /// [`WatchedFile`]), if any.
    pub fn take_write_error(&self) -> Option<String> {
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        if !notices.is_empty() {
            return Some(notices.remove(0));
        }
        self.writer.as_ref().and_then(|w| w.take_error())
    }

    /// Where the store is saved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All bookmarks, in insertion order.
    pub fn all(&self) -> &[Bookmark] {
        &self.file.bookmarks
    }

    /// Finds a bookmark.
    pub fn get(&self, id: u64) -> Option<&Bookmark> {
        self.file.bookmarks.iter().find(|b| b.id == id)
    }

    /// Adds a bookmark and saves; returns its id.
    pub fn add(
        &mut self,
        name: String,
        z: Latent,
        checkpoint: Option<String>,
        parent: Option<u64>,
    ) -> Result<u64, BookmarkError> {
        let id = self.file.next_id;
        self.file.next_id += 1;
        self.file.bookmarks.push(Bookmark {
            id,
            name,
            note: String::new(),
            z,
            created: chrono::Local::now().to_rfc3339(),
            checkpoint,
            parent,
            tags: Vec::new(),
        });
        self.save()?;
        Ok(id)
    }

    /// Renames and re-notes a bookmark, then saves.
    pub fn edit(&mut self, id: u64, name: String, note: String) -> Result<(), BookmarkError> {
        if let Some(b) = self.file.bookmarks.iter_mut().find(|b| b.id == id) {
            b.name = name;
            b.note = note;
        }
        self.save()
    }

    /// Sets a bookmark's tags, then saves.
    pub fn set_tags(&mut self, id: u64, tags: Vec<String>) -> Result<(), BookmarkError> {
        if let Some(b) = self.file.bookmarks.iter_mut().find(|b| b.id == id) {
            b.tags = tags;
        }
        self.save()
    }

    /// Every tag in use, sorted.
    pub fn tags(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .file
            .bookmarks
            .iter()
            .flat_map(|b| b.tags.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Removes a bookmark (returning it and its position, for undo), then saves.
    pub fn remove(&mut self, id: u64) -> Result<Option<(usize, Bookmark)>, BookmarkError> {
        let Some(pos) = self.file.bookmarks.iter().position(|b| b.id == id) else {
            return Ok(None);
        };
        let removed = self.file.bookmarks.remove(pos);
        self.save()?;
        Ok(Some((pos, removed)))
    }

    /// Puts a removed bookmark back where it was, then saves.
    pub fn restore(&mut self, position: usize, bookmark: Bookmark) -> Result<(), BookmarkError> {
        let pos = position.min(self.file.bookmarks.len());
        self.file.bookmarks.insert(pos, bookmark);
        self.save()
    }

    /// Adds every bookmark of another file (new ids), then saves; returns how many.
    pub fn import(&mut self, path: &Path) -> Result<usize, BookmarkError> {
        self.merge(BookmarkFile::read(path)?)
    }

    /// Adds every bookmark of `other` (new ids, no parents), then saves; returns how many.
    /// With [`BookmarkFile::read`] this is [`import`](Self::import) split in two, so that a
    /// UI can read the file off its own thread.
    pub fn merge(&mut self, other: BookmarkFile) -> Result<usize, BookmarkError> {
        let n = other.bookmarks.len();
        for mut b in other.bookmarks {
            b.id = self.file.next_id;
            b.parent = None;
            self.file.next_id += 1;
            self.file.bookmarks.push(b);
        }
        self.save()?;
        Ok(n)
    }

    /// Writes all bookmarks to another file.
    pub fn export(&self, path: &Path) -> Result<(), BookmarkError> {
        self.file.write(path)
    }

    /// The store's contents, e.g. to export them from another thread.
    pub fn contents(&self) -> &BookmarkFile {
        &self.file
    }

    /// Saves atomically (on the background writer, if it has one), keeping aside a version
    /// another program wrote meanwhile (reported by [`take_write_error`](Self::take_write_error)).
    pub fn save(&self) -> Result<(), BookmarkError> {
        let bytes = to_ron(&self.path, &self.file)?.into_bytes();
        let disk = self.disk.clone();
        match &self.writer {
            Some(writer) => {
                writer.run(Box::new(move || match disk.write(&bytes) {
                    Ok(notice) => notice,
                    Err(e) => Some(format!("cannot write {}: {e}", disk.path().display())),
                }));
                Ok(())
            }
            None => {
                let notice = disk.write(&bytes).map_err(|source| BookmarkError::Io {
                    path: self.path.clone(),
                    source,
                })?;
                if let Some(notice) = notice {
                    self.notices
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(notice);
                }
                Ok(())
            }
        }
    }
}

fn to_ron(path: &Path, file: &BookmarkFile) -> Result<String, BookmarkError> {
    ron::ser::to_string_pretty(file, ron::ser::PrettyConfig::default()).map_err(|e| {
        BookmarkError::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

fn write_file(path: &Path, text: String) -> Result<(), BookmarkError> {
    write_atomic(path, text.as_bytes()).map_err(|source| BookmarkError::Io {
        path: path.to_path_buf(),
        source,
    })
}
