//! Failed requests by error class (timeouts, connection resets, HTTP 5xx), per stack.
//!
//! Drawn only when something failed: an experiment without errors says so in a sentence
//! instead of an empty chart. Counts are summed over an experiment's trials by `charts.rs`.

use super::{bar_chart_height, draw_hbars, draw_svg, style, Bar, Svg};
use crate::error::ReportError;

/// Draws one bar per (error class, stack).
pub fn render(bars: &[Bar]) -> Result<Svg, ReportError> {
    let groups = bars.iter().map(|b| &b.group).collect::<std::collections::BTreeSet<_>>().len();
    let height = bar_chart_height(bars.len(), groups);
    draw_svg("errors", (style::WIDE, height), |root| {
        draw_hbars(root, "Errors by class", bars, "failed requests", &|v| format!("{v:.0}"))
    })
}
