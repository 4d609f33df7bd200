//! `ticklane convert hftbacktest` end to end: a generated ITCH file in, an .npz out whose row
//! count follows from the message counts, and a clear error for a symbol that is not there.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ticklane");

fn count(stats: &str, key: &str) -> u64 {
    stats
        .split([' ', ')', '('])
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn generated_itch_converts_to_one_row_per_book_change() {
    let dir = std::env::temp_dir().join(format!("ticklane-hbt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let itch = dir.join("g.itch");
    let npz = dir.join("g.npz");
    let gen = Command::new(BIN)
        .args([
            "gen",
            "itch",
            "--seed",
            "3",
            "--symbols",
            "1",
            "--messages",
            "5000",
            "-o",
        ])
        .arg(&itch)
        .output()
        .unwrap();
    assert!(gen.status.success());
    // "wrote ...: N messages, B bytes (S=.. A=.. F=.. E=.. C=.. X=.. D=.. U=.. P=..)"
    let stats = String::from_utf8_lossy(&gen.stderr).into_owned();
    let conv = Command::new(BIN)
        .args(["convert", "hftbacktest"])
        .arg(&itch)
        .arg("-o")
        .arg(&npz)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&conv.stderr).into_owned();
    assert!(conv.status.success(), "{err}");
    assert!(err.contains(" 0 book errors"), "{err}");
    // One row per add (A, F), partial cancel (X: modify or cancel) and delete (D); two per
    // execution (E, C: a fill, then a modify or cancel) and per replace (U: cancel + add).
    let c = |k| count(&stats, k);
    let want = c("A") + c("F") + c("X") + c("D") + 2 * (c("E") + c("C") + c("U"));
    assert!(want > 1000, "{stats}");
    let bytes = std::fs::read(&npz).unwrap();
    // Stored zip member: 30-byte local header + name + extra, then the .npy.
    let name_len = usize::from(u16::from_le_bytes([bytes[26], bytes[27]]));
    let extra_len = usize::from(u16::from_le_bytes([bytes[28], bytes[29]]));
    let npy = &bytes[30 + name_len + extra_len..];
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let hlen = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
    let header = std::str::from_utf8(&npy[10..10 + hlen]).unwrap();
    assert!(
        header.contains(&format!("'shape': ({want},)")),
        "{header} vs {want}"
    );

    let bad = Command::new(BIN)
        .args(["convert", "hftbacktest"])
        .arg(&itch)
        .args(["-o"])
        .arg(dir.join("x.npz"))
        .args(["--symbol", "NOPE"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("no stock-directory message for symbol NOPE")
    );
    std::fs::remove_dir_all(&dir).ok();
}
