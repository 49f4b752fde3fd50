//! The benchmark database as plain data: what ran (version, settings, pool sizes, CPUs) for the
//! results' environment block, and the counters read from `pg_stat_statements` that prove the
//! apps did the work they answered for.
//!
//! Starting the server and reading the counters is the supervisor's job; judging a trial's
//! counters against the requests it served is [`DbCounters::judge`], a pure function.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The database a run used, as recorded in the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatabaseInfo {
    /// `PostgreSQL 15.18 (Debian 15.18-0+deb12u1)` or whatever `SHOW server_version` says.
    pub version: String,
    /// True when claimbench started the server itself (a throwaway cluster); false for
    /// `--database-url`.
    pub self_started: bool,
    /// Where it listened, without any password: `127.0.0.1:41234/claimbench`.
    pub address: String,
    /// The schema claimbench created and seeded (`World`, `Fortune`).
    pub schema: String,
    /// Every setting claimbench changed from PostgreSQL's defaults, as `(name, value)`.
    pub settings: Vec<(String, String)>,
    /// Connections of each app worker's pool; equal in every stack.
    pub pool_per_worker: u32,
    /// CPUs the server was pinned to, e.g. `2`; `None` for an external server.
    #[serde(default)]
    pub cpus: Option<String>,
    /// Set when the server shares its CPUs with another part of the lab, worded for the report.
    #[serde(default)]
    pub cpu_note: Option<String>,
    /// False when `pg_stat_statements` could not be read, so no trial can be checked by counters.
    pub counters_available: bool,
}

/// Totals from `pg_stat_statements` over the benchmark's own statements at one moment; two of
/// them subtracted give what happened in between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DbCounters {
    /// SELECT statements on `World` executed.
    pub world_selects: u64,
    /// Rows those SELECTs returned.
    pub world_select_rows: u64,
    /// UPDATE statements on `World` executed (one per batch).
    pub world_updates: u64,
    /// Rows those UPDATEs changed.
    pub world_update_rows: u64,
    /// SELECT statements on `Fortune` executed.
    pub fortune_selects: u64,
    /// Rows those SELECTs returned.
    pub fortune_select_rows: u64,
}

/// What one successful response of a database endpoint must have cost the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DbWork {
    /// SELECTs on `World`, one per row read (an `IN (…)` list is not allowed).
    #[serde(default)]
    pub world_selects: u64,
    /// `World` rows written (in any number of UPDATE statements).
    #[serde(default)]
    pub world_updated_rows: u64,
    /// SELECTs on `Fortune`.
    #[serde(default)]
    pub fortune_selects: u64,
}

/// Rows may fall short of the requests by this fraction: a batched update writes a row drawn
/// twice in one request only once.
pub const ROW_TOLERANCE: f64 = 0.011;

