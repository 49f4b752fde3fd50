//! Charts as inline SVG, one chart per file; colours and fonts match the run report's.
//!
//! Plotters' SVG backend writes text as `<text>` elements, so the browser lays out the fonts
//! and no font library is needed.

pub mod trend;

use plotters::style::{RGBColor, TextStyle};

/// Font family written into the SVG; the browser picks the face.
const FONT: &str = "sans-serif";
/// Axis, tick and grid colours, and the ratio-1 reference line.
const AXIS: RGBColor = RGBColor(90, 90, 90);
const GRID: RGBColor = RGBColor(225, 225, 225);
const REFERENCE: RGBColor = RGBColor(200, 40, 40);

/// Colours of the series, in the order series first appear.
const SERIES: [RGBColor; 6] = [
    RGBColor(21, 101, 192),
    RGBColor(46, 125, 50),
    RGBColor(239, 108, 0),
    RGBColor(123, 87, 194),
    RGBColor(0, 131, 143),
    RGBColor(173, 20, 87),
];

/// The colour of the `index`-th series.
pub fn series_color(index: usize) -> RGBColor {
    SERIES[index % SERIES.len()]
}

fn label_font() -> TextStyle<'static> {
    (FONT, 14).into()
}

fn axis_font() -> TextStyle<'static> {
    (FONT, 15).into()
}
