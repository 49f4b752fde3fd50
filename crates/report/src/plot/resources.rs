//! CPU and memory per stack and setting, as two panels of horizontal bars.
//!
//! CPU is shown per 1,000 requests when the setting ran load (the cost claim's unit), else as
//! CPU seconds; memory is the peak RSS. Bars are the values `charts.rs` summarised (the median
//! of valid trials); the dots are the trials.

use claimbench_model::format::trimmed;

use super::{bar_chart_height, draw_hbars, draw_svg, style, Bar, Svg};
use crate::error::ReportError;

/// Draws `cpu` bars (seconds, under `cpu_desc`) beside `rss` bars (bytes).
pub fn render(cpu: &[Bar], cpu_desc: &str, rss: &[Bar]) -> Result<Svg, ReportError> {
    let groups = cpu.iter().map(|b| &b.group).collect::<std::collections::BTreeSet<_>>().len();
    let height = bar_chart_height(cpu.len().max(rss.len()), groups);
    let mib: Vec<Bar> = rss
        .iter()
        .map(|b| Bar { value: b.value / MIB, dots: b.dots.iter().map(|d| d / MIB).collect(), ..b.clone() })
        .collect();
    draw_svg("resources", (style::WIDE, height), |root| {
        let (left, right) = root.split_horizontally(style::WIDE / 2);
        draw_hbars(&left, "App CPU", cpu, cpu_desc, &|v| trimmed(*v, 2))?;
        draw_hbars(&right, "Peak RSS", &mib, "MiB", &|v| trimmed(*v, 2))
    })
}

const MIB: f64 = 1024.0 * 1024.0;
