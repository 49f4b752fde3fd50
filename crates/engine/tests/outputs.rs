//! What a run writes: JSON that matches the shipped schema, `.hgrm` that parses back, an
//! interval log HdrHistogram's reader accepts, and a summary that says what matters.

mod support;

use std::sync::OnceLock;
use std::time::Duration;

use claimbench_engine::export::{self, Latency};
use claimbench_engine::histogram::{decode, merge};
use claimbench_engine::{run, Cancel, Mode, Plan, RateStep, Schedule};
use claimbench_model::load::LoadResult;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use support::{load_lock, Behaviour, TestServer};

/// One open-loop run with warm-up and rate steps, shared by the tests of this file.
fn stepped_result() -> &'static LoadResult {
    static RESULT: OnceLock<LoadResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let _guard = load_lock();
        let server = TestServer::start(Behaviour::Delay(Duration::from_millis(2)));
        let schedule = Schedule::Stepped(vec![
            RateStep { rate: 200.0, duration: Duration::from_millis(500) },
            RateStep { rate: 400.0, duration: Duration::from_millis(500) },
        ]);
        let mut plan =
            Plan::new(&server.url(), Mode::OpenLoop { schedule, poisson_seed: Some(3), connections: 8 }).unwrap();
        plan.warmup = Duration::from_millis(200);
        plan.interval = Duration::from_millis(250);
        run(&plan, &Cancel::new(), &|_| {}).unwrap()
    })
}

fn closed_result() -> LoadResult {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Fast);
    let mut plan =
        Plan::new(&server.url(), Mode::ClosedLoop { connections: 2, think_time: Duration::ZERO, duration: None })
            .unwrap();
    plan.max_requests = Some(300);
    run(&plan, &Cancel::new(), &|_| {}).unwrap()
}

fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/schema/load-result.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(result: &LoadResult) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.json");
    export::write_json(result, &path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = schema();
    let problems: Vec<String> =
        validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    // serde_json may move a float by one ulp, so compare what must be exact, and the rest closely.
    let back: LoadResult = serde_json::from_value(value).unwrap();
    assert_eq!(back.histograms, result.histograms);
    assert_eq!(
        (back.requests, &back.errors, &back.status_counts, &back.plan),
        (result.requests, &result.errors, &result.status_counts, &result.plan)
    );
    assert!((back.latency.p99_us - result.latency.p99_us).abs() < 1e-9);
    assert_eq!(back.intervals.len(), result.intervals.len());
}

#[test]
fn json_of_an_open_loop_run_with_steps_matches_the_schema() {
    let r = stepped_result();
    assert_eq!(r.steps.len(), 2);
    assert!(r.warmup.is_some());
    assert_valid(r);
}

#[test]
fn json_of_a_count_bounded_closed_loop_run_matches_the_schema() {
    let r = closed_result();
    assert_eq!(r.requests, 300);
    assert!(r.send_lag.is_none());
    assert_valid(&r);
}

#[test]
fn the_schema_rejects_a_result_with_a_missing_field() {
    let mut value = serde_json::to_value(stepped_result()).unwrap();
    value.as_object_mut().unwrap().remove("latency");
    assert!(!schema().is_valid(&value));
}

#[test]
fn hgrm_output_parses_back_to_the_distribution() {
    let r = stepped_result();
    let text = export::render_hgrm(r, Latency::Corrected).unwrap();
    let mut rows = Vec::new();
    for line in text.lines().skip(2) {
        if line.starts_with("#[") {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(cols.len() == 4 || cols.len() == 3, "{line}");
        let value_ms: f64 = cols[0].parse().unwrap();
        let fraction: f64 = cols[1].parse().unwrap();
        let total: u64 = cols[2].parse().unwrap();
        rows.push((value_ms, fraction, total));
    }
    assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
    assert_eq!(rows.len(), r.distribution.len());
    for (row, point) in rows.iter().zip(&r.distribution) {
        assert!((row.0 * 1000.0 - point.value_us).abs() <= 0.5, "{row:?} {point:?}");
        assert!((row.1 * 100.0 - point.percentile).abs() < 1e-9);
        assert_eq!(row.2, point.total_count);
    }
    let last = rows.last().unwrap();
    assert_eq!((last.1, last.2), (1.0, r.latency.count));
    assert!(text.contains(&format!("Total count    = {:>12}]", r.latency.count)));
    assert!(text.contains("SubBuckets     =         2048]"));
    let uncorrected = export::render_hgrm(r, Latency::Uncorrected).unwrap();
    assert_ne!(uncorrected, text);
}

#[test]
fn the_interval_log_round_trips_through_hdrhistograms_reader() {
    let r = stepped_result();
    let text = export::render_hlog(r).unwrap();
    assert!(text.contains("#[StartTime: "));
    assert!(text.contains("#[BaseTime: "));
    assert!(text.contains("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""));
    let mut intervals = Vec::new();
    let mut start_time = None;
    for entry in IntervalLogIterator::new(text.as_bytes()) {
        match entry.unwrap() {
            LogEntry::StartTime(t) => start_time = Some(t),
            LogEntry::BaseTime(_) => {}
            LogEntry::Interval(i) => {
                let bytes = base64_decode(i.encoded_histogram());
                let h: hdrhistogram::Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
                intervals.push((i.start_timestamp(), h));
            }
        }
    }
    let start = start_time.expect("a StartTime header").as_secs_f64();
    assert!((start - r.started_at_unix_s).abs() < 0.001);
    assert_eq!(intervals.len(), r.intervals.len());
    for ((t, h), point) in intervals.iter().zip(&r.intervals) {
        assert!((t.as_secs_f64() - point.start_s).abs() < 0.001);
        assert_eq!(h, &decode(&point.histogram).unwrap());
    }
    let total = merge(intervals.iter().map(|(_, h)| h)).unwrap();
    assert_eq!(total, decode(&r.histograms.corrected).unwrap());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

#[test]
fn the_summary_shows_both_latencies_rates_steps_and_the_self_check() {
    let r = stepped_result();
    let text = export::render_summary(r);
    for needle in
        ["p99.99", "corrected", "uncorrected", "req/s", "Status", "Errors", "Generator", "Steps", "Warm-up", "Send lag"]
    {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    let mut saturated = r.clone();
    saturated.generator_saturated = true;
    saturated.saturation_reasons = vec!["the load generator used 97% of its 1 core(s)".into()];
    let loud = export::render_summary(&saturated);
    assert!(loud.contains("WARNING: THE LOAD GENERATOR WAS SATURATED"));
    assert!(loud.contains("97% of its 1 core"));
}

#[test]
fn writing_into_a_missing_folder_names_the_path() {
    let err = export::write_json(stepped_result(), std::path::Path::new("/nonexistent/dir/x.json")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dir/x.json"), "{err}");
}
