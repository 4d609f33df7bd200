//! End-to-end backtests through the `ticklane` binary: determinism across runs and thread
//! layouts, the report files, `verify` on untouched and edited manifests, config errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ticklane");
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/AAPL_2012-06-21_lobster10.itch"
);
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/exec-example.toml");

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-bt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ticklane(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run ticklane")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn digest_of(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    common::digest_in(&stdout(o))
}

fn mm(extra: &[&str]) -> Output {
    let mut args = vec!["replay", SAMPLE, "--strategy", "market_maker"];
    args.extend_from_slice(extra);
    ticklane(&args)
}

fn p(x: &Path) -> &str {
    x.to_str().unwrap()
}

#[test]
fn same_backtest_three_times_and_in_every_thread_layout_gives_one_digest() {
    let first = digest_of(&mm(&["--exec-config", EXAMPLE]));
    for _ in 0..2 {
        assert_eq!(digest_of(&mm(&["--exec-config", EXAMPLE])), first);
    }
    for layout in [
        &["--pipeline", "inline"][..],
        &["--pipeline", "threads", "--shards", "1"],
        &["--pipeline", "threads", "--shards", "3"],
    ] {
        let mut args = vec!["--exec-config", EXAMPLE];
        args.extend_from_slice(layout);
        assert_eq!(digest_of(&mm(&args)), first, "layout {layout:?}");
    }
    // The configuration is part of the result: zero latency and no fees fill differently.
    let plain = mm(&[]);
    assert_ne!(digest_of(&plain), first);
    assert!(stdout(&plain).contains("backtest report"));
}

