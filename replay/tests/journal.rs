//! Journal replay: the real AAPL ITCH sample published as MoldUDP64 on two lines with seeded
//! drops, copies and reordering, the losses of both lines filled from a retransmission line, and
//! recorded as a journal. Replaying the journal must print the digest of a replay of the file.

use std::path::PathBuf;

use ticklane_engine::strategy::NoStrategy;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::journal::{range_payload, JournalWriter, RecordKind};
use ticklane_feeds::journal::{segment_header, FLAG_CONTINUES, FLAG_OPEN, HEADER_LEN};
use ticklane_feeds::journal_file::StagedRecords;
use ticklane_feeds::moldudp64::{end_of_session, PacketBuilder};
use ticklane_replay::l3::journal::{replay_journal_segments, replay_journal_with};
use ticklane_replay::run::input;
use ticklane_replay::{replay_itch, ItchReplayOptions};

const SESSION: [u8; 10] = *b"AAPL000001";

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/AAPL_2012-06-21_lobster10.itch")
}

fn file_digest() -> String {
    let inp = input::open(&sample()).unwrap();
    replay_itch(FrameReader::new(inp.reader), ItchReplayOptions::default())
        .unwrap()
        .digest
}

/// The sample's messages, packed into MoldUDP64 packets of at most 1200 bytes, from seq 1.
fn packets() -> (Vec<Vec<u8>>, u64) {
    let inp = input::open(&sample()).unwrap();
    let mut r = FrameReader::new(inp.reader);
    let mut msgs = Vec::new();
    while let Some(f) = r.next_frame() {
        msgs.push(f.unwrap().bytes.to_vec());
    }
    let mut out = Vec::new();
    let mut seq = 1;
    let mut i = 0;
    while i < msgs.len() {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(SESSION, seq, 1200);
        while i < msgs.len() && b.push(&mut buf, &msgs[i]) {
            i += 1;
        }
        seq = b.finish(&mut buf);
        out.push(buf);
    }
    (out, seq)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn hit(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One line's packet stream with seeded faults (10% each, so the 30-odd packets see some).
fn faulty_line(packets: &[Vec<u8>], seed: u64) -> (Vec<usize>, Vec<bool>) {
    let mut rng = Rng(seed);
    let mut order = Vec::new();
    let mut delivered = vec![false; packets.len()];
    let mut held: Option<usize> = None;
    for (i, d) in delivered.iter_mut().enumerate() {
        if rng.hit(10) {
            continue; // dropped
        }
        *d = true;
        if rng.hit(10) && held.is_none() {
            held = Some(i); // goes out after the next one
            continue;
        }
        order.push(i);
        if rng.hit(10) {
            order.push(i); // copy
        }
        if let Some(h) = held.take() {
            order.push(h);
        }
    }
    if let Some(h) = held {
        order.push(h);
    }
    (order, delivered)
}

fn build_journal(skip_lost: bool) -> (Vec<u8>, usize) {
    let (packets, next_seq) = packets();
    let (a, got_a) = faulty_line(&packets, 0x1234_5678_9abc_def1);
    let (b, got_b) = faulty_line(&packets, 0x0fed_cba9_8765_4321);
    let mut w = JournalWriter::new(Vec::new(), 0).unwrap();
    let mut t = 1_000;
    let longest = a.len().max(b.len());
    for i in 0..longest {
        for (line, l) in [(0u16, &a), (1, &b)] {
            if let Some(&p) = l.get(i) {
                t += 10;
                w.append(RecordKind::Packet, t, line, &packets[p]).unwrap();
            }
        }
    }
    w.append(
        RecordKind::Packet,
        t + 1,
        0,
        &end_of_session(SESSION, next_seq),
    )
    .unwrap();
    let lost: Vec<usize> = (0..packets.len())
        .filter(|&i| !got_a[i] && !got_b[i])
        .collect();
    for &p in &lost {
        if skip_lost {
            let pk = ticklane_feeds::moldudp64::parse(&packets[p]).unwrap();
            w.append(
                RecordKind::Skip,
                t + 2,
                0,
                &range_payload(pk.seq, u64::from(pk.count)),
            )
            .unwrap();
        } else {
            w.append(RecordKind::Packet, t + 2, 2, &packets[p]).unwrap();
        }
    }
    (w.finish().unwrap(), lost.len())
}

#[test]
fn journal_replay_digest_equals_file_replay() {
    let (bytes, lost) = build_journal(false);
    assert!(
        lost > 0,
        "the seeds lose some packet on both lines, so retransmission is tested"
    );
    let (summary, stats) =
        replay_journal_with(&bytes[..], ItchReplayOptions::default(), NoStrategy).unwrap();
    // The README's replay of this file: 1039 messages, digest a0abf44d760f8aab381cd1bc1bc14a9a.
    assert_eq!(summary.messages, 1039);
    assert_eq!(summary.digest, "a0abf44d760f8aab381cd1bc1bc14a9a");
    assert_eq!(summary.digest, file_digest());
    assert!(
        stats.arbiter.duplicates > 0 && stats.arbiter.gaps > 0,
        "{stats}"
    );
    assert_eq!(
        stats.arbiter.won[2],
        stats.arbiter.recovered.min(stats.arbiter.won[2])
    );
    assert!(
        stats.arbiter.won[2] > 0,
        "retransmitted messages were released: {stats}"
    );
    assert_eq!(stats.missing_at_end, 0);
    assert_eq!((stats.corrupt, stats.cut), (0, None));
}

#[test]
fn recorded_skips_are_applied_the_same_way() {
    let (bytes, _) = build_journal(true);
    let (summary, stats) =
        replay_journal_with(&bytes[..], ItchReplayOptions::default(), NoStrategy).unwrap();
    assert!(stats.skips > 0);
    assert_eq!(summary.messages + stats.arbiter.skipped, 1039);
    assert_ne!(
        summary.digest,
        file_digest(),
        "lost messages change the digest"
    );
    // Deterministic: the same journal gives the same digest.
    let (again, _) =
        replay_journal_with(&bytes[..], ItchReplayOptions::default(), NoStrategy).unwrap();
    assert_eq!(again.digest, summary.digest);
}

#[test]
fn damaged_journals_replay_what_is_whole() {
    let (bytes, _) = build_journal(false);
    // Cut in the middle: fewer messages, the cut reported, no panic.
    let half = &bytes[..bytes.len() / 2];
    let (summary, stats) =
        replay_journal_with(half, ItchReplayOptions::default(), NoStrategy).unwrap();
    assert!(summary.messages < 1039);
    assert!(stats.cut.is_some() || stats.records > 0);
    // A flipped byte in the first record's payload: one corrupt record, counted.
    let mut bad = bytes.clone();
    bad[16 + 19 + 25] ^= 0x55;
    let (_, stats) =
        replay_journal_with(&bad[..], ItchReplayOptions::default(), NoStrategy).unwrap();
    assert_eq!(stats.corrupt, 1);
    // Not a journal at all.
    assert!(replay_journal_with(
        &b"not a journal at all"[..],
        ItchReplayOptions::default(),
        NoStrategy
    )
    .is_err());
}

/// A journal in three segment files, as a killed daemon and the one that replaced it leave
/// it, with damage: segment 0 still marked open and cut inside a record, then a file that is
/// not a journal segment at all, then a segment that continues the run (closed cleanly). The
/// replay counts each problem, reads every whole record, and prints the file's digest.
#[test]
fn segments_with_a_cut_an_open_header_and_a_garbage_file_replay_every_whole_record() {
    let (bytes, _) = build_journal(false);
    // Record boundaries, walked from the header on.
    let mut ends = vec![HEADER_LEN];
    for (_, _, _, payload) in StagedRecords::new(&bytes[HEADER_LEN..]) {
        ends.push(ends.last().unwrap() + 8 + 11 + payload.len());
    }
    assert_eq!(*ends.last().unwrap(), bytes.len());
    let split = ends[ends.len() / 2];
    let mut seg0 = segment_header(0, FLAG_OPEN).to_vec();
    seg0.extend_from_slice(&bytes[HEADER_LEN..split]);
    // The next record, cut after 7 of its bytes (the write the kill interrupted).
    seg0.extend_from_slice(&bytes[split..split + 7]);
    let garbage = b"this is not a journal segment".to_vec();
    let mut seg2 = segment_header(2, FLAG_CONTINUES).to_vec();
    seg2.extend_from_slice(&bytes[split..]);
    let segs = [seg0, garbage, seg2];
    let (summary, stats) = replay_journal_segments(
        segs.iter().map(|s| Ok(&s[..])),
        ItchReplayOptions::default(),
        NoStrategy,
    )
    .unwrap();
    assert_eq!(summary.messages, 1039);
    assert_eq!(summary.digest, file_digest());
    assert_eq!((stats.segments, stats.restarts), (2, 0), "{stats}");
    assert_eq!(stats.bad_segments, 1, "{stats}");
    assert_eq!(stats.unclosed_segments, 1, "{stats}");
    assert!(!stats.no_end_record, "{stats}");
    let cut = stats.cut.expect("the cut in segment 0");
    assert_eq!((cut.offset, cut.have), (split as u64, 7));
    assert_eq!(stats.records as usize, ends.len() - 1);
    let text = stats.to_string();
    assert!(text.contains("1 segments unreadable (skipped)"), "{text}");
    assert!(text.contains("1 earlier segments not closed"), "{text}");

    // The same journal ending with the open segment: the replay says the end is missing.
    let (short, stats) = replay_journal_segments(
        segs[..1].iter().map(|s| Ok(&s[..])),
        ItchReplayOptions::default(),
        NoStrategy,
    )
    .unwrap();
    assert!(short.messages < 1039);
    assert!(stats.no_end_record);
    assert!(stats
        .to_string()
        .contains("journal ends without its end record: the daemon did not stop cleanly"));
    // A first segment that cannot be opened is an error, not a panic.
    assert!(replay_journal_segments(
        std::iter::once(Err::<&[u8], _>(std::io::Error::other("gone"))),
        ItchReplayOptions::default(),
        NoStrategy,
    )
    .is_err());
}

/// A journal of format version 1 (written before segments: zeros after the version) replays
/// to the same pinned digest, and its end is judged by its last record.
#[test]
fn a_version_1_journal_replays_to_the_same_digest() {
    let (mut bytes, _) = build_journal(false);
    bytes[8..16].copy_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    let (summary, stats) =
        replay_journal_with(&bytes[..], ItchReplayOptions::default(), NoStrategy).unwrap();
    assert_eq!(summary.digest, "a0abf44d760f8aab381cd1bc1bc14a9a");
    // build_journal ends with retransmitted packets, not an end record: a version 1 journal
    // like that is reported as not stopped cleanly.
    assert!(stats.no_end_record, "{stats}");
}
