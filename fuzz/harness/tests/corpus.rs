//! Every fuzz target's checked-in corpus (`fuzz/corpus/TARGET/`) and former crashers
//! (`fuzz/regressions/TARGET/`) through the same harness functions the fuzzer runs, on the
//! stable toolchain: a fix that regresses fails `cargo test --workspace`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use ticklane_fuzzing::{Target, TARGETS};

/// The files of `dir` (none if it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.expect("reading a corpus folder").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// `fuzz/`, the cargo-fuzz crate this harness library sits in.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs every file of `folder/TARGET/` through each target; returns how many ran and the
/// failures as `path: panic message`.
fn run_all(targets: &[Target], folder: &str) -> (usize, Vec<String>) {
    let mut ran = 0;
    let mut failed = Vec::new();
    for t in targets {
        for p in files(&fuzz_dir().join(folder).join(t.name)) {
            let data = std::fs::read(&p).expect("reading a corpus file");
            ran += 1;
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| (t.run)(&data))) {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failed.push(format!("{}: {msg}", p.display()));
            }
        }
    }
    (ran, failed)
}

#[test]
fn every_target_has_a_corpus_and_a_fuzz_target() {
    for t in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(t.name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{} is empty", t.name);
        let target = fuzz_dir()
            .join("fuzz_targets")
            .join(format!("{}.rs", t.name));
        assert!(target.is_file(), "{} is missing", target.display());
    }
}

#[test]
fn corpus_replays_without_a_finding() {
    let (ran, failed) = run_all(TARGETS, "corpus");
    assert!(ran > 0, "no corpus files found");
    assert!(
        failed.is_empty(),
        "{} of {ran} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn former_crashers_stay_fixed() {
    let (_, failed) = run_all(TARGETS, "regressions");
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// The check above can fail: a harness that panics on a corpus file is reported with the file.
#[test]
fn a_panicking_harness_is_reported() {
    let boom = Target {
        name: "itch",
        run: |data| assert!(data.is_empty(), "boom"),
        about: "panics on any non-empty input",
    };
    let (ran, failed) = run_all(&[boom], "corpus");
    assert!(ran > 0);
    assert_eq!(failed.len(), ran);
    assert!(
        failed[0].contains("corpus/itch/") && failed[0].ends_with("boom"),
        "{failed:?}"
    );
}
