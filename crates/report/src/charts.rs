//! Decides which charts an experiment gets and turns its measurements into their series.
//!
//! This is the only file that knows both the results schema and the `plot` inputs. A chart is
//! drawn only when its data exists (a scaling chart needs two connection counts, a saturation
//! chart offered rates), so an experiment with missing data gets fewer charts, never empty ones.

use std::collections::BTreeMap;

use claimbench_model::format;
use claimbench_model::run::{
    ClaimResult, ExperimentResult, Measurement, Method, Outcome, RunResults, Scalar, ScalarUnit, Verdict,
};
use claimbench_model::stats::median;
use plotters::style::RGBColor;

use crate::error::ReportError;
use crate::measure;
use crate::plot::{self, style, Bar, Dots, Line};
use crate::view::{Chart, GroupView, Palette, Report};

/// Draws every chart of the report into the view built from the same results.
pub fn attach(report: &mut Report, results: &RunResults) -> Result<(), ReportError> {
    let palette = Palette::new(results);
    report.ratio_chart = ratios(&results.claims, &results.method)?;
    for (view, e) in report.experiments.iter_mut().zip(&results.experiments) {
        if let Some(c) = scaling(e, &palette)? {
            view.charts.push(c);
        }
        for axis in [plot::saturation::Axis::Rate, plot::saturation::Axis::Members] {
            if let Some(c) = saturation(e, &palette, &results.method, axis)? {
                view.charts.push(c);
            }
        }
        if let Some(c) = resources(e, &palette)? {
            view.charts.push(c);
        }
        view.charts.extend(scalars(e, &palette)?);
        let (errors_chart, no_errors) = errors(e, &palette)?;
        view.charts.extend(errors_chart);
        view.no_errors = no_errors;
        view.groups = groups(e, &palette)?;
    }
    Ok(())
}

/// The forest plot of every estimate, or `None` when no claim has one.
fn ratios(claims: &[ClaimResult], method: &Method) -> Result<Option<Chart>, ReportError> {
    let mut rows = Vec::new();
    for c in claims {
        push_ratio_row(&mut rows, c.id.clone(), &c.verdict);
        for s in &c.sub_verdicts {
            push_ratio_row(&mut rows, format!("{}: {}", c.id, s.label), &s.verdict);
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let svg = plot::ratios::render(&rows, method.noise_threshold)?;
    Ok(Some(Chart {
        kind: svg.kind,
        svg: svg.text,
        note: format!(
            "Each row is one estimate: dots are the ratios of adjacent trial pairs, the bar is its \
             order-statistics interval (asked for at {}; each verdict prints the level it really \
             has) and the thick tick its median. The shaded band is the {} noise \
             threshold around 1.",
            format::percent(method.confidence),
            format::band(method.noise_threshold)
        ),
    }))
}

fn push_ratio_row(rows: &mut Vec<plot::ratios::Row>, label: String, verdict: &Verdict) {
    if let Some(e) = &verdict.estimate {
        rows.push(plot::ratios::Row {
            label,
            color: outcome_color(verdict.outcome),
            median: e.ratio_median,
            low: e.ci_low,
            high: e.ci_high,
            pairs: e.spread.clone(),
        });
    }
}

/// The colour of an outcome, matching the badges' CSS.
fn outcome_color(o: Outcome) -> RGBColor {
    match o {
        Outcome::Supported => RGBColor(30, 130, 76),
        Outcome::Refuted => RGBColor(192, 57, 43),
        Outcome::Inconclusive => RGBColor(183, 128, 0),
        Outcome::Invalid => RGBColor(110, 110, 110),
        Outcome::NotMeasured => RGBColor(160, 160, 160),
    }
}

/// Labels in the order they were first measured.
fn labels(e: &ExperimentResult) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for m in &e.measurements {
        if !out.contains(&m.label.as_str()) {
            out.push(&m.label);
        }
    }
    out
}

/// One line per trial, legend on each stack's first.
fn trial_lines(
    measurements: &[&Measurement],
    palette: &Palette,
    points: impl Fn(&Measurement) -> Vec<(f64, f64)>,
) -> Vec<Line> {
    let mut labelled: Vec<&str> = Vec::new();
    measurements
        .iter()
        .filter_map(|m| {
            let pts = points(m);
            if pts.is_empty() {
                return None;
            }
            let legend = (!labelled.contains(&m.stack.as_str())).then(|| {
                labelled.push(&m.stack);
                m.stack.clone()
            });
            Some(Line { legend, color: palette.color(&m.stack), dashed: !m.valid, points: pts })
        })
        .collect()
}

fn invalid_note(measurements: &[&Measurement]) -> &'static str {
    if measurements.iter().any(|m| !m.valid) {
        " Dashed lines are invalid measurements."
    } else {
        ""
    }
}

