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
        let mut wrong = Vec::new();
        let want_selects = work.world_selects * responses;
        if self.world_selects != want_selects {
            wrong.push(format!(
                "the database ran {} SELECTs on World for {responses} responses that each need {} ({want_selects} in all){}",
                self.world_selects,
                work.world_selects,
                if self.world_selects < want_selects { ": answers served from a cache or a batched SELECT?" } else { "" }
            ));
        } else if !rows_close(self.world_select_rows, want_selects) {
            wrong.push(format!(
                "the World SELECTs returned {} rows, expected {want_selects} within {:.1}%",
                self.world_select_rows,
                ROW_TOLERANCE * 100.0
            ));
        }
        let want_updated = work.world_updated_rows * responses;
        if !rows_close(self.world_update_rows, want_updated) {
            wrong.push(format!(
                "the database updated {} World rows for {responses} responses that each write {} ({want_updated} in all, within {:.1}%){}",
                self.world_update_rows,
                work.world_updated_rows,
                ROW_TOLERANCE * 100.0,
                if self.world_update_rows < want_updated { ": skipped writes?" } else { "" }
            ));
        }
        let want_fortunes = work.fortune_selects * responses;
        if self.fortune_selects != want_fortunes {
            wrong.push(format!(
                "the database ran {} SELECTs on Fortune for {responses} responses that each need {}{}",
                self.fortune_selects,
                work.fortune_selects,
                if self.fortune_selects < want_fortunes { ": fortunes served from a cache?" } else { "" }
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
