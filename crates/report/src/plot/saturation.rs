//! The saturation curve: p99 latency against the offered (open-loop) rate, with the SLO line, or
//! a broadcast room's fan-out p99 against its members, with the target line.
//!
//! Latency is on a log axis because it grows by orders of magnitude once a stack saturates;
//! the highest rate under the SLO line is the stack's capacity. One line per trial.

use plotters::prelude::*;

use super::{draw_legend, draw_lines, draw_svg, extent, style, Line, Svg};
use crate::error::ReportError;

/// What the x axis counts and what the reference line is called: an offered rate against the
/// SLO, or a broadcast room's members against the fan-out target.
#[derive(Debug, Clone, Copy)]
pub enum Axis {
    Rate,
    Members,
}

impl Axis {
    fn x_desc(self) -> &'static str {
        match self {
            Axis::Rate => "offered rate (req/s)",
            Axis::Members => "room members",
        }
    }

    fn y_desc(self) -> &'static str {
        match self {
            Axis::Rate => "p99 latency (ms)",
            Axis::Members => "p99 fan-out latency (ms)",
        }
    }

    fn reference(self, ms: f64) -> String {
        match self {
            Axis::Rate => format!("SLO p99 ≤ {ms} ms"),
            Axis::Members => format!("target p99 ≤ {ms} ms"),
        }
    }
}

/// Draws the trials' `(x, p99 µs)` lines, x on `axis`, and the objective at `slo_ms`.
pub fn render(
    title: &str,
    axis: Axis,
    lines: &[Line],
    slo_ms: Option<f64>,
    size: (u32, u32),
) -> Result<Svg, ReportError> {
    let ms: Vec<Line> = lines
        .iter()
        .map(|l| Line { points: l.points.iter().map(|&(r, us)| (r, (us / 1_000.0).max(0.01))).collect(), ..l.clone() })
        .collect();
    let (x_min, x_max) = extent(ms.iter().flat_map(|l| l.points.iter().map(|p| p.0))).unwrap_or((0.0, 1.0));
    let ys = ms.iter().flat_map(|l| l.points.iter().map(|p| p.1)).chain(slo_ms);
    let (y_min, y_max) = extent(ys).unwrap_or((0.1, 1.0));
    let x_pad = ((x_max - x_min) * 0.05).max(1.0);
    let x_range = (x_min - x_pad).max(0.0)..(x_max + x_pad);

    draw_svg("saturation", size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, style::title_font())
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range.clone(), ((y_min / 1.5)..(y_max * 1.5)).log_scale())?;
        style::mesh(&mut chart.configure_mesh())
            .x_desc(axis.x_desc())
            .y_desc(axis.y_desc())
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y}"))
            .draw()?;
        if let Some(slo) = slo_ms {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x_range.start, slo), (x_range.end, slo)],
                    6,
                    4,
                    style::REFERENCE.stroke_width(1),
                ))?
                .label(axis.reference(slo))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style::REFERENCE.stroke_width(1)));
        }
        draw_lines(&mut chart, &ms)?;
        for l in &ms {
            let color = l.color;
            chart.draw_series(l.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        draw_legend(&mut chart, true, SeriesLabelPosition::UpperLeft)
    })
}