impl DbCounters {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &DbCounters) -> DbCounters {
        DbCounters {
            world_selects: self.world_selects.saturating_sub(earlier.world_selects),
            world_select_rows: self.world_select_rows.saturating_sub(earlier.world_select_rows),
            world_updates: self.world_updates.saturating_sub(earlier.world_updates),
            world_update_rows: self.world_update_rows.saturating_sub(earlier.world_update_rows),
            fortune_selects: self.fortune_selects.saturating_sub(earlier.fortune_selects),
            fortune_select_rows: self.fortune_select_rows.saturating_sub(earlier.fortune_select_rows),
        }
    }

    /// Checks these counters (a difference) against `responses` successful answers that each cost
    /// `work`: statements exactly, rows within [`ROW_TOLERANCE`]. `Err` says what was missing,
    /// worded for the report ("a cache?"), so the trial can be failed as a wrong answer.
    pub fn judge(&self, work: &DbWork, responses: u64) -> Result<(), String> {
        self.judge_range(work, responses, responses)
    }

    /// As [`DbCounters::judge`] for a load whose `answered` requests succeeded out of `sent`: a
    /// request that failed or timed out may or may not have done its work, so each count may lie
    /// anywhere from what the successes cost to what every request sent would have.
    pub fn judge_range(&self, work: &DbWork, answered: u64, sent: u64) -> Result<(), String> {
        let sent = sent.max(answered);
        let needed = |per: u64| (per * answered, per * sent);
        let within = |got: u64, (low, high): (u64, u64)| (low..=high).contains(&got);
        let in_all = |(low, high): (u64, u64)| {
            if low == high {
                format!("{low} in all")
            } else {
                format!("{low} to {high} in all, counting the {} requests that failed", sent - answered)
            }
        };
        let responses = answered;
        let mut wrong = Vec::new();
        let want_selects = needed(work.world_selects);
        if !within(self.world_selects, want_selects) {
            wrong.push(format!(
                "the database ran {} SELECTs on World for {responses} responses that each need {} ({}){}",
                self.world_selects,
                work.world_selects,
                in_all(want_selects),
                if self.world_selects < want_selects.0 {
                    ": answers served from a cache or a batched SELECT?"
                } else {
                    ""
                }
            ));
        } else if !rows_close(self.world_select_rows, self.world_selects) {
            wrong.push(format!(
                "the World SELECTs returned {} rows, expected {} (one per SELECT) within {:.1}%",
                self.world_select_rows,
                self.world_selects,
                ROW_TOLERANCE * 100.0
            ));
        }
        let want_updated = needed(work.world_updated_rows);
        // A batched update writes a row drawn twice in one request once, so rows may fall short.
        let updated = self.world_update_rows;
        let updated_ok = updated <= want_updated.1 && updated as f64 >= want_updated.0 as f64 * (1.0 - ROW_TOLERANCE);
        if !updated_ok {
            wrong.push(format!(
                "the database updated {} World rows for {responses} responses that each write {} ({}, within {:.1}%){}",
                self.world_update_rows,
                work.world_updated_rows,
                in_all(want_updated),
                ROW_TOLERANCE * 100.0,
                if self.world_update_rows < want_updated.0 { ": skipped writes?" } else { "" }
            ));
        }
        let want_fortunes = needed(work.fortune_selects);
        if !within(self.fortune_selects, want_fortunes) {
            wrong.push(format!(
                "the database ran {} SELECTs on Fortune for {responses} responses that each need {} ({}){}",
                self.fortune_selects,
                work.fortune_selects,
                in_all(want_fortunes),
                if self.fortune_selects < want_fortunes.0 { ": fortunes served from a cache?" } else { "" }
            ));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        }
    }
}

/// TechEmpower's rule for `queries=N`: digits only, clamped to 1..=500; anything else (missing,
/// empty, `0`, `foo`, `1.5`) means 1.
pub fn clamp_queries(raw: Option<&str>) -> u64 {
    match raw {
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            // More digits than a u64 holds is still a number above 500.
            text.parse::<u64>().unwrap_or(u64::MAX).clamp(1, 500)
        }
        _ => 1,
    }
}

/// The database work one successful response to `target` (a path with its query string) costs,
/// or `None` for a path outside the database group.
pub fn work_for_target(target: &str) -> Option<DbWork> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // The first `queries` value wins, as for every parameter of the contract.
    let queries = || clamp_queries(query.split('&').find_map(|pair| pair.strip_prefix("queries=")));
    match path {
        "/db" => Some(DbWork { world_selects: 1, ..DbWork::default() }),
        "/queries" => Some(DbWork { world_selects: queries(), ..DbWork::default() }),
        "/updates" => {
            let n = queries();
            Some(DbWork { world_selects: n, world_updated_rows: n, fortune_selects: 0 })
        }
        "/fortunes" => Some(DbWork { fortune_selects: 1, ..DbWork::default() }),
        _ => None,
    }
}

/// `World`'s rows (TechEmpower's table size; ids 1 to 10,000).
pub const WORLD_ROWS: u64 = 10_000;
/// The range of `randomNumber`: a write draws 1 to 10,000, so it leaves a row unchanged with
/// probability 1 in 10,000.
pub const RANDOM_NUMBERS: u64 = 10_000;

/// The rows of `World` expected to differ after `writes` random writes, each to a row and value
/// drawn uniformly: a row is written at least once with probability 1 − (1 − 1/R)^writes, and
/// its last value differs from the first but for 1 in 10,000.
pub fn expected_changed_rows(rows: u64, writes: u64) -> f64 {
    let rows = rows as f64;
    let touched = 1.0 - (1.0 - 1.0 / rows).powf(writes as f64);
    rows * touched * (1.0 - 1.0 / RANDOM_NUMBERS as f64)
}