fn groups(e: &ExperimentResult, palette: &Palette) -> Result<Vec<GroupView>, ReportError> {
    let mut out = Vec::new();
    for label in labels(e) {
        let ms: Vec<&Measurement> = e.measurements.iter().filter(|m| m.label == label).collect();
        let mut charts = Vec::new();
        let dist = trial_lines(&ms, palette, |m| {
            measure::distribution(m).into_iter().map(|q| (q.fraction, q.value_us)).collect()
        });
        if !dist.is_empty() {
            let svg = plot::percentiles::render(
                &format!("{label}: latency by percentile"),
                &dist,
                (style::HALF, style::HEIGHT),
            )?;
            charts.push(Chart {
                kind: svg.kind,
                svg: svg.text,
                note: format!(
                    "One line per trial. The axis stretches the tail: each step right is ten \
                     times rarer.{}",
                    invalid_note(&ms)
                ),
            });
        }
        let rate = trial_lines(&ms, palette, |m| measure::intervals(m).iter().map(|i| (i.t_s, i.rate)).collect());
        let p99 = trial_lines(&ms, palette, |m| measure::intervals(m).iter().map(|i| (i.t_s, i.p99_us)).collect());
        if !rate.is_empty() {
            let svg = plot::timeseries::render(
                &format!("{label}: over time"),
                &rate,
                &p99,
                (style::HALF, style::HEIGHT + 40),
            )?;
            charts.push(Chart {
                kind: svg.kind,
                svg: svg.text,
                note: format!("Throughput and p99 latency per interval, one line per trial.{}", invalid_note(&ms)),
            });
        }
        if !charts.is_empty() {
            out.push(GroupView { label: label.to_string(), charts });
        }
    }
    Ok(out)
}

/// Stacks in the order the palette lists them, restricted to those measured here.
fn stacks_of<'a>(e: &ExperimentResult, palette: &'a Palette) -> Vec<&'a str> {
    palette.stacks().filter(|s| e.measurements.iter().any(|m| m.stack == *s)).collect()
}

/// An endpoint and a worker count.
type Series<'a> = (&'a str, Option<u32>);

/// The endpoint and worker count that a throughput-against-connections line may join: the first
/// (in measurement order) measured at two or more connection counts. Lines never join different
/// endpoints (E-db's /db and /queries) or worker counts.
fn scaling_series(e: &ExperimentResult) -> Option<Series<'_>> {
    let mut seen: Vec<(Series<'_>, Vec<u32>)> = Vec::new();
    for m in e.measurements.iter().filter(|m| m.load.is_some()) {
        let Some(c) = m.connections else { continue };
        let key = (m.endpoint.as_str(), m.workers);
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, counts)) if !counts.contains(&c) => counts.push(c),
            Some(_) => {}
            None => seen.push((key, vec![c])),
        }
    }
    seen.into_iter().find(|(_, counts)| counts.len() >= 2).map(|(key, _)| key)
}

fn scaling(e: &ExperimentResult, palette: &Palette) -> Result<Option<Chart>, ReportError> {
    let Some((endpoint, workers)) = scaling_series(e) else { return Ok(None) };
    let closed: Vec<(&Measurement, f64, f64)> = e
        .measurements
        .iter()
        .filter(|m| m.endpoint == endpoint && m.workers == workers)
        .filter_map(|m| {
            let c = m.connections?;
            let h = measure::headline(m)?;
            Some((m, c as f64, h.throughput))
        })
        .collect();
    let mut lines = Vec::new();
    let mut dots = Vec::new();
    for stack in stacks_of(e, palette) {
        let mine: Vec<_> = closed.iter().filter(|c| c.0.stack == stack).collect();
        let mut by_count: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for c in mine.iter().filter(|c| c.0.valid) {
            by_count.entry(c.1 as u32).or_default().push(c.2);
        }
        let points: Vec<(f64, f64)> = by_count.iter().filter_map(|(c, v)| median(v).map(|m| (*c as f64, m))).collect();
        let color = palette.color(stack);
        lines.push(Line { legend: Some(stack.to_string()), color, dashed: false, points });
        dots.push(Dots {
            color,
            points: mine.iter().filter(|c| c.0.valid).map(|c| (c.1, c.2)).collect(),
            hollow: mine.iter().filter(|c| !c.0.valid).map(|c| (c.1, c.2)).collect(),
        });
    }
    let svg = plot::scaling::render(
        &format!("{}: {endpoint} throughput against connections", e.id),
        &lines,
        &dots,
        (style::WIDE, style::HEIGHT),
    )?;
    Ok(Some(Chart {
        kind: svg.kind,
        svg: svg.text,
        note: "Dots are trials (hollow: invalid); lines join the median of the valid trials at \
               each connection count."
            .to_string(),
    }))
}

