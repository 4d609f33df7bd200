//! Coinbase Advanced Trade captures through its sync machine: snapshots and updates into the
//! book, recent-trade snapshots kept out of the trades, `sequence_num` gaps and new connections
//! making the books stale until their next snapshot, repeated messages dropped, bad frames
//! counted; the same digest inline and threaded.

use ticklane_engine::wait::WaitStrategy;
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions, L2Summary};
use ticklane_replay::stages::pipeline::{replay_l2_threaded, PipelineConfig};
use ticklane_replay::venue::VenueFormat;

const T0: u64 = 1_675_974_770_000_000_000;

fn l2(seq: u64, kind: &str, ups: &[(&str, &str, &str)]) -> String {
    let ups: Vec<String> = ups
        .iter()
        .map(|(side, px, qty)| {
            format!(
                r#"{{"side":"{side}","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"{px}","new_quantity":"{qty}"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":{seq},"events":[{{"type":"{kind}","product_id":"BTC-USD","updates":[{}]}}]}}"#,
        ups.join(",")
    )
}

fn trades(seq: u64, kind: &str, px: &str, size: &str, side: &str) -> String {
    format!(
        r#"{{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":{seq},"events":[{{"type":"{kind}","trades":[{{"trade_id":"1","product_id":"BTC-USD","price":"{px}","size":"{size}","side":"{side}","time":"2023-02-09T20:19:35.39625135Z"}}]}}]}}"#
    )
}

fn control(seq: u64, channel: &str) -> String {
    format!(
        r#"{{"channel":"{channel}","client_id":"","timestamp":"2023-02-09T20:19:35Z","sequence_num":{seq},"events":[]}}"#
    )
}

/// A session written by hand: `<receive ns> <frame>` lines, one millisecond apart.
fn capture() -> String {
    let frames = [
        control(0, "subscriptions"),
        l2(1, "snapshot", &[("bid", "100.00", "1"), ("bid", "99.50", "2"), ("offer", "100.50", "3")]),
        trades(2, "snapshot", "90.00", "5", "SELL"),
        l2(3, "update", &[("bid", "100.00", "0"), ("bid", "100.25", "4")]),
        trades(4, "update", "100.50", "0.5", "BUY"),
        control(5, "heartbeats"),
        // 6 is missing: the book cannot be trusted until a snapshot.
        l2(7, "update", &[("offer", "100.40", "1")]),
        l2(8, "snapshot", &[("bid", "99.00", "1"), ("offer", "101.00", "1")]),
        // Sent twice: dropped.
        l2(8, "snapshot", &[("bid", "99.00", "1"), ("offer", "101.00", "1")]),
        "{not json".to_owned(),
        r#"{"channel":"candles","client_id":"","timestamp":"2023-02-09T20:19:35Z","sequence_num":9,"events":[]}"#.to_owned(),
        // A new connection numbers from 0 again: stale until its snapshot.
        control(0, "subscriptions"),
        l2(1, "update", &[("bid", "99.10", "1")]),
        l2(2, "snapshot", &[("bid", "98.00", "1"), ("offer", "102.00", "2")]),
    ];
    frames
        .iter()
        .enumerate()
        .map(|(k, f)| format!("{} {f}\n", T0 + k as u64 * 1_000_000))
        .collect()
}

fn run(text: &str) -> (L2Summary, String) {
    let mut csv = Vec::new();
    let s = replay_l2(
        VenueFormat::CoinbaseAdvanced,
        text.as_bytes(),
        CryptoReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            ..Default::default()
        },
    )
    .unwrap();
    (s, String::from_utf8(csv).unwrap())
}

#[test]
fn a_hand_built_session_syncs_drops_history_and_resyncs_on_gaps() {
    let (s, csv) = run(&capture());
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    // ts, symbol, bid px, bid qty (1e-8 lots), ask px, ask qty, as worked out by hand.
    let ms = |k: u64| T0 + k * 1_000_000;
    let want = [
        format!(
            "{},BTC-USD,100.00000000,100000000,100.50000000,300000000",
            ms(1)
        ),
        format!(
            "{},BTC-USD,100.25000000,400000000,100.50000000,300000000",
            ms(3)
        ),
        format!(
            "{},BTC-USD,99.00000000,100000000,101.00000000,100000000",
            ms(7)
        ),
        format!(
            "{},BTC-USD,98.00000000,100000000,102.00000000,200000000",
            ms(13)
        ),
    ];
    assert_eq!(rows, want, "{csv}");
    assert_eq!(s.symbols.len(), 1);
    let x = &s.symbols[0];
    assert_eq!(x.symbol, "BTC-USD");
    // Two losses: the gap at 7 and the new connection.
    assert_eq!((x.snapshots, x.resyncs, s.resyncs), (3, 2, 2));
    // The update at 7 and the one at the new connection's 1 waited for a snapshot.
    assert_eq!((x.updates, x.before_snapshot), (1, 2));
    assert_eq!(x.stale_dropped, 1, "the repeated 8");
    // One new trade; the subscription's trade history is not replayed.
    assert_eq!((s.trades, x.trades), (1, 1));
    // Control: 2 subscriptions, 1 heartbeat, 1 trade-history snapshot.
    assert_eq!(s.control, 4);
    assert_eq!((s.bad_json, s.unknown), (1, 1));
    assert_eq!(s.lines, 14);
    assert_eq!(s.lines, s.messages + s.control + s.bad_total());
    assert!(x.synced_at_end);
    assert_eq!(x.bid, Some((98 * 100_000_000, 100_000_000)));
    assert_eq!(x.ask, Some((102 * 100_000_000, 200_000_000)));
    // Same input, same digest.
    assert_eq!(s.digest, run(&capture()).0.digest);
}

#[test]
fn threads_give_the_inline_digest() {
    let text = capture();
    let (inline, _) = run(&text);
    for shards in 1..=2 {
        let cfg = PipelineConfig {
            shards,
            wait: WaitStrategy::Park,
            epoch: 4,
            ..PipelineConfig::default()
        };
        let (s, _) = replay_l2_threaded(
            VenueFormat::CoinbaseAdvanced,
            std::io::Cursor::new(text.clone().into_bytes()),
            CryptoReplayOptions::default(),
            None::<(ticklane_engine::strategy::NoStrategy, _)>,
            &cfg,
        )
        .unwrap();
        assert_eq!(s.digest, inline.digest, "{shards} shards");
        assert_eq!(s.symbols, inline.symbols, "{shards} shards");
    }
}

#[test]
fn an_exchange_capture_is_not_an_advanced_trade_capture() {
    let e = replay_l2(
        VenueFormat::CoinbaseAdvanced,
        &br#"1 {"type":"l2update","product_id":"BTC-USD","changes":[["buy","1.0","1.0"]],"time":"2023-02-09T20:19:35Z"}
"#[..],
        CryptoReplayOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("not a Coinbase Advanced Trade capture"),
        "{e}"
    );
}
