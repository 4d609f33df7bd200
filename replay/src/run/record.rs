//! A run recorded in its manifest: the [`RunSpec`] whole, with every path relative to the
//! manifest's folder and every input's SHA-256, beside the fields the report has always
//! written (`inputs`, `config`, `digest`, `command`).

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::spec::{real_path, relative_path, Format, RunSpec, SpecError};
use crate::report::{InputFile, Manifest};

/// Why a manifest could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// An input could not be hashed, or the folder found.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The spec could not be written down.
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// Every file a run of `spec` reads, in the order it reads them: the inputs, the LOBSTER
/// order book, the latency CSV.
fn files(spec: &RunSpec) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = spec.inputs.iter().map(|i| i.path.clone()).collect();
    v.extend(spec.venue.orderbook.clone());
    v.extend(
        spec.exec
            .as_ref()
            .and_then(|e| e.latency.csv.as_ref())
            .map(PathBuf::from),
    );
    v
}

/// The manifest of a run of `spec` (paths as the run found them) that gave `digest`, to be
/// written into `dir`: the spec with its format resolved, its execution configuration in full,
/// each input's SHA-256 and every path relative to `dir`; `inputs` lists every file read
/// (relative to `dir` too) and `config` the effective configuration as earlier manifests
/// wrote it.
///
/// # Errors
/// [`RecordError`] when an input cannot be hashed or `dir` cannot be found.
pub fn manifest_for(
    spec: &RunSpec,
    digest: &str,
    dir: &Path,
    command: Vec<String>,
) -> Result<Manifest, RecordError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RecordError::Io { path, source }
    };
    let format = spec.resolved_format();
    let mut s = spec.clone();
    s.format = format;
    s.exec = spec.effective_exec(format, false);
    for i in &mut s.inputs {
        i.sha256 = Some(crate::report::sha256_file(&i.path).map_err(io_err(&i.path))?);
    }
    let dir_abs = real_path(dir).map_err(io_err(dir))?;
    let mut inputs = Vec::new();
    for p in files(&s) {
        let mut f = InputFile::from_path(&p).map_err(io_err(&p))?;
        let abs = real_path(&p).map_err(io_err(&p))?;
        f.path = relative_path(&abs, &dir_abs).to_string_lossy().into_owned();
        inputs.push(f);
    }
    s.relative_to(dir).map_err(io_err(dir))?;
    Ok(Manifest {
        ticklane_version: env!("CARGO_PKG_VERSION").to_owned(),
        inputs,
        config: legacy_config(&s)?,
        digest: digest.to_owned(),
        command,
        spec: Some(s),
    })
}

/// The effective configuration of a (recorded) spec as the `config` field of a manifest
/// gives it: `input`, `symbols`, `strategy` (`name`, `config_toml`), `exec`,
/// `max_time_jump_ns` when set, and `data` (format, `accept_unsynced`, Kraken's depth and
/// wire precision) on L2 data.
///
/// # Errors
/// [`SpecError`] when the strategy's configuration or the execution configuration has no
/// text form.
pub fn legacy_config(spec: &RunSpec) -> Result<Value, SpecError> {
    let input = spec
        .inputs
        .first()
        .map(|i| i.path.display().to_string())
        .unwrap_or_default();
    let (name, text) = match &spec.strategy {
        Some(st) => (Some(st.name.clone()), st.config_text()?),
        None => (None, None),
    };
    let exec = serde_json::to_value(&spec.exec).map_err(|e| SpecError::Write(e.to_string()))?;
    let mut config = json!({
        "input": input,
        "symbols": spec.options.symbols,
        "strategy": { "name": name, "config_toml": text },
        "exec": exec,
    });
    if let Some(ns) = spec.options.max_time_jump_ns {
        config["max_time_jump_ns"] = json!(ns);
    }
    let format = spec.format;
    if format.is_l2() || format == Format::Consolidated {
        config["data"] = json!({
            "format": format.name(),
            "accept_unsynced": spec.options.accept_unsynced,
            "book_depth": spec.venue.book_depth,
            "wire_precision": spec.venue.wire_precision,
        });
    }
    Ok(config)
}