/// A saturation curve: p99 against the offered rate with the SLO line (rate steps, SLO searches),
/// or a room search's fan-out p99 against its members with the room target. One line per trial;
/// `None` unless the trials offer at least two different x values.
fn saturation(
    e: &ExperimentResult,
    palette: &Palette,
    method: &Method,
    axis: plot::saturation::Axis,
) -> Result<Option<Chart>, ReportError> {
    use plot::saturation::Axis;
    let ms: Vec<&Measurement> = e.measurements.iter().collect();
    let (lines, title, objective, reading) = match axis {
        Axis::Rate => (
            trial_lines(&ms, palette, |m| measure::rate_points(m).iter().map(|r| (r.offered, r.p99_us)).collect()),
            "p99 latency against offered rate",
            method.slo_p99_ms,
            "One line per trial through its rate steps. A stack's capacity is the highest rate whose p99 stays \
             under the SLO line.",
        ),
        Axis::Members => (
            trial_lines(&ms, palette, measure::room_points),
            "p99 fan-out latency against room size",
            method.room_p99_ms,
            "One line per room search through its steps, each a room of that many members at the same message \
             rate. A stack's score is the largest room whose p99 stays under the target line.",
        ),
    };
    let mut xs: Vec<u64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0.round() as u64)).collect();
    xs.sort_unstable();
    xs.dedup();
    if xs.len() < 2 {
        return Ok(None);
    }
    let svg = plot::saturation::render(
        &format!("{}: {title}", e.id),
        axis,
        &lines,
        Some(objective),
        (style::WIDE, style::HEIGHT),
    )?;
    Ok(Some(Chart {
        kind: svg.kind,
        svg: svg.text,
        note: format!("{reading}{}{}", invalid_note(&ms), repeated_steps_note(&ms)),
    }))
}

/// How many search steps a fault of the machine or the harness spoiled, so that they were
/// measured again, with the first reason; empty when none was.
fn repeated_steps_note(measurements: &[&Measurement]) -> String {
    let steps: Vec<_> = measurements.iter().filter_map(|m| m.load.as_ref()).flat_map(|l| &l.steps).collect();
    let repeated: Vec<&str> = steps.iter().filter_map(|s| s.first_attempt_spoiled.as_deref()).collect();
    match repeated.first() {
        None => String::new(),
        Some(first) => format!(
            " {} of {} steps were spoiled by the machine or the harness and measured again (first: {first}).",
            repeated.len(),
            steps.len()
        ),
    }
}