/// Checks a snapshot of `World` (`(id, randomNumber)` pairs) taken before and after a load that
/// wrote between `writes_min` (its successful answers) and `writes_max` (every request it sent)
/// random rows. Whether a row changes is a draw, so the count is judged against the expected
/// count within six standard deviations of a sum of Bernoulli draws (which bounds the
/// occupancy's), plus a few rows. Too few changed rows mean writes that stored nothing new (the
/// value already there, or no commit); too many, writes that no request accounts for.
pub fn judge_world_snapshot(
    before: &[(i64, i64)],
    after: &[(i64, i64)],
    writes_min: u64,
    writes_max: u64,
) -> Result<(), String> {
    if before.len() != after.len() || before.iter().zip(after).any(|(b, a)| b.0 != a.0) {
        return Err(format!(
            "World had {} rows before the trial and {} after, or other ids: rows were inserted or deleted",
            before.len(),
            after.len()
        ));
    }
    let rows = before.len() as u64;
    let changed = before.iter().zip(after).filter(|(b, a)| b.1 != a.1).count() as f64;
    let band = |writes: u64| {
        let expected = expected_changed_rows(rows, writes);
        let p = expected / rows as f64;
        (expected, 6.0 * (rows as f64 * p * (1.0 - p)).sqrt() + 5.0)
    };
    let (low, low_band) = band(writes_min);
    let (high, high_band) = band(writes_max.max(writes_min));
    if changed < low - low_band {
        return Err(format!(
            "only {changed:.0} of {rows} World rows changed value for {writes_min} rows written, where about {low:.0} \
             (± {low_band:.0}) should have: writes that store the value already there, or that never commit?"
        ));
    }
    if changed > high + high_band {
        return Err(format!(
            "{changed:.0} of {rows} World rows changed value, more than the {writes_max} rows the requests could \
             write would change (about {high:.0} ± {high_band:.0})"
        ));
    }
    Ok(())
}

