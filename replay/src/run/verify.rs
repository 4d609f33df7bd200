//! `ticklane verify MANIFEST`: re-runs the [`RunSpec`](super::RunSpec) a backtest's manifest
//! stores, from any working directory (its paths are relative to the manifest's folder), and
//! says whether it reproduces what the manifest records.
//!
//! Every input's SHA-256 is checked first; a changed input is a difference, and nothing is
//! re-run. Then the re-run's manifest (the recorded spec, the new digest, the inputs as found)
//! is compared with the recorded one field by field, so an edit anywhere — the digest, a
//! strategy key, an execution key — is named, and `summary.json` beside the manifest says
//! which results moved.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use ticklane_strategies::Registry;

use super::{legacy_config, run, ErrorKind, RunError, RunHooks};
use crate::report::{self, Manifest, ManifestError};

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The re-run reproduces the manifest: this digest.
    Match(String),
    /// An input is not the file the manifest records (the lines say which and how); nothing
    /// was re-run.
    InputsDiffer(Vec<String>),
    /// The re-run does not reproduce the manifest (the lines say what differs).
    Differs(Vec<String>),
}

/// Why a manifest could not be verified at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The manifest is missing, unreadable or not a manifest.
    #[error("cannot read manifest {}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: ManifestError,
    },
    /// The manifest holds no run spec: an earlier version wrote it.
    #[error(
        "manifest {}: no run spec in it (an earlier ticklane wrote it); run the backtest again with --report to record one",
        path.display()
    )]
    NoSpec {
        /// The manifest.
        path: PathBuf,
    },
    /// An input the manifest records is missing or unreadable.
    #[error("input {recorded} (at {}, relative to the manifest)", path.display())]
    Input {
        /// The path as the manifest records it.
        recorded: String,
        /// Where it was looked for.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The recorded spec does not run (a bad strategy key, say).
    #[error("re-running the manifest's spec")]
    Run(#[from] RunError),
}

impl VerifyError {
    /// What kind of failure this is: a missing or unreadable manifest or input is an input
    /// failure; a spec that does not run fails as that run would.
    pub fn kind(&self) -> ErrorKind {
        match self {
            VerifyError::Manifest { .. }
            | VerifyError::NoSpec { .. }
            | VerifyError::Input { .. } => ErrorKind::Input,
            VerifyError::Run(e) => e.kind(),
        }
    }
}

/// Re-runs the spec of the manifest at `manifest_path` with the strategies of `registry`.
///
/// # Errors
/// [`VerifyError`]: the manifest or an input missing, or the spec not running.
pub fn verify(manifest_path: &Path, registry: &Registry) -> Result<Verdict, VerifyError> {
    let m = Manifest::read(manifest_path).map_err(|source| VerifyError::Manifest {
        path: manifest_path.to_path_buf(),
        source,
    })?;
    let Some(recorded) = m.spec.clone() else {
        return Err(VerifyError::NoSpec {
            path: manifest_path.to_path_buf(),
        });
    };
    let base = manifest_path.parent().unwrap_or(Path::new(""));
    let at = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() || base.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    // Every recorded hash, by the path it names: the manifest's inputs and the spec's.
    let mut hashes: BTreeMap<String, String> = BTreeMap::new();
    for f in &m.inputs {
        hashes.insert(f.path.clone(), f.sha256.clone());
    }
    let mut problems = Vec::new();
    for i in &recorded.inputs {
        let p = i.path.to_string_lossy().into_owned();
        if let Some(h) = &i.sha256 {
            match hashes.get(&p) {
                Some(other) if other != h => problems.push(format!(
                    "input {p}: the spec records sha256 {h}, the manifest's inputs {other}"
                )),
                Some(_) => {}
                None => {
                    hashes.insert(p, h.clone());
                }
            }
        }
    }
    for (p, want) in &hashes {
        let path = at(p);
        let got = report::sha256_file(&path).map_err(|source| VerifyError::Input {
            recorded: p.clone(),
            path: path.clone(),
            source,
        })?;
        if &got != want {
            problems.push(format!(
                "input {p}: sha256 is {got}, the manifest records {want}"
            ));
        }
    }
    if !problems.is_empty() {
        return Ok(Verdict::InputsDiffer(problems));
    }

    let mut spec = recorded.clone();
    spec.resolve(base);
    spec.outputs = super::Outputs::default();
    let outcome = run(&spec, registry, RunHooks::default())?;
    let rerun = Manifest {
        digest: outcome.digest().to_owned(),
        config: legacy_config(&recorded).map_err(RunError::from)?,
        ..m.clone()
    };
    let lines = m.diff(&rerun);
    if lines.is_empty() {
        return Ok(Verdict::Match(rerun.digest));
    }
    let mut lines = lines;
    lines.extend(stats_diff(manifest_path, outcome.report_input()));
    Ok(Verdict::Differs(lines))
}

/// The statistics of the run's recorded `summary.json` (beside the manifest) that a re-run
/// moved, as `stats.KEY: old -> new` lines.
fn stats_diff(manifest_path: &Path, input: Option<report::ReportInput<'_>>) -> Vec<String> {
    let mut lines = Vec::new();
    let recorded = manifest_path.with_file_name("summary.json");
    let (Ok(text), Some(input)) = (std::fs::read_to_string(recorded), input) else {
        return lines;
    };
    // Compared as JSON values read back from text: money amounts beyond 64 bits (L2 data's
    // finer units) become floats there, where a direct conversion would refuse them.
    let old = serde_json::from_str::<serde_json::Value>(&text).ok();
    let new = serde_json::to_string(&report::compute_stats(&input))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    if let (Some(o), Some(n)) = (
        old.as_ref()
            .and_then(|v| v.get("stats"))
            .and_then(|v| v.as_object()),
        new.as_ref().and_then(|v| v.as_object()),
    ) {
        for (k, ov) in o {
            let nv = n.get(k).cloned().unwrap_or_default();
            if *ov != nv {
                lines.push(format!("stats.{k}: {ov} -> {nv}"));
            }
        }
    }
    lines
}
