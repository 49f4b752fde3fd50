//! Charts as inline SVG: one chart per file, fed plain series, with shared looks in `style`.
//!
//! The chart files know nothing of the run's schema: `charts.rs` turns an experiment into the
//! series drawn here. Each `render` returns the SVG text; plotters' SVG backend writes text as
//! `<text>` elements, so the browser lays out the fonts and no font library is needed.

pub mod errors;
pub mod percentiles;
pub mod ratios;
pub mod resources;
pub mod saturation;
pub mod scalars;
pub mod scaling;
pub mod style;
pub mod timeseries;
pub mod trend;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::ReportError;

/// A drawn chart, ready to inline.
#[derive(Debug, Clone)]
pub struct Svg {
    /// Names the chart in error messages and in the SVG's `data-chart` attribute.
    pub kind: &'static str,
    /// The `<svg>` element.
    pub text: String,
}

/// One line of a chart: a stack's trial, or a line through a stack's trials.
#[derive(Debug, Clone)]
pub struct Line {
    /// The legend entry; lines with `None` stay out of the legend.
    pub legend: Option<String>,
    pub color: RGBColor,
    /// Drawn dashed: the measurement behind it is invalid.
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// A stack's individual trials as dots.
#[derive(Debug, Clone)]
pub struct Dots {
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Invalid trials, drawn hollow.
    pub hollow: Vec<(f64, f64)>,
}

/// One bar of a horizontal bar chart; rows with the same `group` sit together.
#[derive(Debug, Clone)]
pub struct Bar {
    pub group: String,
    pub series: String,
    pub color: RGBColor,
    pub value: f64,
    /// The individual values the bar summarises, drawn as dots.
    pub dots: Vec<f64>,
}

/// The drawing result inside a chart: plotters' errors, boxed.
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws into an SVG string of the given size and names the chart in any error.
fn draw_svg(
    kind: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<Svg, ReportError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(kind, e))?;
        draw(&root).map_err(|e| chart_error(kind, e))?;
        root.present().map_err(|e| chart_error(kind, e))?;
    }
    let text = text.replacen("<svg ", &format!("<svg data-chart=\"{kind}\" role=\"img\" "), 1);
    Ok(Svg { kind, text })
}

fn chart_error(kind: &'static str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart { chart: kind, message: e.to_string() }
}

/// The smallest and largest finite values, or `None` if there are none.
fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// An upper axis bound with headroom, never zero.
fn headroom(max: f64) -> f64 {
    if max > 0.0 {
        max * 1.08
    } else {
        1.0
    }
}

/// Draws the lines and labels those that carry a legend name.
fn draw_lines<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, lines: &[Line]) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    for line in lines {
        let stroke = line.color.stroke_width(2);
        let series = if line.dashed {
            chart.draw_series(DashedLineSeries::new(line.points.clone(), 4, 3, stroke))?
        } else {
            chart.draw_series(LineSeries::new(line.points.clone(), stroke))?
        };
        if let Some(name) = &line.legend {
            let legend_color = line.color;
            series
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], legend_color.stroke_width(3)));
        }
    }
    Ok(())
}

/// Draws the legend box when any line carries a name.
fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, any: bool, position: SeriesLabelPosition) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    if any {
        chart
            .configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.85))
            .border_style(style::GRID)
            .label_font(style::label_font())
            .draw()?;
    }
    Ok(())
}

/// Height of one bar row in a horizontal bar chart, in pixels.
const BAR_ROW: u32 = 20;

/// The height a horizontal bar chart of `rows` bars and `groups` groups needs.
pub fn bar_chart_height(rows: usize, groups: usize) -> u32 {
    (110 + rows as u32 * BAR_ROW + groups as u32 * BAR_ROW / 2).max(160)
}

