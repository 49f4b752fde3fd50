//! Number formatting shared by the HTML and markdown views: durations, rates, bytes, ratios.
//!
//! Every number a reader sees goes through here, so units and precision agree across the
//! tables, the charts' captions and `summary.md`. Deciding what to show is the view's job.

/// A latency given in microseconds, with a unit that keeps three significant digits.
pub fn latency_us(us: f64) -> String {
    if !us.is_finite() {
        return "–".to_string();
    }
    if us < 1_000.0 {
        format!("{} µs", sig3(us))
    } else if us < 1_000_000.0 {
        format!("{} ms", sig3(us / 1_000.0))
    } else {
        format!("{} s", sig3(us / 1_000_000.0))
    }
}

/// A duration given in milliseconds.
pub fn millis(ms: f64) -> String {
    latency_us(ms * 1_000.0)
}

/// A duration given in seconds, for run lengths: `4 min 12 s`, `38.2 s`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        "–".to_string()
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        let t = s.round() as u64;
        format!("{} min {:02} s", t / 60, t % 60)
    } else {
        let t = (s / 60.0).round() as u64;
        format!("{} h {:02} min", t / 60, t % 60)
    }
}

/// A request rate per second.
pub fn rate(per_s: f64) -> String {
    if !per_s.is_finite() {
        "–".to_string()
    } else if per_s >= 10_000.0 {
        format!("{:.1}k/s", per_s / 1_000.0)
    } else if per_s >= 100.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.1}/s")
    }
}

/// A byte count in binary units.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if !b.is_finite() {
        return "–".to_string();
    }
    let mut v = b;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{} {}", sig3(v), UNITS[unit])
    }
}

/// A fraction in [0, 1] as a percentage, with more digits for small values.
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if !p.is_finite() {
        "–".to_string()
    } else if p == 0.0 {
        "0%".to_string()
    } else if p.abs() < 0.1 {
        format!("{p:.3}%")
    } else if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A plain count with thin thousands separators: `1 234 567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(ch);
    }
    out
}

/// Three significant digits without a trailing `.0`: 1.23, 12.3, 123, 1234.
fn sig3(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_pick_a_unit_that_keeps_three_digits() {
        assert_eq!(latency_us(812.0), "812 µs");
        assert_eq!(latency_us(20_480.0), "20.5 ms");
        assert_eq!(latency_us(1_250.0), "1.25 ms");
        assert_eq!(latency_us(3_200_000.0), "3.2 s");
        assert_eq!(latency_us(f64::NAN), "–");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(48.0 * 1024.0 * 1024.0), "48 MiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1\u{2009}234\u{2009}567");
    }

    #[test]
    fn run_lengths_read_as_minutes() {
        assert_eq!(seconds(38.24), "38.2 s");
        assert_eq!(seconds(252.0), "4 min 12 s");
    }

    #[test]
    fn percents_keep_small_values_visible() {
        assert_eq!(percent(0.0004), "0.040%");
        assert_eq!(percent(0.052), "5.2%");
        assert_eq!(percent(0.0), "0%");
    }
}
