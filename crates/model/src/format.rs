//! The one formatter of numbers for humans: significant figures, percentages, ratios, noise
//! bands, durations, rates, byte counts. Pure functions, no I/O.
//!
//! Every number a reader sees (the HTML report, the compare page, the history index, markdown
//! summaries, verdict reasons and the engine's text summary) goes through here, so "5%" reads
//! the same everywhere and microseconds are always spelt "µs". Deciding which number to show is
//! the caller's job. A value that is not finite reads as "–".

/// What a number that is not finite reads as.
pub const MISSING: &str = "–";

/// Three significant figures without trailing zeros: 1.52, 19.8, 0.045, 123, 1234.
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.to_string();
    }
    let a = v.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 || a == 0.0 {
        2
    } else {
        // 0.045 keeps three significant figures, not two decimals.
        (2 - a.log10().floor() as i32).clamp(2, 6) as usize
    };
    trim_zeros(format!("{v:.decimals$}"))
}

/// A fraction as a percentage with three significant figures: 0.05 -> "5%", 0.052 -> "5.2%",
/// 0.0004 -> "0.04%", 0.1234 -> "12.3%".
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if !p.is_finite() {
        return MISSING.to_string();
    }
    format!("{}%", sig3(p))
}

/// A confidence level as people write it, cut (never rounded up) to two decimals: 95%, 96.87%, 99.83%.
pub fn level(level: f64) -> String {
    let cut = (level * 10_000.0 + 1e-6).floor() / 100.0;
    let text = format!("{cut:.2}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

/// A noise band of `fraction` either side of 1: 0.05 -> "±5%".
pub fn band(fraction: f64) -> String {
    format!("±{}", percent(fraction))
}

/// A ratio: "1.52×".
pub fn ratio(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.to_string();
    }
    format!("{}×", sig3(v))
}

/// A ratio with its interval: "1.52× (1.38–1.71)".
pub fn ratio_interval(median: f64, low: f64, high: f64) -> String {
    format!("{} ({}–{})", ratio(median), sig3(low), sig3(high))
}

/// A ratio as a signed change in percent, with one decimal: 0.8 -> "−20.0%", 1.05 -> "+5.0%",
/// 1.0 -> "±0.0%". The minus sign is U+2212, as typeset.
pub fn signed_percent(ratio: f64) -> String {
    let p = (ratio - 1.0) * 100.0;
    if !p.is_finite() {
        MISSING.to_string()
    } else if p.abs() < 0.05 {
        "±0.0%".to_string()
    } else if p < 0.0 {
        format!("−{:.1}%", -p)
    } else {
        format!("+{p:.1}%")
    }
}

/// A duration given in microseconds, in the unit that keeps three significant figures:
/// "812 µs", "20.5 ms", "3.2 s".
pub fn micros(us: f64) -> String {
    if !us.is_finite() {
        return MISSING.to_string();
    }
    if us.abs() < 1_000.0 {
        format!("{} µs", sig3(us))
    } else if us.abs() < 1_000_000.0 {
        format!("{} ms", sig3(us / 1_000.0))
    } else {
        format!("{} s", sig3(us / 1_000_000.0))
    }
}

/// A duration given in milliseconds, as [`micros`] writes it.
pub fn millis(ms: f64) -> String {
    micros(ms * 1_000.0)
}

/// A duration given in seconds, for run lengths: "38.2 s", "4 min 12 s", "1 h 05 min".
pub fn seconds(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        MISSING.to_string()
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

/// A request rate per second: "12.3k/s", "850/s", "9.5/s".
pub fn rate(per_s: f64) -> String {
    if !per_s.is_finite() {
        MISSING.to_string()
    } else if per_s >= 10_000.0 {
        format!("{:.1}k/s", per_s / 1_000.0)
    } else if per_s >= 100.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.1}/s")
    }
}

/// A byte count in binary units: "512 B", "1.5 KiB", "48 MiB".
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if !b.is_finite() {
        return MISSING.to_string();
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

/// A count with thin-space thousands separators: "1 234 567".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(ch);
    }
    out
}

/// A number with at most `decimals` decimals and no trailing zeros, for chart ticks:
/// 0.05, 12, 2.5.
pub fn trimmed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return MISSING.to_string();
    }
    trim_zeros(format!("{v:.decimals$}"))
}

fn trim_zeros(s: String) -> String {
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
    fn numbers_keep_three_significant_figures() {
        assert_eq!(sig3(1.52), "1.52");
        assert_eq!(sig3(19.8), "19.8");
        assert_eq!(sig3(0.045), "0.045");
        assert_eq!(sig3(0.0561), "0.0561");
        assert_eq!(sig3(2.0), "2");
        assert_eq!(sig3(123.4), "123");
        assert_eq!(sig3(-1.234), "-1.23");
        assert_eq!(sig3(f64::NAN), "–");
    }

    #[test]
    fn percents_and_bands_drop_trailing_zeros_and_keep_small_values_visible() {
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.025), "2.5%");
        assert_eq!(percent(0.95), "95%");
        assert_eq!(percent(0.052), "5.2%");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(percent(0.0004), "0.04%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(band(0.05), "±5%");
        assert_eq!(band(0.1), "±10%");
    }

    #[test]
    fn ratios_and_changes_read_as_a_reader_expects() {
        assert_eq!(ratio(1.5), "1.5×");
        assert_eq!(ratio_interval(1.52, 1.38, 1.714), "1.52× (1.38–1.71)");
        assert_eq!(signed_percent(0.8), "−20.0%");
        assert_eq!(signed_percent(1.05), "+5.0%");
        assert_eq!(signed_percent(1.0), "±0.0%");
        assert_eq!(signed_percent(f64::INFINITY), "–");
    }

    #[test]
    fn durations_pick_a_unit_that_keeps_three_figures_and_spell_micro_with_mu() {
        assert_eq!(micros(812.0), "812 µs");
        assert_eq!(micros(850.0), "850 µs");
        assert_eq!(micros(20_480.0), "20.5 ms");
        assert_eq!(micros(1_250.0), "1.25 ms");
        assert_eq!(micros(3_200_000.0), "3.2 s");
        assert_eq!(micros(f64::NAN), "–");
        assert_eq!(millis(1.5), "1.5 ms");
        assert_eq!(seconds(38.24), "38.2 s");
        assert_eq!(seconds(252.0), "4 min 12 s");
        assert_eq!(seconds(3900.0), "1 h 05 min");
    }

    #[test]
    fn rates_bytes_and_counts_use_their_units() {
        assert_eq!(rate(12_345.0), "12.3k/s");
        assert_eq!(rate(850.0), "850/s");
        assert_eq!(rate(9.5), "9.5/s");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(48.0 * 1024.0 * 1024.0), "48 MiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1\u{2009}234\u{2009}567");
        assert_eq!(trimmed(2.500, 3), "2.5");
    }
}
