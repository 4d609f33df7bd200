//! Opening replay inputs: files, plain or gzip (told apart by magic bytes, not by name), with a
//! byte counter on the raw file so a progress bar can show how far along a replay is.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

/// How the input file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (one or more members).
    Gzip,
}

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path does not exist.
    #[error("{path}: no such file")]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The path exists but cannot be read.
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The path is a directory.
    #[error("{path}: is a directory, expected a file")]
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// The file is empty.
    #[error("{path}: file is empty")]
    Empty {
        /// The path.
        path: PathBuf,
    },
}

/// An opened input: a decompressed byte stream plus what a progress display needs.
pub struct Input {
    /// The decompressed bytes.
    pub reader: Box<dyn Read + Send>,
    /// How the file was compressed.
    pub compression: Compression,
    /// Size of the file on disk.
    pub file_len: u64,
    /// Raw (compressed) bytes consumed so far; shared with the reader.
    pub consumed: Arc<AtomicU64>,
}

struct Counting<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// Opens `path`, detecting gzip by its magic bytes (`1f 8b`).
///
/// # Errors
/// [`InputError`] naming the path and what is wrong.
pub fn open(path: &Path) -> Result<Input, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_owned(),
        },
        _ => InputError::Unreadable {
            path: path.to_owned(),
            source: e,
        },
    })?;
    if meta.is_dir() {
        return Err(InputError::IsDirectory {
            path: path.to_owned(),
        });
    }
    // A device or pipe reports no length: only a regular file can be known empty.
    if meta.is_file() && meta.len() == 0 {
        return Err(InputError::Empty {
            path: path.to_owned(),
        });
    }
    let file = File::open(path).map_err(|e| InputError::Unreadable {
        path: path.to_owned(),
        source: e,
    })?;
    let consumed = Arc::new(AtomicU64::new(0));
    let mut buffered = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            n: consumed.clone(),
        },
    );
    let head = buffered.fill_buf().map_err(|e| InputError::Unreadable {
        path: path.to_owned(),
        source: e,
    })?;
    let compression = if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else {
        Compression::None
    };
    let reader: Box<dyn Read + Send> = match compression {
        Compression::Gzip => Box::new(MultiGzDecoder::new(buffered)),
        Compression::None => Box::new(buffered),
    };
    Ok(Input {
        reader,
        compression,
        file_len: meta.len(),
        consumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ticklane-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn gzip_is_detected_by_magic_not_name() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello itch").unwrap();
        let p = tmp("looks-plain.itch", &gz.finish().unwrap());
        let mut input = open(&p).unwrap();
        assert_eq!(input.compression, Compression::Gzip);
        let mut s = String::new();
        input.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello itch");
        assert_eq!(input.consumed.load(Ordering::Relaxed), input.file_len);

        let p = tmp("looks-compressed.gz", b"plain bytes");
        let input = open(&p).unwrap();
        assert_eq!(input.compression, Compression::None);
    }

    #[test]
    fn missing_empty_and_directory_are_named() {
        let e = open(Path::new("no/such/file.itch")).err().unwrap();
        assert!(matches!(e, InputError::NotFound { .. }));
        assert!(e.to_string().contains("no/such/file.itch"));
        let p = tmp("empty.itch", b"");
        assert!(matches!(open(&p), Err(InputError::Empty { .. })));
        let d = std::env::temp_dir();
        assert!(matches!(open(&d), Err(InputError::IsDirectory { .. })));
    }
}
