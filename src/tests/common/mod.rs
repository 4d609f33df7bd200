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
