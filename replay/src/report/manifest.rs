//! The run manifest: everything needed to re-run a backtest elsewhere and check that it gave
//! the same result — the version, each input's SHA-256 and size, the full effective config,
//! the digest, the command line and the [`RunSpec`](crate::run::spec::RunSpec) itself.
//!
//! [`Manifest::diff`] explains in words how two manifests differ, so a failed verification
//! says *what* changed (an input file, a config field, the version) and not only that the
//! digests differ.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// One input file of a run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    /// The path, relative to the manifest's folder (absolute in manifests of earlier
    /// versions).
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// File size in bytes.
    pub bytes: u64,
}

impl InputFile {
    /// Hashes `path` and records it under the name `path` was given as.
    ///
    /// # Errors
    ///
    /// The I/O error of opening or reading the file.
    pub fn from_path(path: &Path) -> io::Result<InputFile> {
        let (sha256, bytes) = sha256_and_len(path)?;
        Ok(InputFile {
            path: path.to_string_lossy().into_owned(),
            sha256,
            bytes,
        })
    }
}

/// The run manifest (`manifest.json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Version of the ticklane that produced the run.
    pub ticklane_version: String,
    /// Input files in the order the run read them.
    pub inputs: Vec<InputFile>,
    /// The full effective configuration (defaults filled in).
    pub config: Value,
    /// The run digest.
    pub digest: String,
    /// The command line, program name first.
    pub command: Vec<String>,
    /// The run itself, as `ticklane verify` re-runs it: its paths relative to the manifest's
    /// folder, each input with its SHA-256 (absent from manifests of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<crate::run::spec::RunSpec>,
}

/// Why a manifest could not be read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Reading or writing the file failed.
    #[error("{}", io_text(.0))]
    Io(io::ErrorKind),
    /// The file is not a manifest: malformed JSON or a missing/mistyped field.
    #[error("not a valid manifest (line {line}, column {column}); regenerate it with the run that produced it")]
    Json {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
    },
}

/// What an I/O failure of `kind` means for a manifest file, in words a person reads ("no such
/// file" rather than the bare "entity not found").
fn io_text(kind: &io::ErrorKind) -> String {
    match kind {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "a directory, not a manifest file".into(),
        other => format!("manifest file: {other}"),
    }
}

/// SHA-256 of a file's bytes as lowercase hex, read in 64 KiB chunks.
///
/// # Errors
///
/// The I/O error of opening or reading the file.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    sha256_and_len(path).map(|(h, _)| h)
}

fn sha256_and_len(path: &Path) -> io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex(&hasher.finalize()), len))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn json_err(e: &serde_json::Error) -> ManifestError {
    match e.io_error_kind() {
        Some(kind) => ManifestError::Io(kind),
        None => ManifestError::Json {
            line: e.line(),
            column: e.column(),
        },
    }
}