#[test]
fn report_files_exist_parse_and_agree_with_each_other() {
    let dir = tmp_dir("report");
    let o = mm(&["--exec-config", EXAMPLE, "--report", p(&dir)]);
    let digest = digest_of(&o);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["digest"], digest.as_str());
    let fills = summary["stats"]["trades"].as_u64().unwrap();
    assert!(fills > 10, "the market maker trades on the sample: {fills}");
    // trades.csv: a header and one row per fill; the signed quantities sum to the position.
    let csv = std::fs::read_to_string(dir.join("trades.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (side, qty, pos) = (col("side"), col("qty"), col("position"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len() as u64, fills);
    let mut net = 0i64;
    for r in &rows {
        let q: i64 = r[qty].parse().unwrap();
        net += if r[side] == "buy" { q } else { -q };
        assert_eq!(
            r[pos].parse::<i64>().unwrap(),
            net,
            "running position column"
        );
    }
    assert_eq!(summary["stats"]["final_position"].as_i64().unwrap(), net);
    // trades.parquet: a Parquet file (magic at both ends).
    let pq = std::fs::read(dir.join("trades.parquet")).unwrap();
    assert!(pq.len() > 100 && pq.starts_with(b"PAR1") && pq.ends_with(b"PAR1"));
    // equity.svg: a plotted line.
    let svg = std::fs::read_to_string(dir.join("equity.svg")).unwrap();
    assert!(svg.contains("<svg") && (svg.contains("<polyline") || svg.contains("<path")));
    // manifest.json: the digest, the input's hash, the effective config.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["digest"], digest.as_str());
    assert_eq!(m["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(m["config"]["exec"]["latency"]["new_ns"], 30000);
    assert_eq!(m["config"]["strategy"]["name"], "market_maker");
}

#[test]
fn verify_passes_on_an_untouched_manifest_and_fails_on_edited_ones() {
    let dir = tmp_dir("verify");
    let o = mm(&["--exec-config", EXAMPLE, "--report", p(&dir)]);
    let digest = digest_of(&o);
    let manifest = dir.join("manifest.json");
    let v = ticklane(&["verify", p(&manifest)]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert_eq!(digest_of(&v), digest);

    let text = std::fs::read_to_string(&manifest).unwrap();
    // An edited digest.
    let edited = dir.join("edited-digest.json");
    let flipped = if digest.starts_with('0') { "1" } else { "0" };
    std::fs::write(
        &edited,
        text.replace(&digest, &format!("{flipped}{}", &digest[1..])),
    )
    .unwrap();
    let v = ticklane(&["verify", p(&edited)]);
    assert_eq!(v.status.code(), Some(5));
    assert!(stdout(&v).contains("differs: digest"), "{}", stdout(&v));

    // An edited configuration (a slower order entry): the re-run differs, and the recorded
    // summary beside the manifest says which results moved.
    let m2 = dir.join("manifest.json.orig");
    std::fs::copy(&manifest, &m2).unwrap();
    std::fs::write(
        &manifest,
        text.replace("\"new_ns\": 30000", "\"new_ns\": 900000000"),
    )
    .unwrap();
    let v = ticklane(&["verify", p(&manifest)]);
    assert_eq!(v.status.code(), Some(5), "{}", stdout(&v));
    assert!(stdout(&v).contains("differs: stats."), "{}", stdout(&v));
    std::fs::copy(&m2, &manifest).unwrap();

    // A changed input file: named, exit 5, nothing re-run.
    let copy = dir.join("sample.itch");
    std::fs::copy(SAMPLE, &copy).unwrap();
    let dir2 = tmp_dir("verify-input");
    let o = ticklane(&[
        "replay",
        p(&copy),
        "--strategy",
        "market_maker",
        "--report",
        p(&dir2),
    ]);
    assert!(o.status.success());
    let mut bytes = std::fs::read(&copy).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xFF;
    std::fs::write(&copy, bytes).unwrap();
    let v = ticklane(&["verify", p(&dir2.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(5), "{}", stdout(&v));
    assert!(
        stdout(&v).contains("differs: input sample.itch: sha256 is")
            || stdout(&v).contains("sample.itch: sha256 is"),
        "{}",
        stdout(&v)
    );
    assert!(
        !stdout(&v).contains("digest:"),
        "nothing re-run: {}",
        stdout(&v)
    );
    // A missing input (or manifest): exit 3, naming it.
    std::fs::remove_file(&copy).unwrap();
    let v = ticklane(&["verify", p(&dir2.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&v.stderr).contains("sample.itch"),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let v = ticklane(&["verify", p(&dir2.join("no-manifest.json"))]);
    assert_eq!(v.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&v.stderr).contains("no-manifest.json"));
}

fn ticklane_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ticklane")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn verify_runs_from_any_directory_with_paths_relative_to_the_manifest() {
    // A project folder with its data, its configs and a report; then moved elsewhere.
    let base = tmp_dir("moved");
    let (project, moved, elsewhere) = (base.join("a"), base.join("b"), base.join("c"));
    std::fs::create_dir_all(project.join("data")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(SAMPLE, project.join("data/s.itch")).unwrap();
    std::fs::copy(EXAMPLE, project.join("exec.toml")).unwrap();
    std::fs::write(
        project.join("mm.toml"),
        "half_spread = 200.0
size = 300
",
    )
    .unwrap();
    let o = ticklane_in(
        &project,
        &[
            "replay",
            "data/s.itch",
            "--strategy",
            "market_maker",
            "--strategy-config",
            "mm.toml",
            "--exec-config",
            "exec.toml",
            "--report",
            "runs/one",
        ],
    );
    let digest = digest_of(&o);
    let m = json(&project.join("runs/one/manifest.json"));
    // Paths relative to the manifest's folder, each input with its SHA-256; the spec whole.
    assert_eq!(m["inputs"][0]["path"], "../../data/s.itch");
    let spec = &m["spec"];
    assert_eq!(spec["inputs"][0]["path"], "../../data/s.itch");
    assert_eq!(spec["inputs"][0]["sha256"], m["inputs"][0]["sha256"]);
    assert_eq!(spec["format"], "itch");
    assert_eq!(spec["strategy"]["name"], "market_maker");
    assert_eq!(spec["strategy"]["config"]["half_spread"], 200.0);
    assert_eq!(spec["exec"]["latency"]["new_ns"], 30000);
    assert_eq!(spec["outputs"]["report"], ".");
    std::fs::rename(&project, &moved).unwrap();
    // From another directory, by an absolute path and by a relative one.
    let manifest = moved.join("runs/one/manifest.json");
    let v = ticklane_in(&elsewhere, &["verify", p(&manifest)]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}{}",
        stdout(&v),
        String::from_utf8_lossy(&v.stderr)
    );
    assert_eq!(digest_of(&v), digest);
    let v = ticklane_in(&moved.join("runs"), &["verify", "one/manifest.json"]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert_eq!(digest_of(&v), digest);
    // Nothing was written by verify: the report is as the run left it.
    assert_eq!(json(&manifest), m);
}

#[test]
fn verify_fails_with_exit_5_on_an_edited_strategy_key_digest_or_config() {
    let dir = tmp_dir("edited");
    let cfg = dir.join("mm.toml");
    std::fs::write(
        &cfg,
        "half_spread = 200.0
",
    )
    .unwrap();
    let rep = dir.join("rep");
    let o = mm(&["--strategy-config", p(&cfg), "--report", p(&rep)]);
    let digest = digest_of(&o);
    let manifest = rep.join("manifest.json");
    let original = json(&manifest);
    let verify_edited = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut m = original.clone();
        edit(&mut m);
        std::fs::write(&manifest, serde_json::to_string_pretty(&m).unwrap()).unwrap();
        let v = ticklane(&["verify", p(&manifest)]);
        std::fs::write(&manifest, serde_json::to_string_pretty(&original).unwrap()).unwrap();
        (v.status.code(), stdout(&v))
    };
    assert_eq!(verify_edited(&|_| {}).0, Some(0));
    // A strategy key: the re-run trades otherwise; the lines say what moved.
    let (code, out) =
        verify_edited(&|m| m["spec"]["strategy"]["config"]["half_spread"] = 500.0.into());
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains(&format!("differs: digest: {digest} -> ")),
        "{out}"
    );
    assert!(
        out.contains("differs: config.strategy.config_toml: \"half_spread = 200.0\\n\" -> \"half_spread = 500.0\\n\""),
        "{out}"
    );
    assert!(out.contains("differs: stats."), "{out}");
    // A strategy key that is not there is bad configuration, named.
    let (code, _) = verify_edited(&|m| m["spec"]["strategy"]["config"]["half_sprad"] = 1.0.into());
    assert_eq!(code, Some(2));
    // The digest.
    let (code, out) = verify_edited(&|m| m["digest"] = "0".repeat(32).into());
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains(&format!("differs: digest: {} -> {digest}", "0".repeat(32))),
        "{out}"
    );
    // The recorded configuration alone (the spec untouched): the same digest, still a
    // difference.
    let (code, out) =
        verify_edited(&|m| m["config"]["exec"]["fees"]["maker_per_lot"] = (-99.0).into());
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains("differs: config.exec.fees.maker_per_lot: -99.0 -> 0.0"),
        "{out}"
    );
    assert!(!out.contains("differs: digest"), "{out}");
    // The spec's record of an input's hash.
    let (code, out) = verify_edited(&|m| m["spec"]["inputs"][0]["sha256"] = "ab".repeat(32).into());
    assert_eq!(code, Some(5), "{out}");
    assert!(out.contains("sha256"), "{out}");
    // A manifest without a spec (an earlier version's) cannot be re-run: said so, exit 3.
    let mut old = original.clone();
    old.as_object_mut().unwrap().remove("spec");
    std::fs::write(&manifest, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    let v = ticklane(&["verify", p(&manifest)]);
    assert_eq!(v.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&v.stderr).contains("no run spec"));
}

#[test]
fn a_spec_file_gives_the_digest_of_the_equivalent_flags() {
    let dir = tmp_dir("spec");
    let elsewhere = tmp_dir("spec-cwd");
    std::fs::copy(SAMPLE, dir.join("s.itch")).unwrap();
    let exec = std::fs::read_to_string(EXAMPLE).unwrap();
    let flags = digest_of(&mm(&[
        "--exec-config",
        EXAMPLE,
        "--symbols",
        "AAPL",
        "--max-time-jump",
        "2h",
    ]));
    // Written by hand: the example's execution keys as the [exec] table, paths relative to
    // the spec's folder, run from another directory.
    let mut text = String::from("format = \"itch\"\n");
    let mut table = String::new();
    for line in exec.lines() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix('[') {
            Some(t) => table = format!("{}.", t.trim_end_matches(']')),
            None => text.push_str(&format!("exec.{table}{line}\n")),
        }
    }
    text.push_str(
        "[[inputs]]\npath = \"s.itch\"\n\
         [options]\nsymbols = [\"AAPL\"]\nmax_time_jump_ns = 7200000000000\n\
         [strategy]\nname = \"market_maker\"\n",
    );
    std::fs::write(dir.join("run.toml"), &text).unwrap();
    let o = ticklane_in(&elsewhere, &["replay", "--spec", p(&dir.join("run.toml"))]);
    assert_eq!(digest_of(&o), flags, "{text}");
    // The threaded layout in the spec: the same digest.
    text.push_str("[pipeline]\nmode = \"threads\"\nshards = 2\n");
    std::fs::write(dir.join("threads.toml"), &text).unwrap();
    let o = ticklane_in(
        &elsewhere,
        &["replay", "--spec", p(&dir.join("threads.toml"))],
    );
    assert_eq!(digest_of(&o), flags);
    // --save-spec writes what the flags describe; run from elsewhere, it gives their digest,
    // its report included.
    let saved = dir.join("saved/run.toml");
    std::fs::create_dir_all(dir.join("saved")).unwrap();
    let o = mm(&[
        "--exec-config",
        EXAMPLE,
        "--symbols",
        "AAPL",
        "--max-time-jump",
        "2h",
        "--save-spec",
        p(&saved),
    ]);
    assert_eq!(digest_of(&o), flags);
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    assert!(saved_text.contains("[strategy]"), "{saved_text}");
    let rep = dir.join("saved/report");
    assert!(!saved_text.contains("[outputs]"), "{saved_text}");
    std::fs::write(
        &saved,
        format!("{saved_text}\n[outputs]\nreport = \"report\"\n"),
    )
    .unwrap();
    let o = ticklane_in(&elsewhere, &["replay", "--spec", p(&saved)]);
    assert_eq!(
        digest_of(&o),
        flags,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = ticklane_in(&elsewhere, &["verify", p(&rep.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    // On L2 data: a spec naming only the queue model takes the L2 units, as the flags do.
    let l2_flags = digest_of(&l2_mm(&["--queue", "conservative"]));
    let mm_keys = std::fs::read_to_string(MM_BTC).unwrap();
    let l2 = format!(
        "format = \"binance\"\n[[inputs]]\npath = \"{SPOT}\"\n[strategy]\nname = \"market_maker\"\n\
         [strategy.config]\n{mm_keys}\n[exec]\nqueue.model = \"conservative\"\n"
    );
    std::fs::write(dir.join("l2.toml"), l2).unwrap();
    assert_eq!(
        digest_of(&ticklane(&["replay", "--spec", p(&dir.join("l2.toml"))])),
        l2_flags
    );
    // A spec key that does not apply to the input is refused, not ignored; flags that
    // describe the run do not go with --spec.
    std::fs::write(
        dir.join("bad.toml"),
        "[[inputs]]\npath = \"s.itch\"\n[options]\naccept_unsynced = true\n",
    )
    .unwrap();
    let o = ticklane(&["replay", "--spec", p(&dir.join("bad.toml"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("accept_unsynced"));
    let o = ticklane(&[
        "replay",
        "--spec",
        p(&dir.join("run.toml")),
        "--strategy",
        "obi_taker",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_exec_config_is_exit_2_and_names_the_problem() {
    let dir = tmp_dir("config");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[fees]\ntaker_bsp = 1.0\n").unwrap();
    let o = mm(&["--exec-config", p(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("taker_bsp"));
    std::fs::write(&bad, "[queue]\nmodel = \"lifo\"\n").unwrap();
    let o = mm(&["--exec-config", p(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("queue.model"));
    // An empirical latency file that is missing is named.
    std::fs::write(
        &bad,
        "[latency]\nmodel = \"empirical\"\ncsv = \"nope.csv\"\n",
    )
    .unwrap();
    let o = mm(&["--exec-config", p(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.csv"));
}

#[test]
fn empirical_latency_from_csv_runs_and_is_recorded_as_an_input() {
    let dir = tmp_dir("empirical");
    std::fs::write(
        dir.join("lat.csv"),
        "ts_ns,entry_ns,response_ns\n34200000000000,20000,10000\n34260000000000,80000,30000\n",
    )
    .unwrap();
    let cfg = dir.join("exec.toml");
    std::fs::write(
        &cfg,
        "[latency]\nmodel = \"empirical\"\ncsv = \"lat.csv\"\n",
    )
    .unwrap();
    let rep = dir.join("rep");
    let o = mm(&["--exec-config", p(&cfg), "--report", p(&rep)]);
    let d = digest_of(&o);
    assert_ne!(d, digest_of(&mm(&[])), "latency changes the fills");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("manifest.json")).unwrap()).unwrap();
    let inputs: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(inputs.iter().any(|i| i.ends_with("lat.csv")), "{inputs:?}");
    let v = ticklane(&["verify", p(&rep.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

const SPOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/spot_btcusdt_20240808.gz"
);
const MM_BTC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mm-btcusdt.toml");

fn l2_mm(extra: &[&str]) -> Output {
    let mut args = vec![
        "replay",
        "--format",
        "binance",
        SPOT,
        "--strategy",
        "market_maker",
        "--strategy-config",
        MM_BTC,
    ];
    args.extend_from_slice(extra);
    ticklane(&args)
}

#[test]
fn l2_backtest_on_a_binance_capture_reports_and_verifies() {
    let dir = tmp_dir("l2");
    let o = l2_mm(&["--queue", "conservative", "--report", p(&dir)]);
    let digest = digest_of(&o);
    let out = stdout(&o);
    assert!(out.contains("backtest report"), "{out}");
    assert!(out.contains("queue model conservative"), "{out}");
    // The same run again, and the other L2 model: another result.
    assert_eq!(digest_of(&l2_mm(&["--queue", "conservative"])), digest);
    assert_ne!(digest_of(&l2_mm(&["--queue", "probabilistic"])), digest);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["digest"], digest.as_str());
    // trades.csv in currency units: BTCUSDT prices near 61,800 and sizes in BTC, at most the
    // 0.001 BTC quote size; the signed sizes sum to the reported final position.
    let csv = std::fs::read_to_string(dir.join("trades.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(rows.len() > 10, "{csv}");
    let mut pos = 0.0;
    for r in &rows {
        let (px, qty): (f64, f64) = (r[5].parse().unwrap(), r[6].parse().unwrap());
        assert!(
            (60_000.0..63_000.0).contains(&px) && qty > 0.0 && qty <= 0.001,
            "{r:?}"
        );
        pos += if r[4] == "buy" { qty } else { -qty };
    }
    let last_pos: f64 = rows.last().unwrap()[9].parse().unwrap();
    assert!((pos - last_pos).abs() < 1e-9, "{pos} vs {last_pos}");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"format\": \"binance\""), "{manifest}");

    let v = ticklane(&["verify", p(&dir.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert_eq!(digest_of(&v), digest);
    // An edited queue model: the re-run differs.
    std::fs::write(
        dir.join("manifest.json"),
        manifest.replace("\"conservative\"", "\"probabilistic\""),
    )
    .unwrap();
    let v = ticklane(&["verify", p(&dir.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(5), "{}", stdout(&v));
}

#[test]
fn fifo_on_l2_data_is_refused_and_coinbase_backtests_verify() {
    let o = l2_mm(&["--queue", "fifo"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("fifo") && err.contains("L2"), "{err}");
    // The default queue model (fifo) is refused the same way.
    let o = l2_mm(&[]);
    assert_eq!(o.status.code(), Some(2));
    let coinbase = |extra: &[&str]| {
        let mut args = vec![
            "replay",
            "--format",
            "coinbase",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/coinbase_skl-gbp.jsonl"),
            "--strategy",
            "market_maker",
            "--strategy-config",
            MM_BTC,
        ];
        args.extend_from_slice(extra);
        ticklane(&args)
    };
    let o = coinbase(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("fifo"));
    // SKL-GBP around 0.57: the BTCUSDT config's cent grid still quotes (a cent off the
    // microprice); the run reports, and verify re-runs it from the manifest.
    let dir = tmp_dir("coinbase");
    let o = coinbase(&["--queue", "probabilistic", "--report", p(&dir)]);
    let digest = digest_of(&o);
    assert!(
        stdout(&o).contains("strategy:      market_maker"),
        "{}",
        stdout(&o)
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"format\": \"coinbase\""), "{manifest}");
    let v = ticklane(&["verify", p(&dir.join("manifest.json"))]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert_eq!(digest_of(&v), digest);
}
