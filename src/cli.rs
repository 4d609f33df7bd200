//! The command line as a library: [`main_with`] parses the arguments, runs the subcommand and
//! maps its failure to an exit code. `ticklane`'s own `main` calls it with the built-in
//! strategies; a crate of your own calls it with a [`Registry`] holding its strategies beside
//! them and gets every command (replay, backtests and reports, verify, live, serve) with them:
//!
//! ```no_run
//! use std::process::ExitCode;
//! use ticklane_strategies::Registry;
//!
//! fn main() -> ExitCode {
//!     let registry = Registry::builtins(); // .register(...) your own here
//!     ticklane::cli::main_with(registry)
//! }
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use ticklane_replay::run::Verdict;
use ticklane_strategies::Registry;

use crate::{exit, exit_code, strategies, Failure};

#[derive(Parser)]
#[command(
    name = "ticklane",
    version,
    about = "Low-latency market-data engine: exchange feed decoders, order books, deterministic replays",
    long_about = "Low-latency market-data engine: exchange feed decoders, order books, deterministic replays.\n\n\
                  Every replay ends with a line `digest: <hex>`: a hash over the ordered stream of best bid/offer \
                  changes and trades. The same input and options always give the same digest.\n\n\
                  Exit codes: 0 ok, 1 other failure, 2 bad usage or configuration (a flag; a strategy or \
                  backtest config file unreadable; any config with a bad key or a value out of range), \
                  3 input missing (a verify manifest and the live daemon's --config file included), not in the \
                  expected format, or without a symbol --symbols names, \
                  4 bad records in the input with --strict, 5 a check (--check, verify) found a difference, \
                  6 `live` stopped on its own for another reason than a signal, the end of session or \
                  [run] max_duration_s (a websocket source gave up: its connects kept failing); a `live` whose \
                  journal or other output failed exits 1. A supervisor restarts on non-zero (scripts/ticklane-live.service)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
// One value per process, parsed once: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Cmd {
    /// Replay a NASDAQ TotalView-ITCH 5.0 BinaryFILE (plain or gzip) through the order books.
    Replay(crate::replay::ReplayArgs),
    /// Backtest a strategy: `replay` with --strategy required (the same flags, outputs, digest).
    ///
    /// `ticklane backtest FILE --strategy NAME [FLAGS]` is
    /// `ticklane replay FILE --strategy NAME [FLAGS]`.
    #[command(mut_arg("strategy", |a| a.required(true)))]
    Backtest(crate::replay::ReplayArgs),
    /// Measure decode and book throughput and per-message book latency.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Convert other formats to ITCH 5.0.
    #[command(subcommand)]
    Convert(ConvertCmd),
    /// Generate synthetic data.
    #[command(subcommand)]
    Gen(GenCmd),
    /// Publish a capture for the live feed: ITCH as MoldUDP64 over UDP (multicast or unicast),
    /// with seeded faults and a retransmission request server.
    #[command(subcommand)]
    Serve(ServeCmd),
    /// The live feed daemon: receive ITCH over MoldUDP64 on A/B multicast lines, recover gaps
    /// from the retransmission server, journal every datagram, run the books (and a strategy),
    /// serve Prometheus metrics; on SIGINT/SIGTERM or the end of session print the summary and
    /// digest (the same digest `ticklane replay JOURNAL` prints). Or a websocket venue (Binance
    /// spot or USD-M futures, Coinbase): reconnect and resync from snapshots, journal every
    /// frame, same summary, digest and metrics endpoint. Each receive batch reaches the kernel
    /// before its messages are released (`kill -9` loses nothing released); a restart
    /// continues the journal in a new segment. Exits 0 when stopped by a signal, the end of
    /// session or max_duration_s; 6 when a source gave up; 1 when the journal or an output
    /// failed.
    Live(crate::live::LiveArgs),
    /// List the strategies (the built-ins, and those the program registered) with their config
    /// keys, defaults and valid ranges.
    Strategies,
    /// Re-run the backtest a report's manifest.json records (its run spec, paths relative to the
    /// manifest, so from any directory); exit 0 only if it reproduces the manifest (5 if the
    /// digest, the recorded configuration or an input's SHA-256 differs, saying what; 3 if the
    /// manifest or an input is missing).
    Verify {
        /// The manifest.json of a `replay --report DIR` run.
        manifest: PathBuf,
    },
    /// Print the completion script of a shell (bash, zsh, fish, elvish, powershell) on stdout.
    ///
    /// E.g. `ticklane completions bash > ~/.local/share/bash-completion/completions/ticklane`,
    /// `ticklane completions zsh > "${fpath[1]}/_ticklane"`,
    /// `ticklane completions fish > ~/.config/fish/completions/ticklane.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Load an ITCH file into memory, then report decode-only and decode+book throughput and the
    /// per-message book-apply latency distribution.
    Itch(crate::bench::ItchBenchArgs),
    /// Drive the threaded pipeline at a target rate and report per-hop latency percentiles,
    /// ring high-water marks, HdrHistogram percentile files and an SVG plot.
    Latency(crate::bench::LatencyBenchArgs),
    /// Time the backtest replay loop (strategy, execution simulator, ledger) against the same
    /// loop without a strategy, in one process, over many runs of an engine built once and
    /// reset between runs (the file held in memory); the reset, building the strategy and a
    /// cold one-shot run are reported separately, and every run's digest is checked against
    /// the one-shot run's.
    Backtest(crate::bench::BacktestBenchArgs),
    /// Decode each JSON message type (Binance depth, trade, book ticker; Coinbase l2update;
    /// Kraken v2 book) with our decoder, our simd-json tape path alone and serde_json into the
    /// same records, in one process; print ns per message and the serde_json/ours ratios.
    Json(crate::bench_json::JsonBenchArgs),
    /// Commit receive batches to a journal under an fsync policy, as the live daemon's receive
    /// thread does (one write a batch), and report the time per commit.
    Journal(crate::bench::JournalBenchArgs),
}

