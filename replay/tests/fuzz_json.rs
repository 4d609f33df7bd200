//! Fuzz-style property tests: random bytes and mutations of real frames (byte flips, cuts,
//! insertions, duplicated spans) through every JSON decoder (Binance, Coinbase Exchange and
//! Advanced Trade, Kraken) and through the Coinbase and Kraken
//! replays. Nothing panics, and every replayed line is accounted for exactly once.

use proptest::prelude::*;
use ticklane_feeds::binance::BinanceDecoder;
use ticklane_feeds::coinbase::CoinbaseDecoder;
use ticklane_feeds::coinbase_advanced::AdvancedDecoder;
use ticklane_feeds::json::Precision;
use ticklane_feeds::kraken::KrakenDecoder;
use ticklane_replay::stages::l2::{CryptoReplayOptions, L2Summary};
use ticklane_replay::venue::coinbase::replay_coinbase;
use ticklane_replay::venue::kraken::replay_kraken;

/// Real frames: from the Binance spot capture, COINBASE.ws.28.0, KRAKEN.ws.48/49.0, and the
/// two v1/v2 book shapes Kraken documents.
const FRAMES: &[&str] = &[
    r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"]]}}"#,
    r#"{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}"#,
    r#"{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#,
    r#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"]],"time":"2021-04-17T16:43:37.075687Z"}"#,
    r#"{"type":"snapshot","product_id":"BAND-GBP","asks":[["14.8024","12.77"],["14.8069","12.49"]],"bids":[["14.7550","1.5"]]}"#,
    r#"{"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775","best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"2021-04-17T16:43:30.244075Z","trade_id":881613,"last_size":"0.04"}"#,
    r#"{"type":"match","trade_id":280232,"side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"}"#,
    r#"[993,[["354.04000000","0.28245396","1618678150.826417","s","m",""]],"trade","XMR/USD"]"#,
    r#"[1924,{"a":["0.043000",965,"965.15385023"],"b":["0.042950",2332,"2332.63400000"]},"ticker","SC/EUR"]"#,
    r#"[0,{"a":[["0.05120","0.00000500","1582905486.493008"]]},{"b":[["0.04765","0.00000500","1582905486.493008"]],"c":"974947235"},"book-10","BTC/USD"]"#,
    r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.5}],"asks":[{"price":45285.2,"qty":0}],"checksum":3682069327}]}"#,
    r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"}]}]}"#,
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, u8),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), prop::sample::select(&b"{}[]\",:0-.e\\"[..]))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 0usize..40).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(frame: &str, ms: &[Mutation]) -> Vec<u8> {
    let mut b = frame.as_bytes().to_vec();
    for m in ms {
        if b.is_empty() {
            break;
        }
        let at = |i: usize| i % b.len();
        match *m {
            Mutation::Flip(i, x) => {
                let k = at(i);
                b[k] ^= x | 1;
            }
            Mutation::Cut(i) => b.truncate(at(i)),
            Mutation::Insert(i, x) => {
                let k = at(i);
                b.insert(k, x);
            }
            Mutation::Duplicate(i, n) => {
                let k = at(i);
                let end = (k + n).min(b.len());
                let span = b[k..end].to_vec();
                b.splice(k..k, span);
            }
        }
    }
    b
}

fn decode_all(bytes: &[u8]) {
    let p = Precision { px: 8, qty: 8 };
    let mut lv = Vec::new();
    let mut tr = Vec::new();
    let _ = BinanceDecoder::new().decode(&mut bytes.to_vec(), p, &mut lv);
    let _ = CoinbaseDecoder::new().decode(&mut bytes.to_vec(), p, &mut lv);
    let _ = KrakenDecoder::new().decode(&mut bytes.to_vec(), &mut lv, &mut tr);
    let mut at = Vec::new();
    let _ = AdvancedDecoder::new().decode(&mut bytes.to_vec(), p, &mut lv, &mut at);
}

fn accounted(s: &L2Summary) -> bool {
    s.lines == s.messages + s.control + s.bad_total()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_real_frames_never_panic(i in 0..FRAMES.len(), ms in prop::collection::vec(mutation(), 1..6)) {
        decode_all(&mutate(FRAMES[i], &ms));
    }

    /// A capture of mutated frames (each as a cryptofeed line, some lines themselves garbage):
    /// the replays never panic and count every line exactly once.
    #[test]
    fn replays_of_mutated_captures_count_every_line(
        picks in prop::collection::vec((0..FRAMES.len(), prop::collection::vec(mutation(), 0..3), any::<bool>()), 1..30)
    ) {
        let mut text = Vec::new();
        for (k, (i, ms, raw)) in picks.iter().enumerate() {
            if *raw {
                // A mangled line, container and all.
                text.extend(mutate(&format!("1618677817.{k}: {}", FRAMES[*i]), ms));
            } else {
                text.extend(format!("1618677817.{k}: ").as_bytes());
                text.extend(mutate(FRAMES[*i], ms));
            }
            text.push(b'\n');
        }
        for kraken in [false, true] {
            let r = if kraken {
                replay_kraken(&text[..], CryptoReplayOptions::default())
            } else {
                replay_coinbase(&text[..], CryptoReplayOptions::default())
            };
            if let Ok(s) = r {
                prop_assert!(accounted(&s), "{s:?}");
            }
        }
    }
}