/// Draws horizontal bars grouped by `Bar::group`, one colour per `Bar::series`, on `area`.
fn draw_hbars(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    bars: &[Bar],
    x_desc: &str,
    value_label: &dyn Fn(&f64) -> String,
) -> DrawResult {
    // Rows from the top: a half-row gap between groups.
    let mut groups: Vec<(String, f64)> = Vec::new();
    let mut rows: Vec<(f64, &Bar)> = Vec::new();
    let mut y = 0.0;
    for bar in bars {
        if groups.last().map(|g| &g.0) != Some(&bar.group) {
            if !groups.is_empty() {
                y += 0.5;
            }
            groups.push((bar.group.clone(), y));
        }
        rows.push((y, bar));
        y += 1.0;
    }
    let total = y.max(1.0);
    let centers: Vec<(String, f64)> = groups
        .iter()
        .map(|(name, start)| {
            let count = rows.iter().filter(|(_, b)| &b.group == name).count() as f64;
            (name.clone(), total - start - count / 2.0)
        })
        .collect();
    let (_, x_max) = extent(bars.iter().flat_map(|b| b.dots.iter().copied().chain([b.value]))).unwrap_or((0.0, 1.0));
    let longest = groups.iter().map(|g| g.0.chars().count()).max().unwrap_or(4);
    let mut chart = ChartBuilder::on(area)
        .caption(title, style::title_font())
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size((longest as u32 * 7 + 16).clamp(50, 260))
        .build_cartesian_2d(0f64..headroom(x_max), 0f64..total)?;
    style::mesh(&mut chart.configure_mesh())
        .disable_y_mesh()
        .y_labels(0)
        .x_desc(x_desc)
        .x_label_formatter(value_label)
        .draw()?;
    draw_row_labels(area, &chart, &centers)?;
    for (top, bar) in &rows {
        let (y1, y0) = (total - top - 0.1, total - top - 0.9);
        chart.draw_series([Rectangle::new([(0.0, y0), (bar.value, y1)], bar.color.filled())])?;
        let ymid = (y0 + y1) / 2.0;
        chart.draw_series(bar.dots.iter().map(|&d| Circle::new((d, ymid), 3, BLACK.mix(0.55).filled())))?;
    }
    let mut key: Vec<(&str, RGBColor)> = Vec::new();
    for bar in bars {
        if !key.iter().any(|k| k.0 == bar.series) {
            key.push((&bar.series, bar.color));
        }
    }
    draw_key(area, &key)
}

/// A colour key in the top-right corner of `area`, beside the title rather than over the data.
fn draw_key(area: &DrawingArea<SVGBackend, Shift>, items: &[(&str, RGBColor)]) -> DrawResult {
    let (width, _) = area.dim_in_pixel();
    let font = style::label_font().color(&style::AXIS).pos(Pos::new(HPos::Left, VPos::Center));
    // Right to left, so the key hugs the right edge whatever the names' lengths.
    let mut right = width as i32 - 10;
    for (name, color) in items.iter().rev() {
        let text_width = (name.chars().count() as f64 * f64::from(style::LABEL_SIZE) * 0.5) as i32;
        let left = right - text_width - 18;
        area.draw(&Rectangle::new([(left, 8), (left + 11, 19)], color.filled()))?;
        area.draw(&Text::new(name.to_string(), (left + 15, 14), font.clone()))?;
        right = left - 12;
    }
    Ok(())
}

/// Writes category names left of the y axis at the given data heights, right-aligned.
///
/// Plotters' own labels need key points, which its f64 axes do not offer with a formatter.
fn draw_row_labels(
    area: &DrawingArea<SVGBackend, Shift>,
    chart: &ChartContext<SVGBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    rows: &[(String, f64)],
) -> DrawResult {
    let x0 = chart.x_range().start;
    row_labels(area, rows.iter().map(|(name, y)| (name.as_str(), chart.backend_coord(&(x0, *y)))))
}

/// Draws `(text, backend pixel of the axis point)` labels just left of that point.
fn row_labels<'t>(
    area: &DrawingArea<SVGBackend, Shift>,
    labels: impl Iterator<Item = (&'t str, (i32, i32))>,
) -> DrawResult {
    let base = area.get_base_pixel();
    let font = style::label_font().color(&style::AXIS).pos(Pos::new(HPos::Right, VPos::Center));
    for (text, (x, y)) in labels {
        area.draw(&Text::new(text.to_string(), (x - base.0 - 8, y - base.1), font.clone()))?;
    }
    Ok(())
}