fn resources(e: &ExperimentResult, palette: &Palette) -> Result<Option<Chart>, ReportError> {
    if e.measurements.is_empty() {
        return Ok(None);
    }
    // CPU per 1,000 requests compares stacks at different throughputs; it needs load everywhere.
    let per_request = e.measurements.iter().all(|m| measure::headline(m).is_some_and(|h| h.requests > 0));
    let cpu_of = |m: &Measurement| -> f64 {
        match measure::headline(m) {
            Some(h) if per_request => m.app_cpu_s * 1_000.0 / h.requests as f64,
            _ => m.app_cpu_s,
        }
    };
    let mut cpu = Vec::new();
    let mut rss = Vec::new();
    for label in labels(e) {
        for stack in stacks_of(e, palette) {
            let ms: Vec<&Measurement> =
                e.measurements.iter().filter(|m| m.label == label && m.stack == stack).collect();
            let valid: Vec<&&Measurement> = ms.iter().filter(|m| m.valid).collect();
            if valid.is_empty() {
                continue;
            }
            let color = palette.color(stack);
            let cpus: Vec<f64> = valid.iter().map(|m| cpu_of(m)).collect();
            let rsss: Vec<f64> = valid.iter().map(|m| m.app_peak_rss_bytes as f64).collect();
            cpu.push(Bar {
                group: label.to_string(),
                series: stack.to_string(),
                color,
                value: median(&cpus).unwrap_or(0.0),
                dots: cpus,
            });
            rss.push(Bar {
                group: label.to_string(),
                series: stack.to_string(),
                color,
                value: median(&rsss).unwrap_or(0.0),
                dots: rsss,
            });
        }
    }
    if cpu.is_empty() {
        return Ok(None);
    }
    let desc = if per_request { "CPU seconds per 1,000 requests" } else { "CPU seconds" };
    let svg = plot::resources::render(&cpu, desc, &rss)?;
    Ok(Some(Chart {
        kind: svg.kind,
        svg: svg.text,
        note: "Bars are the median of the valid trials, dots the trials; invalid trials are left \
               out here and listed in the table."
            .to_string(),
    }))
}

fn errors(e: &ExperimentResult, palette: &Palette) -> Result<(Option<Chart>, Option<String>), ReportError> {
    let loaded = e.measurements.iter().filter(|m| m.load.is_some()).count();
    if loaded == 0 {
        return Ok((None, None));
    }
    let mut by_class: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    for m in &e.measurements {
        for (class, n) in measure::errors_by_class(m) {
            *by_class.entry(class).or_default().entry(&m.stack).or_default() += n;
        }
    }
    if by_class.is_empty() {
        return Ok((None, Some(format!("No failed requests in any of the {loaded} load runs."))));
    }
    let bars: Vec<Bar> = by_class
        .iter()
        .flat_map(|(class, stacks)| {
            stacks.iter().map(move |(stack, n)| Bar {
                group: class.clone(),
                series: stack.to_string(),
                color: palette.color(stack),
                value: *n as f64,
                dots: Vec::new(),
            })
        })
        .collect();
    let svg = plot::errors::render(&bars)?;
    Ok((
        Some(Chart {
            kind: svg.kind,
            svg: svg.text,
            note: "Failed requests summed over all trials, valid or not.".to_string(),
        }),
        None,
    ))
}

/// Bars of the experiment-specific numbers, three quantities per chart.
fn scalars(e: &ExperimentResult, palette: &Palette) -> Result<Vec<Chart>, ReportError> {
    let names: Vec<Scalar> = e
        .measurements
        .iter()
        .flat_map(|m| m.scalars.keys().copied())
        .filter(|s| s.unit() != ScalarUnit::Flag)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut panels = Vec::new();
    for name in names {
        let (title, unit, scale) = scalar_axis(name);
        let mut bars = Vec::new();
        for stack in stacks_of(e, palette) {
            let values: Vec<f64> = e
                .measurements
                .iter()
                .filter(|m| m.valid && m.stack == stack)
                .filter_map(|m| m.scalars.get(&name).map(|v| v / scale))
                .collect();
            if let Some(value) = median(&values) {
                bars.push(Bar {
                    group: stack.to_string(),
                    series: stack.to_string(),
                    color: palette.color(stack),
                    value,
                    dots: values,
                });
            }
        }
        if !bars.is_empty() {
            panels.push(plot::scalars::Panel { title, unit, bars });
        }
    }
    let mut charts = Vec::new();
    for chunk in panels.chunks(3) {
        let svg = plot::scalars::render(chunk)?;
        charts.push(Chart {
            kind: svg.kind,
            svg: svg.text,
            note: "Bars are the median of the valid trials, dots the trials.".to_string(),
        });
    }
    Ok(charts)
}

/// A scalar's panel title, axis unit and divisor, from its unit.
fn scalar_axis(scalar: Scalar) -> (String, String, f64) {
    let base = scalar.title();
    let mut chars = base.chars();
    let title = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => base.to_string(),
    };
    match scalar.unit() {
        ScalarUnit::Milliseconds => (title, "ms".into(), 1.0),
        ScalarUnit::Bytes => (title, "MiB".into(), 1024.0 * 1024.0),
        ScalarUnit::Seconds => (title, "s".into(), 1.0),
        ScalarUnit::Rate | ScalarUnit::Ratio | ScalarUnit::Flag => (title, String::new(), 1.0),
    }
}
