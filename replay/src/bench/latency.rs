//! The report of a threaded pipeline driven at a target rate (`ticklane bench latency`): the
//! per-hop latency percentiles and ring high-water marks as a table, and the histograms as
//! HdrHistogram percentile files and an SVG plot ([`crate::bench::latency_report`]).

use std::fmt;
use std::io::Write;
use std::path::Path;

use crate::bench::latency_report::{svg_plot, write_hgrm};
use crate::stages::pipeline::PipelineRun;

/// Why the report files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LatencyFilesError {
    /// The directory could not be created.
    #[error("creating {path}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be created.
    #[error("cannot create {path}")]
    Create {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A run's hops: ingest to book, ingest to output.
fn hops(run: &PipelineRun) -> [(&'static str, &hdrhistogram::Histogram<u64>); 2] {
    [
        ("ingest→book", &run.latency.ingest_to_book),
        ("ingest→output (end to end)", &run.latency.ingest_to_output),
    ]
}

/// A run's report: its `Display` is the `replayed:` line, the hop latency table and the ring
/// table.
#[derive(Clone, Copy)]
pub struct LatencyTable<'a>(pub &'a PipelineRun);

impl fmt::Display for LatencyTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = self.0;
        let s = &run.summary;
        writeln!(
            f,
            "replayed:      {} msgs in {:.3} s ({:.0} msgs/s), digest {}",
            s.messages, s.elapsed_s, s.msgs_per_sec, s.digest
        )?;
        writeln!(
            f,
            "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "latency (ns)", "p50", "p90", "p99", "p99.9", "p99.99", "max", "samples"
        )?;
        for (name, h) in hops(run) {
            writeln!(
                f,
                "{name:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.value_at_quantile(0.9999),
                h.max(),
                h.len()
            )?;
        }
        writeln!(
            f,
            "{:<28} {:>9} {:>9} {:>12}",
            "ring", "capacity", "high-water", "full events"
        )?;
        for r in &run.rings {
            writeln!(
                f,
                "{:<28} {:>9} {:>9} {:>12}",
                r.name, r.capacity, r.high_water, r.full_events
            )?;
        }
        Ok(())
    }
}

/// Writes `ingest_to_book.hgrm`, `ingest_to_output.hgrm` and `latency.svg` (titled `title`)
/// into `dir`, creating it.
///
/// # Errors
/// When the directory or a file cannot be created or written.
pub fn write_files(run: &PipelineRun, dir: &Path, title: &str) -> Result<(), LatencyFilesError> {
    let shown = |p: &Path| p.display().to_string();
    std::fs::create_dir_all(dir).map_err(|source| LatencyFilesError::CreateDir {
        path: shown(dir),
        source,
    })?;
    let hops = hops(run);
    for (file, h) in [
        ("ingest_to_book.hgrm", hops[0].1),
        ("ingest_to_output.hgrm", hops[1].1),
    ] {
        let path = dir.join(file);
        let f = std::fs::File::create(&path).map_err(|source| LatencyFilesError::Create {
            path: shown(&path),
            source,
        })?;
        let mut w = std::io::BufWriter::new(f);
        write_hgrm(h, &mut w)
            .and_then(|()| w.flush())
            .map_err(|source| LatencyFilesError::Write {
                path: shown(&path),
                source,
            })?;
    }
    let svg = dir.join("latency.svg");
    std::fs::write(&svg, svg_plot(title, &hops)).map_err(|source| LatencyFilesError::Write {
        path: shown(&svg),
        source,
    })
}
