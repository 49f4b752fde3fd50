//! Experiment numbers that are not load results (cold start time, idle RSS), as bar panels.
//!
//! One panel per quantity, side by side, since their units differ; each bar is the value
//! `charts.rs` summarised over a stack's valid trials, with the trials as dots.

use claimbench_model::format::trimmed;

use super::{bar_chart_height, draw_hbars, draw_svg, style, Bar, Svg};
use crate::error::ReportError;

/// One quantity: its title, its axis description and its bars (already in the axis unit).
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub unit: String,
    pub bars: Vec<Bar>,
}

/// Draws up to three panels in one row.
pub fn render(panels: &[Panel]) -> Result<Svg, ReportError> {
    let rows = panels.iter().map(|p| p.bars.len()).max().unwrap_or(1);
    let height = bar_chart_height(rows, 1);
    let n = panels.len().max(1) as u32;
    draw_svg("scalars", (style::WIDE, height), |root| {
        for (area, panel) in root.split_evenly((1, n as usize)).iter().zip(panels) {
            draw_hbars(area, &panel.title, &panel.bars, &panel.unit, &|v| trimmed(*v, 1))?;
        }
        Ok(())
    })
}
