//! Latency histograms for people: HdrHistogram's percentile-distribution text (`.hgrm`, which
//! the HdrHistogram plotter and most tooling read) and an SVG plot of latency against percentile
//! on the usual log scale (0 %, 90 %, 99 %, 99.9 %, ...), so a person can look rather than read.

use std::fmt::Write as _;
use std::io::{self, Write};

use hdrhistogram::Histogram;

/// Writes `h` (values in ns) as an HdrHistogram percentile distribution, values in µs.
///
/// # Errors
/// Errors of `w`.
pub fn write_hgrm(h: &Histogram<u64>, w: &mut impl Write) -> io::Result<()> {
    writeln!(
        w,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let us = v.value_iterated_to() as f64 / 1000.0;
        if q < 1.0 {
            writeln!(
                w,
                "{us:>12.3} {q:>14.12} {total:>10} {:>14.2}",
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(w, "{us:>12.3} {q:>14.12} {total:>10}",)?;
        }
    }
    writeln!(
        w,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    )?;
    writeln!(
        w,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        h.max() as f64 / 1000.0,
        h.len()
    )?;
    writeln!(
        w,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        h.distinct_values()
    )
}

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// An SVG plot of each histogram's latency (log scale, ns) against percentile (log scale of
/// 1/(1-p), 0 % to 99.999 %).
pub fn svg_plot(title: &str, series: &[(&str, &Histogram<u64>)]) -> String {
    let (w, h) = (900.0f64, 520.0f64);
    let (l, r, t, b) = (80.0, 200.0, 40.0, 60.0);
    let pw = w - l - r;
    let ph = h - t - b;
    let max_nines = 5.0; // 99.999 %
    let x_of = |q: f64| l + (-(1.0 - q.min(0.999_99)).log10()).min(max_nines) / max_nines * pw;
    let ymax = series
        .iter()
        .map(|(_, hh)| hh.max())
        .max()
        .unwrap_or(1)
        .max(10) as f64;
    let ymin = series
        .iter()
        .map(|(_, hh)| hh.min())
        .filter(|&v| v > 0)
        .min()
        .unwrap_or(1)
        .max(1) as f64;
    let (lo, hi) = (
        ymin.log10().floor(),
        ymax.log10().ceil().max(ymin.log10().floor() + 1.0),
    );
    let y_of = |ns: f64| t + ph - (ns.max(1.0).log10() - lo) / (hi - lo) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" font-size="16" text-anchor="middle">{title}</text>"#,
        l + pw / 2.0
    );
    for k in 0..=5 {
        let q = 1.0 - 10f64.powi(-k);
        let x = x_of(q);
        let label = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"][k as usize];
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{}" stroke="#ddd"/>"##,
            t + ph
        );
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            t + ph + 18.0
        );
    }
    let mut d = lo as i32;
    while d as f64 <= hi {
        let y = y_of(10f64.powi(d));
        let label = match d {
            0..=2 => format!("{} ns", 10u64.pow(d as u32)),
            3..=5 => format!("{} µs", 10u64.pow(d as u32 - 3)),
            6..=8 => format!("{} ms", 10u64.pow(d as u32 - 6)),
            _ => format!("{} s", 10u64.pow((d - 9).max(0) as u32)),
        };
        let _ = writeln!(
            s,
            r##"<line x1="{l}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/>"##,
            l + pw
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{label}</text>"#,
            l - 6.0,
            y + 4.0
        );
        d += 1;
    }
    let _ = writeln!(
        s,
        r##"<rect x="{l}" y="{t}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">percentile</text>"#,
        l + pw / 2.0,
        h - 14.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">latency</text>"#,
        t + ph / 2.0,
        t + ph / 2.0
    );
    for (i, (name, hh)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let mut pts = String::new();
        for v in hh.iter_quantiles(5) {
            let q = v.quantile_iterated_to();
            if q > 0.999_99 {
                break;
            }
            let _ = write!(
                pts,
                "{:.1},{:.1} ",
                x_of(q),
                y_of(v.value_iterated_to() as f64)
            );
        }
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.trim_end()
        );
        let ly = t + 16.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/>"#,
            l + pw + 12.0,
            l + pw + 36.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}">{name}</text>"#,
            l + pw + 42.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).unwrap();
        for i in 1..=10_000u64 {
            h.record(100 + i % 997).unwrap();
        }
        h.record(50_000).unwrap();
        h
    }

    #[test]
    fn hgrm_has_header_rows_and_footer() {
        let mut out = Vec::new();
        write_hgrm(&sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
        assert!(
            text.contains("#[Max     =       50.015, Total count    =        10001]"),
            "{text}"
        );
        // The last data row reaches percentile 1 and the full count.
        let last = text
            .lines()
            .rfind(|l| !l.starts_with('#') && !l.trim().is_empty())
            .unwrap();
        assert!(
            last.contains("1.000000000000") && last.contains("10001"),
            "{last}"
        );
    }

    #[test]
    fn svg_has_one_line_per_series_and_a_legend() {
        let a = sample();
        let svg = svg_plot("t", &[("ingest→book", &a), ("ingest→output", &a)]);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("ingest→output") && svg.contains("99.99%"));
        let pts = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(pts.split(' ').count() > 10, "a plotted path, not a dot");
    }
}
