//! Helpers shared by the CLI's integration tests.

/// The hex digest on the last line of a run's stdout (`digest: <hex>`); panics, showing the
/// output, when the last line is not a digest.
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