#[derive(Subcommand)]
enum ServeCmd {
    /// Publish an ITCH 5.0 BinaryFILE as MoldUDP64 on line A (and B), answer retransmission
    /// requests on 127.0.0.1:--request-port.
    Itch(crate::serve::ServeItchArgs),
    /// Serve a Binance or Coinbase capture as a local websocket venue (subscribe, snapshots
    /// from its own book, REST depth for Binance, seeded disconnects and bad frames).
    #[command(long_about = crate::serve_ws::LONG_ABOUT)]
    Ws(crate::serve_ws::ServeWsArgs),
}

#[derive(Subcommand)]
enum ConvertCmd {
    /// Re-encode a LOBSTER message file as an ITCH 5.0 BinaryFILE.
    Lobster(crate::convert::LobsterArgs),
    /// Write an ITCH 5.0 file as hftbacktest's market-by-order event array (.npz).
    Hftbacktest(crate::hftbacktest::HftbacktestArgs),
}

#[derive(Subcommand)]
enum GenCmd {
    /// Write a seeded, realistic multi-symbol ITCH 5.0 order-flow file (for benchmarks).
    Itch(crate::convert::GenItchArgs),
}

/// Restores the default action of SIGPIPE, as other Unix command-line tools have it: Rust
/// ignores the signal, so `ticklane replay FILE | head` would fail on its next write (a panic
/// in `println!`) instead of ending quietly when the reader goes away. Not for the daemons
/// (`live`, `serve`), which write only to sockets and their own files and must not be killed
/// by a consumer of their terminal output.
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: signal(2) with SIG_DFL installs no handler code; it runs before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs the `ticklane` command line on this process's arguments with the strategies of
/// `registry` (every name `--strategy`, a run spec, a manifest or a live `[strategy]` can use),
/// and returns the exit code: 0 ok, 1 other failure, 2 bad usage or configuration, 3 input
/// missing or not in the expected format, 4 bad records with `--strict`, 5 a check found a
/// difference, 6 the live daemon stopped on its own (a source gave up). Errors are printed on
/// stderr.
///
/// Call it once, from `main`: the first registry given serves the whole process.
pub fn main_with(registry: Registry) -> ExitCode {
    // Only `main` sets it, once; a second call keeps the first registry.
    crate::registry::set(registry);
    let cli = Cli::parse();
    if !matches!(cli.cmd, Cmd::Live(_) | Cmd::Serve(_)) {
        default_sigpipe();
    }
    let res = match cli.cmd {
        Cmd::Replay(a) | Cmd::Backtest(a) => crate::replay::replay(a),
        Cmd::Bench(BenchCmd::Itch(a)) => crate::bench::itch(a),
        Cmd::Bench(BenchCmd::Latency(a)) => crate::bench::latency(a),
        Cmd::Bench(BenchCmd::Backtest(a)) => crate::bench::backtest(a),
        Cmd::Bench(BenchCmd::Json(a)) => crate::bench_json::json(a),
        Cmd::Bench(BenchCmd::Journal(a)) => crate::bench::journal(a),
        Cmd::Convert(ConvertCmd::Lobster(a)) => crate::convert::lobster(a),
        Cmd::Convert(ConvertCmd::Hftbacktest(a)) => crate::hftbacktest::convert(a),
        Cmd::Gen(GenCmd::Itch(a)) => crate::convert::gen_itch(a),
        Cmd::Verify { manifest } => verify(&manifest),
        Cmd::Completions { shell } => {
            let mut cmd = Cli::command();
            let name = cmd.get_name().to_owned();
            clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
            Ok(0)
        }
        Cmd::Serve(ServeCmd::Itch(a)) => crate::serve::itch(a),
        Cmd::Serve(ServeCmd::Ws(a)) => crate::serve_ws::ws(a),
        Cmd::Live(a) => crate::live::run(a),
        Cmd::Strategies => {
            for info in strategies().infos() {
                println!("{:<16} {}", info.name, info.about);
                for k in &info.keys {
                    println!(
                        "    {:<14} = {:<8} {:<24} {}",
                        k.key, k.default, k.range, k.meaning
                    );
                }
            }
            Ok(0)
        }
    };
    match res {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.err);
            ExitCode::from(f.code)
        }
    }
}

/// `ticklane verify MANIFEST`.
fn verify(manifest: &std::path::Path) -> Result<u8, Failure> {
    let verdict = ticklane_replay::run::verify(manifest, strategies()).map_err(|e| Failure {
        code: exit_code(e.kind()),
        err: e.into(),
    })?;
    match verdict {
        Verdict::Match(d) => {
            println!("verify: ok: the re-run gives the manifest's digest");
            println!("digest: {d}");
            Ok(0)
        }
        Verdict::InputsDiffer(lines) => {
            for l in lines {
                println!("verify: differs: {l}");
            }
            println!("verify: FAILED: the inputs are not the ones the manifest records (nothing was re-run)");
            Ok(exit::CHECK)
        }
        Verdict::Differs(lines) => {
            for l in lines {
                println!("verify: differs: {l}");
            }
            println!("verify: FAILED: the re-run does not reproduce the manifest");
            Ok(exit::CHECK)
        }
    }
}
