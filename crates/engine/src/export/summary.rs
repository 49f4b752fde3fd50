//! The terminal summary, in the spirit of wrk2's: what ran, latency percentiles up to p99.99
//! (corrected and uncorrected side by side), rates, statuses, errors, a WebSocket run's
//! handshakes and sequence counts, and the self-check, with
//! a warning nobody can miss when the generator was saturated. Numbers are written by
//! `claimbench_model::format`, as the report writes them.

use std::fmt::Write as _;

use claimbench_model::format::{bytes, micros as us, millis, percent, seconds, sig3 as num};
use claimbench_model::load::{ErrorClass, LatencySummary, LoadMode, LoadResult};

use super::Exporter;
use crate::error::ExportError;

pub(super) struct Summary;

impl Exporter for Summary {
    fn name(&self) -> &'static str {
        "summary"
    }

    fn render(&self, r: &LoadResult) -> Result<Vec<u8>, ExportError> {
        Ok(render(r).into_bytes())
    }
}

fn render(r: &LoadResult) -> String {
    let mut out = String::new();
    let p = &r.plan;
    let _ = write!(out, "claimbench load {} for {}", p.url, seconds(r.duration_s));
    if p.warmup_s > 0.0 {
        let _ = write!(out, " (after {} warm-up)", seconds(p.warmup_s));
    }
    if r.cancelled {
        let _ = write!(out, " -- stopped early");
    }
    out.push('\n');
    let threads = match p.pinned_core {
        Some(core) => format!("1 thread pinned to core {core}"),
        None if p.threads == 1 => "1 thread".to_string(),
        None => format!("{} threads", p.threads),
    };
    match p.mode {
        LoadMode::OpenLoop => {
            let arrivals = match p.poisson_seed {
                Some(seed) => format!("Poisson arrivals, seed {seed}"),
                None => "evenly spaced".to_string(),
            };
            let _ = writeln!(
                out,
                "  open loop at {} req/s ({arrivals}), {} connections, {threads}",
                num(r.target_rate.unwrap_or(0.0)),
                p.connections
            );
        }
        LoadMode::ClosedLoop => {
            let _ = writeln!(
                out,
                "  closed loop, {} connections, think time {}, {threads}",
                p.connections,
                millis(p.think_time_s * 1000.0)
            );
        }
    }

    let _ = writeln!(
        out,
        "\n  Latency   {:>12} {:>12}   (corrected: from intended send time; uncorrected: from actual send)",
        "corrected", "uncorrected"
    );
    let rows: [(&str, Pick); 10] = [
        ("p50", |l| l.p50_us),
        ("p75", |l| l.p75_us),
        ("p90", |l| l.p90_us),
        ("p99", |l| l.p99_us),
        ("p99.9", |l| l.p999_us),
        ("p99.99", |l| l.p9999_us),
        ("max", |l| l.max_us),
        ("min", |l| l.min_us),
        ("mean", |l| l.mean_us),
        ("stdev", |l| l.stdev_us),
    ];
    for (name, f) in rows {
        let _ = writeln!(out, "    {name:<7} {:>12} {:>12}", us(f(&r.latency)), us(f(&r.latency_uncorrected)));
    }

    let _ = write!(
        out,
        "\n  Requests  {} in {}, {} responses: {} req/s",
        r.requests,
        seconds(r.duration_s),
        r.responses,
        num(r.achieved_rate)
    );
    match r.target_rate {
        Some(target) if target > 0.0 => {
            let _ = writeln!(out, " achieved of {} req/s target ({})", num(target), percent(r.achieved_rate / target));
        }
        _ => out.push('\n'),
    }
    let statuses: Vec<String> = r.status_counts.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    let _ = writeln!(
        out,
        "  Status    {}",
        if statuses.is_empty() { "no responses".to_string() } else { statuses.join(", ") }
    );
    let failed: u64 = r.errors.values().sum();
    let errors: Vec<String> = ErrorClass::ALL
        .iter()
        .filter_map(|c| r.errors.get(c.as_str()).filter(|n| **n > 0).map(|n| format!("{} {n}", c.as_str())))
        .collect();
    let _ = writeln!(
        out,
        "  Errors    {}",
        if failed == 0 { "none".to_string() } else { format!("{failed} ({})", errors.join(", ")) }
    );
    if let Some(connect) = &r.connect {
        let _ = writeln!(
            out,
            "  Connects  {} timed (p50 {}, p99 {}, max {}), warm-up included",
            connect.count,
            us(connect.p50_us),
            us(connect.p99_us),
            us(connect.max_us)
        );
    }
    if let Some(first_byte) = &r.first_byte {
        let _ = writeln!(
            out,
            "  1st byte  p50 {}, p99 {}, max {} (send to the response's headers)",
            us(first_byte.p50_us),
            us(first_byte.p99_us),
            us(first_byte.max_us)
        );
    }
    if let Some(gaps) = &r.chunk_gaps {
        let _ = writeln!(
            out,
            "  Gaps      {} between body pieces of one response (p50 {}, p99 {}, max {})",
            gaps.count,
            us(gaps.p50_us),
            us(gaps.p99_us),
            us(gaps.max_us)
        );
    }
    if let Some(ws) = &r.websocket {
        let _ = writeln!(
            out,
            "  WebSocket {} handshakes (p50 {}, p99 {}), {} failed; {} in flight per connection, {}-byte messages",
            ws.connect.count,
            us(ws.connect.p50_us),
            us(ws.connect.p99_us),
            ws.connect_failures,
            ws.in_flight,
            ws.message_bytes
        );
        if let Some(room) = &ws.broadcast {
            let _ = writeln!(
                out,
                "  Broadcast {} members, {} of them sending: {} messages sent, each due at every member; latency is fan-out latency",
                room.members, room.senders, room.sent
            );
        }
        let _ = writeln!(
            out,
            "  Sequence  {} lost, {} duplicated, {} out of order, {} unexpected",
            ws.lost, ws.duplicated, ws.out_of_order, ws.unexpected
        );
    }
    if let Some(sse) = &r.sse {
        let _ = writeln!(
            out,
            "  SSE       {} subscribers; every event received is a delivery, latency from its sent_us (fan-out latency)",
            sse.subscribers
        );
        let _ = writeln!(
            out,
            "  Sequence  {} lost, {} duplicated, {} out of order, {} unexpected",
            sse.lost, sse.duplicated, sse.out_of_order, sse.unexpected
        );
    }
    let _ = writeln!(
        out,
        "  Transfer  {} in, {} out, {} connections opened",
        bytes(r.bytes_in as f64),
        bytes(r.bytes_out as f64),
        r.connections_opened
    );
    if let Some(lag) = &r.send_lag {
        let _ = writeln!(
            out,
            "  Send lag  p50 {}, p99 {}, max {}; {} requests waited for a free connection",
            us(lag.p50_us),
            us(lag.p99_us),
            us(lag.max_us),
            r.late_sends
        );
    }
    if let Some(w) = &r.warmup {
        let _ = writeln!(
            out,
            "  Warm-up   {} requests in {} ({} errors), p99 {}, not counted above",
            w.requests,
            seconds(w.duration_s),
            w.errors,
            us(w.latency.p99_us)
        );
    }
    let c = &r.self_check;
    let _ = writeln!(
        out,
        "  Generator {} CPU-s over {} on {} core(s): {} busy",
        num(c.cpu_s),
        seconds(c.wall_s),
        c.cores,
        percent(c.cpu_fraction)
    );

    if !r.steps.is_empty() {
        let _ = writeln!(
            out,
            "\n  Steps     {:>10} {:>10} {:>12} {:>12} {:>8}",
            "target", "achieved", "p50", "p99", "errors"
        );
        for s in &r.steps {
            let _ = writeln!(
                out,
                "            {:>10} {:>10} {:>12} {:>12} {:>8}",
                num(s.target_rate),
                num(s.achieved_rate),
                us(s.latency.p50_us),
                us(s.latency.p99_us),
                s.errors.values().sum::<u64>()
            );
        }
    }

    if r.generator_saturated {
        let bar = "!".repeat(78);
        let _ = writeln!(out, "\n{bar}");
        let _ =
            writeln!(out, "!! WARNING: THE LOAD GENERATOR WAS SATURATED; these numbers may measure it, not the server");
        for reason in &r.saturation_reasons {
            let _ = writeln!(out, "!!   - {reason}");
        }
        let _ = writeln!(out, "{bar}");
    }
    out
}

/// Picks one number out of a latency summary.
type Pick = fn(&LatencySummary) -> f64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_and_sizes_read_as_the_report_writes_them() {
        assert_eq!(us(850.0), "850 µs");
        assert_eq!(us(20_346.0), "20.3 ms");
        assert_eq!(us(1_270_000.0), "1.27 s");
        assert_eq!(bytes((3 << 20) as f64), "3 MiB");
    }
}
