//! The threaded pipeline joins every thread it starts, on success and when the input is not
//! ITCH. The only test in its binary, so no other test's threads come and go while it counts.

use ticklane_engine::wait::WaitStrategy;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::stages::pipeline::{replay_itch_threaded, PipelineConfig};
use ticklane_replay::ItchReplayOptions;

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The thread count once exited threads have left /proc (the kernel may list a joined thread
/// for a moment after `join` returns); gives up after 2 s.
fn settled(want: usize) -> usize {
    let t = std::time::Instant::now();
    loop {
        let n = threads_now();
        if n == want || t.elapsed() > std::time::Duration::from_secs(2) {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn no_thread_is_left_behind() {
    let cfg = SynthConfig {
        seed: 3,
        symbols: 20,
        messages: 50_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();
    let before = threads_now();
    assert!(before > 0, "/proc/self/task is readable");
    for shards in [1, 4] {
        let cfg = PipelineConfig {
            shards,
            wait: WaitStrategy::Park,
            ..PipelineConfig::default()
        };
        let run = replay_itch_threaded(
            FrameReader::new(std::io::Cursor::new(data.clone())),
            ItchReplayOptions::default(),
            &cfg,
        )
        .unwrap();
        assert!(run.summary.messages > 50_000);
        assert_eq!(
            settled(before),
            before,
            "{shards} shards: every stage thread was joined"
        );
    }
    let r = replay_itch_threaded(
        FrameReader::new(std::io::Cursor::new(
            b"not itch at all, just text\n".repeat(20),
        )),
        ItchReplayOptions::default(),
        &PipelineConfig::default(),
    );
    assert!(r.is_err());
    assert_eq!(
        settled(before),
        before,
        "an input error still joins every thread"
    );
}
