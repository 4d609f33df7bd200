//! `equity.svg`: the equity curve (top panel, currency units) and the position (bottom panel,
//! lots) over event time, drawn with `plotters`' SVG backend.
//!
//! plotters is built without its font stack: text goes into the SVG as `<text>` elements and
//! the viewer's fonts render it, with label boxes laid out from plotters' built-in size
//! estimate. Nothing here reads the system's fonts, so the output is the same on every machine.

use plotters::prelude::*;

use super::decimal::money_f64;
use super::{EquitySample, ReportError};

/// Width and height of the picture, pixels.
pub const SVG_SIZE: (u32, u32) = (1000, 640);

/// `(lo, hi)` widened so that a flat series still gets a visible range.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi > lo {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        (lo - pad, hi + pad)
    }
}

fn min_max(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    })
}

fn plot_err<E: std::error::Error + Send + Sync>(
    stage: &'static str,
) -> impl Fn(DrawingAreaErrorKind<E>) -> ReportError {
    move |_| ReportError::Plot { stage }
}

/// Renders the equity and position curves as SVG text. Time on the x axis is seconds since the
/// first sample; an empty curve gives the two empty panels with their axes.
///
/// # Errors
///
/// [`ReportError::Plot`] if plotters fails to draw (it does not for finite data).
pub fn equity_svg(samples: &[EquitySample], ticks_per_unit: i64) -> Result<String, ReportError> {
    let t0 = samples.first().map_or(0, |s| s.ts);
    let secs = |s: &EquitySample| s.ts.saturating_sub(t0) as f64 / 1e9;
    let eq: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (secs(s), money_f64(s.equity, ticks_per_unit)))
        .collect();
    let pos: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (secs(s), s.position as f64))
        .collect();
    let (x_lo, x_hi) = padded(0.0, eq.last().map_or(0.0, |p| p.0));
    let (x_lo, x_hi) = (x_lo.max(0.0), x_hi);
    let (e_lo, e_hi) = min_max(eq.iter().map(|p| p.1));
    let (e_lo, e_hi) = padded(e_lo, e_hi);
    let (p_lo, p_hi) = min_max(pos.iter().map(|p| p.1));
    let (p_lo, p_hi) = padded(p_lo, p_hi);

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SVG_SIZE).into_drawing_area();
        root.fill(&WHITE)
            .map_err(plot_err("filling the background"))?;
        let (top, bottom) = root.split_vertically(SVG_SIZE.1 * 3 / 5);

        let mut chart = ChartBuilder::on(&top)
            .caption("equity (currency units)", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, e_lo..e_hi)
            .map_err(plot_err("laying out the equity panel"))?;
        chart
            .configure_mesh()
            .x_desc("seconds since first sample")
            .draw()
            .map_err(plot_err("drawing the equity axes"))?;
        chart
            .draw_series(LineSeries::new(eq, &BLUE))
            .map_err(plot_err("drawing the equity curve"))?;

        let mut chart = ChartBuilder::on(&bottom)
            .caption("position (lots)", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, p_lo..p_hi)
            .map_err(plot_err("laying out the position panel"))?;
        chart
            .configure_mesh()
            .x_desc("seconds since first sample")
            .draw()
            .map_err(plot_err("drawing the position axes"))?;
        chart
            .draw_series(LineSeries::new(pos, &RED))
            .map_err(plot_err("drawing the position curve"))?;
        root.present().map_err(plot_err("finishing the picture"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::stats::tests::curve;

    #[test]
    fn svg_contains_plotted_lines_and_labels() {
        let eq = curve(&[
            (0, 0),
            (10_000_000_000, 5),
            (-3_000_000_000, -2),
            (25_000_000_000, 0),
        ]);
        let svg = equity_svg(&eq, 10_000).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        // Two plotted series: one polyline each for equity and position (plus none for axes,
        // which are drawn as lines/rects), so at least two.
        assert!(svg.matches("<polyline").count() >= 2, "no plotted path");
        assert!(svg.contains("equity (currency units)"));
        assert!(svg.contains("position (lots)"));
        // Deterministic.
        assert_eq!(svg, equity_svg(&eq, 10_000).unwrap());
    }

    #[test]
    fn empty_and_flat_curves_still_draw() {
        let svg = equity_svg(&[], 10_000).unwrap();
        assert!(svg.contains("</svg>"));
        let flat = curve(&[(0, 0)]);
        let svg = equity_svg(&flat, 10_000).unwrap();
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }
}
