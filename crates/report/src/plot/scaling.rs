//! Throughput against closed-loop connections, on a log connections axis.
//!
//! Each trial is a dot; each stack's line runs through the value `charts.rs` chose to summarise
//! a connection count (the median of its valid trials), so the spread stays visible.

use plotters::prelude::*;

use super::{draw_legend, draw_lines, draw_svg, extent, headroom, style, Dots, Line, Svg};
use crate::error::ReportError;

/// Draws the summary `lines` (`(connections, req/s)`) over the trial `dots`.
pub fn render(title: &str, lines: &[Line], dots: &[Dots], size: (u32, u32)) -> Result<Svg, ReportError> {
    let xs = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .chain(dots.iter().flat_map(|d| d.points.iter().chain(&d.hollow).map(|p| p.0)));
    let (x_min, x_max) = extent(xs).unwrap_or((1.0, 10.0));
    let ys = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(dots.iter().flat_map(|d| d.points.iter().chain(&d.hollow).map(|p| p.1)));
    let (_, y_max) = extent(ys).unwrap_or((0.0, 1.0));
    let x_range = (x_min.max(1.0) / 1.5)..(x_max.max(1.0) * 1.5);
    let mut ticks: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();

    draw_svg("scaling", size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, style::title_font())
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range.log_scale().with_key_points(ticks), 0f64..headroom(y_max))?;
        style::mesh(&mut chart.configure_mesh())
            .x_desc("connections")
            .y_desc("throughput (req/s)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        for d in dots {
            let color = style::faint(d.color);
            chart.draw_series(d.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            chart.draw_series(d.hollow.iter().map(|&p| Circle::new(p, 4, d.color.stroke_width(1))))?;
        }
        draw_lines(&mut chart, lines)?;
        draw_legend(&mut chart, lines.iter().any(|l| l.legend.is_some()), SeriesLabelPosition::UpperLeft)
    })
}
