//! One claim's ratio over the runs: a line through the medians and a band for the intervals.
//!
//! The x axis is the run's place in the history (evenly spaced, labelled with the date), so
//! runs of different series share one axis; the y axis is the ratio, with ratio 1 drawn when it
//! is near the data. `index.rs` picks the series; this file only draws them, in the shared
//! `style`.

use claimbench_model::format::trimmed;
use plotters::prelude::*;

use super::{draw_legend, draw_svg, style, Svg};
use crate::error::ReportError;

/// Width and height of a trend chart, in pixels.
pub const SIZE: (u32, u32) = (960, 300);

/// One run's ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The run's place in the history, from 0.
    pub x: usize,
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

/// One line of the chart: one profile and runtime pair.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<Point>,
}

/// Draws the series over `x_labels.len()` runs; `id` goes into the SVG's `data-claim`.
pub fn render(id: &str, y_desc: &str, series: &[Series], x_labels: &[String]) -> Result<Svg, ReportError> {
    let values =
        series.iter().flat_map(|s| &s.points).flat_map(|p| [p.low, p.median, p.high]).filter(|v| v.is_finite());
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        (lo, hi) = (0.5, 1.5);
    }
    // Ratio 1 (no difference between the stacks) is worth showing when it is near the data.
    let show_one = lo <= 2.0 && hi >= 0.5;
    if show_one {
        lo = lo.min(1.0);
        hi = hi.max(1.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-6);
    let y_range = (lo - pad).max(0.0)..(hi + pad);
    let n = x_labels.len().max(1);
    let x_range = -0.5..(n as f64 - 0.5);

    let mut svg = draw_svg("trend", SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range.clone(), y_range.clone())?;
        let label_at = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                x_labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        style::mesh(&mut chart.configure_mesh())
            .x_labels(n.min(10))
            .x_label_formatter(&label_at)
            .y_labels(6)
            .y_label_formatter(&|y| trimmed(*y, 3))
            .y_desc(y_desc)
            .draw()?;
        if show_one {
            chart.draw_series(LineSeries::new(
                [(x_range.start, 1.0), (x_range.end, 1.0)],
                style::REFERENCE.stroke_width(1),
            ))?;
        }
        for s in series {
            let band: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (p.x as f64, p.high))
                .chain(s.points.iter().rev().map(|p| (p.x as f64, p.low)))
                .collect();
            if s.points.len() >= 2 {
                chart.draw_series([Polygon::new(band, s.color.mix(0.18).filled())])?;
            }
            for p in &s.points {
                chart.draw_series(LineSeries::new(
                    [(p.x as f64, p.low), (p.x as f64, p.high)],
                    s.color.mix(0.6).stroke_width(1),
                ))?;
            }
            let line = chart.draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.x as f64, p.median)),
                s.color.stroke_width(2),
            ))?;
            let color = s.color;
            line.label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
            chart.draw_series(s.points.iter().map(|p| Circle::new((p.x as f64, p.median), 3, s.color.filled())))?;
        }
        draw_legend(&mut chart, !series.is_empty(), SeriesLabelPosition::UpperLeft)
    })?;
    svg.text = svg.text.replacen("<svg ", &format!("<svg data-claim=\"{}\" ", attr(id)), 1);
    Ok(svg)
}

/// Text safe inside a double-quoted attribute.
fn attr(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}
