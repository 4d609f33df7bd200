//! Helpers shared by the CLI's integration tests.

/// The hex digest on the last line of a run's stdout (`digest: <hex>`); panics, showing the
/// output, when the last line is not a digest.
#[allow(dead_code)] // not every test binary reads digests
pub fn digest_in(stdout: &str) -> String {
    let last = stdout.lines().last().unwrap_or_default();
    let hex = last
        .strip_prefix("digest: ")
        .unwrap_or_else(|| panic!("last line is not a digest: {last:?}\n{stdout}"));
    assert!(
        hex.len() >= 16 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{hex}"
    );
    hex.to_owned()
}

/// A number from a summary line: the token before `word` on the first line starting with
/// `prefix` ("3 gaps" → 3, "(2 reconnects," → 2); panics, showing the text, when there is none.
#[allow(dead_code)] // not every test binary reads counts
pub fn count_before(text: &str, prefix: &str, word: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in\n{text}"));
    let toks: Vec<&str> = line.split_whitespace().collect();
    let i = toks
        .iter()
        .position(|t| t.trim_end_matches([',', ')']) == word)
        .unwrap_or_else(|| panic!("no {word:?} in {line:?}"));
    toks[i - 1]
        .trim_start_matches('(')
        .parse()
        .unwrap_or_else(|_| panic!("no number before {word:?} in {line:?}"))
}

/// A `Write` whose bytes stay readable after it was handed out (a BBO CSV target).
#[derive(Clone, Default)]
#[allow(dead_code)] // not every test binary replays price levels
pub struct SharedBuf(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// BBO CSV rows without their receive timestamps (a live clock's, necessarily different).
#[allow(dead_code)] // not every test binary replays price levels
pub fn bbo_rows(csv: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(csv)
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_owned())
        .collect()
}

/// A price-level capture replayed from its file, as `ticklane replay` does.
#[allow(dead_code)] // not every test binary replays price levels
pub struct FileReplay {
    /// Each symbol's final top levels (both sides), by name.
    pub tops: std::collections::BTreeMap<String, ticklane_replay::live::session::TopLevels>,
    /// The BBO CSV rows without their receive times.
    pub rows: Vec<String>,
    /// The summary.
    pub summary: ticklane_replay::stages::l2::L2Summary,
}

/// Replays the capture at `path` (relative to the repository root) as `format`.
#[allow(dead_code)] // not every test binary replays price levels
pub fn file_replay(format: ticklane_replay::venue::VenueFormat, path: &str) -> FileReplay {
    use ticklane_replay::live::session::{top_levels, SUMMARY_LEVELS};
    let csv = SharedBuf::default();
    let mut sync = ticklane_replay::venue::L2Sync::new(
        format,
        ticklane_replay::stages::l2::CryptoReplayOptions {
            bbo_csv: Some(Box::new(csv.clone())),
            ..Default::default()
        },
    )
    .unwrap();
    let f = ticklane_replay::run::input::open(std::path::Path::new(path)).unwrap();
    sync.feed_lines(std::io::BufReader::new(f.reader)).unwrap();
    let tops = sync
        .products()
        .filter_map(|p| Some((p.to_owned(), top_levels(sync.book_of(p)?, SUMMARY_LEVELS))))
        .collect();
    let summary = sync.finish().unwrap();
    let rows = bbo_rows(&csv.0.lock().unwrap());
    assert_eq!(
        rows.len() as u64,
        summary.bbo_changes,
        "{path}: one row per BBO change"
    );
    FileReplay {
        tops,
        rows,
        summary,
    }
}