/// True when `got` is `want`, or short of it (never over) by at most [`ROW_TOLERANCE`].
fn rows_close(got: u64, want: u64) -> bool {
    got <= want && (want - got) as f64 <= want as f64 * ROW_TOLERANCE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(world_selects: u64, world_update_rows: u64, fortune_selects: u64) -> DbCounters {
        DbCounters {
            world_selects,
            world_select_rows: world_selects,
            world_updates: world_update_rows.min(1),
            world_update_rows,
            fortune_selects,
            fortune_select_rows: fortune_selects * 12,
        }
    }

    /// A deterministic World of `rows` rows after `writes` writes, drawn by a small LCG; with
    /// `fresh` false every write stores the value already there.
    /// World rows as (id, randomnumber).
    type Rows = Vec<(i64, i64)>;

    fn world_after(rows: usize, writes: u64, fresh: bool, seed: u64) -> (Rows, Rows) {
        let mut state = seed;
        let mut next = move |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let before: Vec<(i64, i64)> = (1..=rows as i64).map(|id| (id, 1 + next(10_000) as i64)).collect();
        let mut after = before.clone();
        for _ in 0..writes {
            let row = next(rows as u64) as usize;
            let value = 1 + next(10_000) as i64;
            if fresh {
                after[row].1 = value;
            }
        }
        (before, after)
    }

    #[test]
    fn a_world_snapshot_with_real_random_writes_passes_for_every_seed() {
        for seed in 0..50 {
            for writes in [0, 10, 500, 5_000, 40_000] {
                let (before, after) = world_after(10_000, writes, true, seed);
                assert_eq!(
                    judge_world_snapshot(&before, &after, writes, writes),
                    Ok(()),
                    "seed {seed}, {writes} writes"
                );
            }
        }
    }

    #[test]
    fn writes_that_store_the_same_value_fail_the_snapshot() {
        let (before, after) = world_after(10_000, 5_000, false, 7);
        let why = judge_world_snapshot(&before, &after, 5_000, 5_000).unwrap_err();
        assert!(why.contains("only 0 of 10000 World rows changed") && why.contains("value already there"), "{why}");
    }

    #[test]
    fn more_changes_than_the_requests_could_make_fail_the_snapshot() {
        let (before, after) = world_after(10_000, 20_000, true, 3);
        let why = judge_world_snapshot(&before, &after, 1_000, 1_200).unwrap_err();
        assert!(why.contains("more than the 1200 rows"), "{why}");
        let (before, mut after) = world_after(10, 0, true, 3);
        after.pop();
        assert!(judge_world_snapshot(&before, &after, 0, 0).unwrap_err().contains("inserted or deleted"));
    }

    #[test]
    fn failed_requests_widen_the_counts_the_database_may_show() {
        let queries = DbWork { world_selects: 20, ..DbWork::default() };
        // 1,000 answered and 10 timed out, of which 4 had run their SELECTs.
        assert_eq!(counters(20_080, 0, 0).judge_range(&queries, 1_000, 1_010), Ok(()));
        let why = counters(20_300, 0, 0).judge_range(&queries, 1_000, 1_010).unwrap_err();
        assert!(why.contains("20000 to 20200 in all, counting the 10 requests that failed"), "{why}");
        assert!(counters(19_990, 0, 0).judge_range(&queries, 1_000, 1_010).unwrap_err().contains("cache"));
    }

    #[test]
    fn the_exact_work_passes() {
        let queries = DbWork { world_selects: 20, ..DbWork::default() };
        assert_eq!(counters(20_000, 0, 0).judge(&queries, 1_000), Ok(()));
        let updates = DbWork { world_selects: 5, world_updated_rows: 5, fortune_selects: 0 };
        assert_eq!(counters(5_000, 4_990, 0).judge(&updates, 1_000), Ok(()), "a few rows drawn twice");
    }

    #[test]
    fn a_cache_that_skips_selects_fails_and_says_so() {
        let queries = DbWork { world_selects: 20, ..DbWork::default() };
        let why = counters(19_999, 0, 0).judge(&queries, 1_000).unwrap_err();
        assert!(why.contains("19999 SELECTs on World for 1000 responses"), "{why}");
        assert!(why.contains("cache"), "{why}");
        let fortunes = DbWork { fortune_selects: 1, ..DbWork::default() };
        assert!(counters(0, 0, 10).judge(&fortunes, 100).unwrap_err().contains("fortunes served from a cache"));
    }

    #[test]
    fn skipped_writes_beyond_the_tolerance_fail() {
        let updates = DbWork { world_selects: 5, world_updated_rows: 5, fortune_selects: 0 };
        let why = counters(5_000, 4_900, 0).judge(&updates, 1_000).unwrap_err();
        assert!(why.contains("updated 4900 World rows") && why.contains("skipped writes"), "{why}");
        assert!(counters(5_000, 5_001, 0).judge(&updates, 1_000).is_err(), "more rows than asked is wrong too");
    }

    #[test]
    fn queries_are_clamped_as_techempowers_verifier_expects() {
        let cases = [("2", 2), ("0", 1), ("foo", 1), ("501", 500), ("", 1), ("1.5", 1), ("-3", 1), ("500", 500)];
        for (raw, want) in cases {
            assert_eq!(clamp_queries(Some(raw)), want, "queries={raw}");
        }
        assert_eq!(clamp_queries(None), 1);
        assert_eq!(clamp_queries(Some("99999999999999999999999")), 500, "too long for u64 is still a big number");
        assert_eq!(clamp_queries(Some("0007")), 7);
    }

    #[test]
    fn each_database_path_names_its_work() {
        assert_eq!(work_for_target("/db").unwrap().world_selects, 1);
        assert_eq!(work_for_target("/queries?queries=20").unwrap().world_selects, 20);
        assert_eq!(work_for_target("/queries").unwrap().world_selects, 1);
        let updates = work_for_target("/updates?queries=5").unwrap();
        assert_eq!((updates.world_selects, updates.world_updated_rows), (5, 5));
        assert_eq!(work_for_target("/fortunes").unwrap().fortune_selects, 1);
        assert_eq!(work_for_target("/json"), None);
    }

    #[test]
    fn differences_never_underflow() {
        let later = counters(10, 0, 0);
        let earlier = counters(4, 2, 0);
        assert_eq!(later.since(&earlier).world_selects, 6);
        assert_eq!(later.since(&earlier).world_update_rows, 0);
    }
}
