//! Throughput and p99 latency per interval over a trial's time, in two stacked panels.
//!
//! This is where the machine's speed drifts and a stack's warm-up or GC pauses show. Both
//! panels share the time axis; callers pass one line per trial for each panel.

use plotters::prelude::*;

use super::{draw_key, draw_lines, draw_svg, extent, headroom, style, Line, Svg};
use crate::error::ReportError;

/// Draws `throughput` (points `(t_s, req/s)`) above `latency` (points `(t_s, p99 µs)`).
pub fn render(title: &str, throughput: &[Line], latency: &[Line], size: (u32, u32)) -> Result<Svg, ReportError> {
    let all = throughput.iter().chain(latency);
    let (_, t_max) = extent(all.flat_map(|l| l.points.iter().map(|p| p.0))).unwrap_or((0.0, 1.0));
    let (_, rate_max) = extent(throughput.iter().flat_map(|l| l.points.iter().map(|p| p.1))).unwrap_or((0.0, 1.0));
    let latency_ms: Vec<Line> = latency
        .iter()
        .map(|l| Line { points: l.points.iter().map(|&(t, us)| (t, us / 1_000.0)).collect(), ..l.clone() })
        .collect();
    let (_, lat_max) = extent(latency_ms.iter().flat_map(|l| l.points.iter().map(|p| p.1))).unwrap_or((0.0, 1.0));
    let t_max = if t_max > 0.0 { t_max } else { 1.0 };

    draw_svg("timeseries", size, |root| {
        let titled = root.titled(title, style::title_font())?;
        let (top, bottom) = titled.split_vertically(size.1 / 2 - 12);

        let mut upper = ChartBuilder::on(&top)
            .margin(8)
            .x_label_area_size(20)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..t_max, 0f64..headroom(rate_max))?;
        style::mesh(&mut upper.configure_mesh())
            .y_desc("req/s")
            .y_labels(5)
            .y_label_formatter(&|v| short(*v))
            .x_labels(0)
            .draw()?;
        draw_lines(&mut upper, throughput)?;

        let mut lower = ChartBuilder::on(&bottom)
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..t_max, 0f64..headroom(lat_max))?;
        style::mesh(&mut lower.configure_mesh())
            .x_desc("seconds into the trial")
            .y_desc("p99 (ms)")
            .y_labels(5)
            .y_label_formatter(&|v| short(*v))
            .draw()?;
        draw_lines(&mut lower, &latency_ms)?;
        let key: Vec<(&str, RGBColor)> =
            throughput.iter().filter_map(|l| Some((l.legend.as_deref()?, l.color))).collect();
        draw_key(root, &key)
    })
}

/// An axis value without needless decimals: 4500, 12k, 2.5.
fn short(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else if v.abs() >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
