//! The HDR percentile distribution: latency against percentile on a log 1/(1-p) axis.
//!
//! The axis spreads the tail so 90%, 99%, 99.9% and 99.99% sit equally apart, which is where
//! the stacks differ. Callers pass one line per trial with percentiles as fractions; turning
//! a measurement into those points is `charts.rs`'s job.

use plotters::prelude::*;

use super::{draw_legend, draw_lines, draw_svg, extent, headroom, style, Line, Svg};
use crate::error::ReportError;

/// Highest decade drawn: 1/(1-p) = 10^5 is the 99.999th percentile.
const MAX_DECADES: i32 = 5;

/// Draws the distributions; each line's points are `(fraction, latency in µs)`.
pub fn render(title: &str, lines: &[Line], size: (u32, u32)) -> Result<Svg, ReportError> {
    let decades = decades_needed(lines);
    let x_max = 10f64.powi(decades);
    let mapped: Vec<Line> = lines
        .iter()
        .map(|l| Line {
            points: l
                .points
                .iter()
                .filter(|(p, _)| *p < 1.0)
                .map(|&(p, us)| ((1.0 / (1.0 - p)).min(x_max), us / 1_000.0))
                .collect(),
            ..l.clone()
        })
        .collect();
    let (_, y_max) = extent(mapped.iter().flat_map(|l| l.points.iter().map(|p| p.1))).unwrap_or((0.0, 1.0));
    let key_points: Vec<f64> = (0..=decades).map(|d| 10f64.powi(d)).collect();

    draw_svg("percentiles", size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, style::title_font())
            .margin(10)
            .margin_right(28)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((1f64..x_max).log_scale().with_key_points(key_points), 0f64..headroom(y_max))?;
        style::mesh(&mut chart.configure_mesh())
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .x_label_formatter(&|x| percentile_tick(*x))
            .y_label_formatter(&|y| format!("{y}"))
            .draw()?;
        draw_lines(&mut chart, &mapped)?;
        draw_legend(&mut chart, mapped.iter().any(|l| l.legend.is_some()), SeriesLabelPosition::UpperLeft)
    })
}

/// Enough decades for the deepest percentile measured, at least to 99.9%.
fn decades_needed(lines: &[Line]) -> i32 {
    let deepest = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).filter(|p| *p < 1.0).fold(0.0f64, f64::max);
    // The tolerance keeps 99.99% (10^4 give or take rounding) at 4 decades rather than 5.
    let decades = ((1.0 / (1.0 - deepest)).log10() - 1e-6).ceil() as i32;
    decades.clamp(3, MAX_DECADES)
}

/// The tick label for 1/(1-p): 10 -> "90%", 1000 -> "99.9%".
fn percentile_tick(x: f64) -> String {
    let p = (1.0 - 1.0 / x) * 100.0;
    let s = format!("{p:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_as_percentiles() {
        assert_eq!(percentile_tick(1.0), "0%");
        assert_eq!(percentile_tick(10.0), "90%");
        assert_eq!(percentile_tick(100.0), "99%");
        assert_eq!(percentile_tick(1000.0), "99.9%");
        assert_eq!(percentile_tick(10000.0), "99.99%");
    }

    #[test]
    fn the_axis_reaches_the_deepest_percentile_but_at_least_99_9() {
        let line = |p: f64| Line {
            legend: None,
            color: style::UNKNOWN_STACK,
            dashed: false,
            points: vec![(0.5, 1.0), (p, 2.0), (1.0, 3.0)],
        };
        assert_eq!(decades_needed(&[line(0.99)]), 3);
        assert_eq!(decades_needed(&[line(0.9999)]), 4);
        assert_eq!(decades_needed(&[line(0.9999999)]), 5);
    }

    #[test]
    fn an_svg_with_the_percentile_marks_comes_out() {
        let line = Line {
            legend: Some("express".into()),
            color: style::stack_color(style::Family::Node, 0),
            dashed: false,
            points: vec![(0.0, 900.0), (0.5, 1_000.0), (0.9, 1_500.0), (0.99, 3_000.0), (0.999, 9_000.0)],
        };
        let svg = render("E-io c=100", &[line], (style::HALF, style::HEIGHT)).unwrap();
        assert!(svg.text.starts_with("<svg data-chart=\"percentiles\""));
        for mark in ["90%", "99%", "99.9%", "express"] {
            // Plotters writes each text on a line of its own.
            assert!(svg.text.contains(&format!(">\n{mark}\n</text>")), "missing {mark}");
        }
    }
}
