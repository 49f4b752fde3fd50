//! The run folder written and read back through `RunDir` alone, from the committed fixture run.

use std::io::Write;

use claimbench_lab::{finished_runs, latest_calibration, read_calibration, RunDir, RunDirError};
use claimbench_model::calibration::{Calibration, Counts, Machine};
use claimbench_model::run::{Measurement, RunResults};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/recorded-smoke.json");

fn fixture() -> RunResults {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

fn header_and_measurements() -> (RunResults, Vec<Measurement>) {
    let mut header = fixture();
    let measurements: Vec<Measurement> =
        header.experiments.iter().flat_map(|e| e.measurements.iter().cloned()).take(3).collect();
    assert_eq!(measurements.len(), 3, "the fixture has measurements to append");
    header.experiments.clear();
    header.claims.clear();
    header.complete = false;
    (header, measurements)
}

#[test]
fn the_header_is_written_first_and_latest_points_at_the_new_run() {
    let reports = tempfile::tempdir().unwrap();
    let (header, _) = header_and_measurements();
    let writer = RunDir::create(reports.path(), "run-a", &header).unwrap();
    let dir = writer.dir().clone();
    assert!(!dir.is_finished());
    let (read, measurements) = dir.read_partial().unwrap();
    assert_eq!(read.run_id, header.run_id);
    assert!(measurements.is_empty());
    assert_eq!(std::fs::read_link(reports.path().join("latest")).unwrap(), std::path::Path::new("run-a"));
    drop(writer);
    RunDir::create(reports.path(), "run-b", &header).unwrap();
    assert_eq!(std::fs::read_link(reports.path().join("latest")).unwrap(), std::path::Path::new("run-b"));
}

#[test]
fn appended_measurements_read_back_and_a_torn_last_line_is_skipped_with_a_warning() {
    let reports = tempfile::tempdir().unwrap();
    let (header, measurements) = header_and_measurements();
    let mut writer = RunDir::create(reports.path(), "run", &header).unwrap();
    for m in &measurements {
        writer.append(m).unwrap();
    }
    let with_load = measurements.iter().filter(|m| m.load.is_some()).count();
    let hgrms = std::fs::read_dir(writer.dir().path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "hgrm"))
        .count();
    assert_eq!(hgrms, with_load);
    // A run killed mid-write leaves half a line behind.
    let jsonl = writer.dir().path().join("measurements.jsonl");
    let mut file = std::fs::OpenOptions::new().append(true).open(&jsonl).unwrap();
    write!(file, "{{\"id\":\"E-x/express").unwrap();

    let (read, back) = RunDir::open(writer.dir().path()).unwrap().read_partial().unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back.iter().map(|m| &m.id).collect::<Vec<_>>(), measurements.iter().map(|m| &m.id).collect::<Vec<_>>());
    let torn: Vec<&String> = read.warnings.iter().filter(|w| w.contains("cut short")).collect();
    assert_eq!(torn.len(), 1, "{:?}", read.warnings);
    assert!(torn[0].starts_with("measurements.jsonl line 4"), "{}", torn[0]);
}

#[test]
fn a_finished_run_reads_back_from_its_folder_or_its_results_file() {
    let reports = tempfile::tempdir().unwrap();
    let run = fixture();
    let (header, _) = header_and_measurements();
    let writer = RunDir::create(reports.path(), "done", &header).unwrap();
    let dir = writer.finish(&run).unwrap();
    assert!(dir.is_finished());
    assert_eq!(dir.read_results().unwrap(), run);
    let by_file = RunDir::open(&dir.path().join("results.json")).unwrap();
    assert_eq!(by_file.read_results().unwrap().run_id, run.run_id);

    RunDir::create(reports.path(), "interrupted", &header).unwrap();
    let (runs, unreadable) = finished_runs(reports.path()).unwrap();
    assert_eq!(runs.len(), 1, "only the finished run, and not twice through `latest`");
    assert!(unreadable.is_empty());
}

#[test]
fn unfinished_missing_and_future_runs_are_errors_that_say_what_to_pass() {
    let reports = tempfile::tempdir().unwrap();
    let (header, _) = header_and_measurements();
    let writer = RunDir::create(reports.path(), "partial", &header).unwrap();
    let err = writer.dir().read_results().unwrap_err();
    assert!(matches!(err, RunDirError::NotFinished(_)));
    assert!(err.to_string().contains("has no results.json"), "{err}");

    let err = RunDir::open(&reports.path().join("nope")).unwrap_err();
    assert!(err.to_string().contains("does not exist: is it a claimbench run folder?"), "{err}");

    let future = reports.path().join("future.json");
    std::fs::write(&future, r#"{"schema_version": 999}"#).unwrap();
    let err = RunDir::open(&future).unwrap().read_results().unwrap_err();
    assert!(matches!(err, RunDirError::Schema { found: 999, .. }), "{err}");
}

fn calibration_of(header: &RunResults) -> Calibration {
    Calibration {
        run_id: header.run_id.clone(),
        date: header.started_at.clone(),
        machine: Machine::of(&header.environment),
        stack: "express".into(),
        profile: header.profile.clone(),
        complete: true,
        primary: Counts::default(),
        cross_stack: Counts::default(),
        evidences: Vec::new(),
    }
}

#[test]
fn a_calibration_is_written_into_its_run_folder_and_beside_it_as_the_newest() {
    let reports = tempfile::tempdir().unwrap();
    let (header, _) = header_and_measurements();
    let calibration = calibration_of(&header);
    let dir = RunDir::create(reports.path(), "cal", &header).unwrap().dir().clone();
    assert_eq!(read_calibration(&latest_calibration(reports.path())).unwrap(), None, "none before the first");

    let latest = dir.write_calibration(&calibration, reports.path()).unwrap();
    assert_eq!(latest, latest_calibration(reports.path()));
    let [own, beside] = dir.calibration_paths();
    assert_eq!(read_calibration(&own).unwrap().as_ref(), Some(&calibration));
    assert_eq!(read_calibration(&beside).unwrap().as_ref(), Some(&calibration));

    // Another run's report, opened through the `latest` link, finds the newest beside it.
    let other = RunDir::create(reports.path(), "run", &header).unwrap().dir().clone();
    assert_eq!(read_calibration(&other.calibration_paths()[0]).unwrap(), None);
    let through_link = RunDir::open(&reports.path().join("latest")).unwrap();
    assert_eq!(read_calibration(&through_link.calibration_paths()[1]).unwrap(), Some(calibration));
}

#[test]
fn a_file_that_is_not_a_calibration_is_an_error_that_names_it() {
    let reports = tempfile::tempdir().unwrap();
    let path = latest_calibration(reports.path());
    std::fs::write(&path, "{ not json").unwrap();
    let err = read_calibration(&path).unwrap_err();
    assert!(matches!(err, RunDirError::NotCalibration { .. }), "{err}");
    assert!(err.to_string().contains("calibration-latest.json is not a calibration"), "{err}");
}
