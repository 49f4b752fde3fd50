//! Colours, sizes and fonts shared by every chart, so the stacks look the same everywhere.
//!
//! A stack's colour follows its runtime (greens for Node, blues for Python), so a reader
//! learns it once. The charts themselves live one per file beside this one.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::DrawingBackend;
use plotters::style::{Color, RGBAColor, RGBColor, TextStyle};

/// Font family written into the SVG; the browser picks the face.
pub const FONT: &str = "sans-serif";
/// Chart title size, in pixels (plotters scales SVG text by 1/1.24).
pub const TITLE_SIZE: u32 = 20;
/// Axis description size.
pub const AXIS_SIZE: u32 = 16;
/// Tick label and legend size.
pub const LABEL_SIZE: u32 = 14;

/// Width of a chart that takes the whole content column.
pub const WIDE: u32 = 960;
/// Width of a chart in a two-column grid.
pub const HALF: u32 = 470;
/// Height of a regular chart.
pub const HEIGHT: u32 = 320;

/// Axis, tick and grid colour.
pub const AXIS: RGBColor = RGBColor(90, 90, 90);
/// Light grid lines.
pub const GRID: RGBColor = RGBColor(225, 225, 225);
/// Reference lines: ratio 1, the SLO.
pub const REFERENCE: RGBColor = RGBColor(200, 40, 40);
/// A stack the run does not describe.
pub const UNKNOWN_STACK: RGBColor = RGBColor(120, 120, 120);

const NODE: [RGBColor; 3] = [RGBColor(46, 125, 50), RGBColor(139, 195, 74), RGBColor(0, 105, 92)];
const PYTHON: [RGBColor; 3] = [RGBColor(21, 101, 192), RGBColor(123, 87, 194), RGBColor(0, 131, 143)];

/// Colours of the history's trend series (one per profile and runtime pair), in the order the
/// series first appear.
const SERIES: [RGBColor; 6] = [
    RGBColor(21, 101, 192),
    RGBColor(46, 125, 50),
    RGBColor(239, 108, 0),
    RGBColor(123, 87, 194),
    RGBColor(0, 131, 143),
    RGBColor(173, 20, 87),
];

/// The colour of the `index`-th trend series.
pub fn series_color(index: usize) -> RGBColor {
    SERIES[index % SERIES.len()]
}

/// Which family of colours a stack draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Node,
    Python,
    Other,
}

/// The colour of the `index`-th stack of a family (in name order).
pub fn stack_color(family: Family, index: usize) -> RGBColor {
    match family {
        Family::Node => NODE[index % NODE.len()],
        Family::Python => PYTHON[index % PYTHON.len()],
        Family::Other => UNKNOWN_STACK,
    }
}

/// The colour as CSS, for legends and swatches outside the SVG.
pub fn css(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// The colour at reduced opacity, for individual trials under a summary.
pub fn faint(color: RGBColor) -> RGBAColor {
    color.mix(0.45)
}

/// Style of chart titles.
pub fn title_font() -> TextStyle<'static> {
    (FONT, TITLE_SIZE).into()
}

/// Style of axis descriptions.
pub fn axis_font() -> TextStyle<'static> {
    (FONT, AXIS_SIZE).into()
}

/// Style of tick labels and legends.
pub fn label_font() -> TextStyle<'static> {
    (FONT, LABEL_SIZE).into()
}

/// The house style of a chart's mesh (grid lines, axis, fonts), so every chart sets it the same
/// way; the caller adds its labels and descriptions, then draws.
pub fn mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.light_line_style(GRID.mix(0.5))
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .axis_desc_style(axis_font())
        .label_style(label_font())
}
