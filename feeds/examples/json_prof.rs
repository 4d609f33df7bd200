use std::hint::black_box;
use ticklane_feeds::binance::BinanceDecoder;
use ticklane_feeds::json::Precision;
const DEPTH: &str = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"],["61862.50000000","0.05019000"],["61862.51000000","0.00000000"]]}}"#;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(100000, |s| s.parse().unwrap());
    let mut bd = BinanceDecoder::new();
    let mut lv = Vec::with_capacity(64);
    let mut buf = Vec::with_capacity(4096);
    let p = Precision { px: 8, qty: 8 };
    let mut acc = 0usize;
    for _ in 0..n {
        buf.clear();
        buf.extend_from_slice(black_box(DEPTH).as_bytes());
        acc += bd.decode(&mut buf, p, &mut lv).is_ok() as usize + lv.len();
    }
    println!("{acc}");
}