/// Short JSON text of a value for a diff line (long values are cut with `...`).
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Differences between two JSON values, as `path: a -> b` lines, keys in sorted order.
fn diff_value(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let keys: BTreeSet<&String> = ma.keys().chain(mb.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (ma.get(k), mb.get(k)) {
                    (Some(x), Some(y)) => diff_value(&p, x, y, out),
                    (Some(x), None) => out.push(format!("{p}: {} -> (absent)", show(x))),
                    (None, Some(y)) => out.push(format!("{p}: (absent) -> {}", show(y))),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(va), Value::Array(vb)) if va.len() == vb.len() => {
            for (i, (x, y)) in va.iter().zip(vb).enumerate() {
                diff_value(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {} -> {}", show(a), show(b))),
        _ => {}
    }
}

impl Manifest {
    /// Reads a manifest written by [`Manifest::write`].
    ///
    /// # Errors
    ///
    /// [`ManifestError::Io`] if the file cannot be read, [`ManifestError::Json`] if it is not
    /// a manifest.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let text = fs::read(path).map_err(|e| ManifestError::Io(e.kind()))?;
        serde_json::from_slice(&text).map_err(|e| json_err(&e))
    }

    /// Writes the manifest as pretty-printed JSON with a final newline. Field order is the
    /// struct's; config objects come out with keys sorted, so the same manifest always gives
    /// the same bytes.
    ///
    /// # Errors
    ///
    /// [`ManifestError::Io`] if the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), ManifestError> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| json_err(&e))?;
        text.push(b'\n');
        fs::write(path, text).map_err(|e| ManifestError::Io(e.kind()))
    }

    /// Human-readable differences from `self` (the expected run) to `other`, one line each;
    /// empty when the manifests are equal. Inputs are matched by path; config differences are
    /// named by their JSON path (`config.strategy.spread_ticks: 2 -> 3`).
    pub fn diff(&self, other: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        if self.ticklane_version != other.ticklane_version {
            out.push(format!(
                "ticklane_version: {} -> {}",
                self.ticklane_version, other.ticklane_version
            ));
        }
        if self.digest != other.digest {
            out.push(format!("digest: {} -> {}", self.digest, other.digest));
        }
        for a in &self.inputs {
            match other.inputs.iter().find(|b| b.path == a.path) {
                None => out.push(format!("input {}: removed", a.path)),
                Some(b) => {
                    if a.sha256 != b.sha256 {
                        out.push(format!(
                            "input {}: sha256 {} -> {}",
                            a.path, a.sha256, b.sha256
                        ));
                    }
                    if a.bytes != b.bytes {
                        out.push(format!(
                            "input {}: {} bytes -> {} bytes",
                            a.path, a.bytes, b.bytes
                        ));
                    }
                }
            }
        }
        for b in &other.inputs {
            if !self.inputs.iter().any(|a| a.path == b.path) {
                out.push(format!("input {}: added ({} bytes)", b.path, b.bytes));
            }
        }
        let order_a: Vec<&str> = self.inputs.iter().map(|i| i.path.as_str()).collect();
        let order_b: Vec<&str> = other.inputs.iter().map(|i| i.path.as_str()).collect();
        let same_set =
            order_a.len() == order_b.len() && order_a.iter().all(|p| order_b.contains(p));
        if same_set && order_a != order_b {
            out.push(format!(
                "inputs: order {} -> {}",
                order_a.join(", "),
                order_b.join(", ")
            ));
        }
        diff_value("config", &self.config, &other.config, &mut out);
        if self.command != other.command {
            out.push(format!(
                "command: {} -> {}",
                self.command.join(" "),
                other.command.join(" ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn temp_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir()
            .join(format!("ticklane-report-{}", std::process::id()))
            .join(name);
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn sample() -> Manifest {
        Manifest {
            ticklane_version: "0.1.0".to_string(),
            inputs: vec![InputFile {
                path: "data/sample.itch".to_string(),
                sha256: "ab".repeat(32),
                bytes: 1234,
            }],
            config: serde_json::json!({
                "strategy": { "name": "mm", "spread_ticks": 2, "size": 100 },
                "latency": { "entry_ns": 50_000 },
            }),
            digest: "00ff00ff00ff00ff".to_string(),
            command: vec![
                "ticklane".into(),
                "replay".into(),
                "data/sample.itch".into(),
            ],
            spec: None,
        }
    }

    #[test]
    fn sha256_of_known_bytes() {
        let d = temp_dir("manifest_sha");
        let p = d.join("abc.txt");
        fs::write(&p, b"abc").unwrap();
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let f = InputFile::from_path(&p).unwrap();
        assert_eq!(f.bytes, 3);
        assert!(sha256_file(&d.join("missing")).is_err());
    }

    #[test]
    fn write_read_diff() {
        let d = temp_dir("manifest_rw");
        let p = d.join("manifest.json");
        let m = sample();
        m.write(&p).unwrap();
        let back = Manifest::read(&p).unwrap();
        assert_eq!(back, m);
        assert!(m.diff(&back).is_empty());

        let mut edited = m.clone();
        edited.config["strategy"]["spread_ticks"] = serde_json::json!(3);
        edited.digest = "1111222233334444".to_string();
        let diff = m.diff(&edited);
        assert_eq!(
            diff,
            vec![
                "digest: 00ff00ff00ff00ff -> 1111222233334444".to_string(),
                "config.strategy.spread_ticks: 2 -> 3".to_string(),
            ]
        );

        let mut other = m.clone();
        other.inputs[0].sha256 = "cd".repeat(32);
        other.inputs.push(InputFile {
            path: "data/b.itch".into(),
            sha256: "00".repeat(32),
            bytes: 9,
        });
        other.config["latency"]
            .as_object_mut()
            .unwrap()
            .remove("entry_ns");
        other.ticklane_version = "0.2.0".into();
        let diff = other.diff(&m);
        assert!(
            diff.contains(&"ticklane_version: 0.2.0 -> 0.1.0".to_string()),
            "{diff:?}"
        );
        assert!(diff
            .iter()
            .any(|l| l.starts_with("input data/sample.itch: sha256 cdcd")));
        assert!(diff.contains(&"input data/b.itch: removed".to_string()));
        assert!(diff.contains(&"config.latency.entry_ns: (absent) -> 50000".to_string()));
    }

    #[test]
    fn bad_manifest_files_are_clear_errors() {
        let d = temp_dir("manifest_bad");
        assert_eq!(
            Manifest::read(&d.join("nope.json")),
            Err(ManifestError::Io(io::ErrorKind::NotFound))
        );
        let p = d.join("bad.json");
        fs::write(&p, "{\n  \"ticklane_version\": \"0.1.0\",\n  oops").unwrap();
        assert!(matches!(
            Manifest::read(&p),
            Err(ManifestError::Json { line: 3, .. })
        ));
        fs::write(&p, "{\"ticklane_version\": 1}").unwrap();
        assert!(matches!(
            Manifest::read(&p),
            Err(ManifestError::Json { .. })
        ));
    }
}
