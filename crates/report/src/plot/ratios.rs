//! The verdicts' evidence in one picture: each estimate's pair ratios, median and interval.
//!
//! A forest plot on a log ratio axis, with ratio 1 and the noise band marked: a verdict is
//! decided by where the interval sits against that band, and the dots show the spread of the
//! paired trials behind it. The suite computed every number; this file only draws them.

use plotters::prelude::*;

use super::{draw_svg, extent, row_labels, style, Svg};
use crate::error::ReportError;

/// One estimate to draw.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    /// The outcome's colour.
    pub color: RGBColor,
    pub median: f64,
    pub low: f64,
    pub high: f64,
    /// Every per-pair ratio.
    pub pairs: Vec<f64>,
}

/// Pixels per row.
const ROW: u32 = 30;

/// Draws the rows top to bottom with the noise band `1 ± noise_threshold` shaded.
pub fn render(rows: &[Row], noise_threshold: f64) -> Result<Svg, ReportError> {
    let band = (1.0 / (1.0 + noise_threshold), 1.0 + noise_threshold);
    let values = rows
        .iter()
        .flat_map(|r| r.pairs.iter().copied().chain([r.low, r.high, r.median]))
        .filter(|v| *v > 0.0)
        .chain([band.0, band.1]);
    let (lo, hi) = extent(values).unwrap_or((0.5, 2.0));
    let x_range = (lo / 1.15)..(hi * 1.15);
    let n = rows.len().max(1) as f64;
    let height = 90 + ROW * rows.len().max(1) as u32;
    let longest = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(8);
    let centers: Vec<f64> = (0..rows.len()).map(|i| n - i as f64 - 0.5).collect();

    draw_svg("ratios", (style::WIDE, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Ratios behind the verdicts", style::title_font())
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size((longest as u32 * 7 + 16).clamp(60, 320))
            .build_cartesian_2d(x_range.clone().log_scale(), 0f64..n)?;
        style::mesh(&mut chart.configure_mesh())
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("ratio (log scale); dots are paired trials, bars the 95% interval")
            .x_label_formatter(&|x| format!("{x:.2}"))
            .draw()?;
        let x0 = x_range.start;
        row_labels(root, rows.iter().zip(&centers).map(|(r, y)| (r.label.as_str(), chart.backend_coord(&(x0, *y)))))?;
        chart.draw_series([Rectangle::new([(band.0, 0.0), (band.1, n)], style::GRID.mix(0.6).filled())])?;
        chart.draw_series(LineSeries::new([(1.0, 0.0), (1.0, n)], style::REFERENCE.stroke_width(1)))?;
        for (row, y) in rows.iter().zip(&centers) {
            let pairs = row.pairs.len().max(1) as f64;
            chart.draw_series(row.pairs.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(i, &v)| {
                // Spread the dots a little vertically so equal ratios stay distinguishable.
                let jitter = (i as f64 / pairs - 0.5) * 0.5;
                Circle::new((v, y + jitter), 3, style::faint(row.color).filled())
            }))?;
            if row.low > 0.0 && row.high > 0.0 {
                chart.draw_series([Rectangle::new(
                    [(row.low, y - 0.12), (row.high, y + 0.12)],
                    row.color.mix(0.35).filled(),
                )])?;
            }
            if row.median > 0.0 {
                chart.draw_series(LineSeries::new(
                    [(row.median, y - 0.3), (row.median, y + 0.3)],
                    row.color.stroke_width(3),
                ))?;
            }
        }
        Ok(())
    })
}
