//! E-stream's one-connection units as the lab runs them, on express and fastapi: a 100 MiB
//! download and a 100 MiB generated upload each complete within a short trial, every sampled
//! answer matches the contract (the pattern byte for byte, the upload's length and SHA-256), and
//! the bytes counted are whole bodies, so body throughput has what it reads; and the generator
//! side's busy time counts the load generator's own work.

#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

use std::path::{Path, PathBuf};
use std::time::Duration;

use claimbench_engine::Cancel;
use claimbench_lab::{start_database, start_upstream, RealLab, Topology};
use claimbench_suite::experiments::{catalogue, STREAM_LARGE_BYTES};
use claimbench_suite::profile::Profile;
use claimbench_suite::{Instance, Lab};
use claimbench_supervisor::Supervisor;

#[test]
fn a_large_download_and_upload_complete_whole_and_match_the_contract_on_both_stacks() {
    let _load = load_lock::load_lock();
    let root: PathBuf = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).canonicalize().unwrap();
    let supervisor = Supervisor::new(&root).unwrap();
    let topology = Topology::detect(None).unwrap();
    let upstream = start_upstream(&topology).unwrap();
    let database = start_database(&root, &topology, None).unwrap();
    let mut lab = RealLab::new(supervisor, upstream, database, topology, Duration::from_millis(300), Cancel::new());
    let stream = catalogue(&Profile::named("quick").unwrap()).into_iter().find(|e| e.id == "E-stream").unwrap();
    for stack in ["express", "fastapi"] {
        let instance = Instance { stack: stack.into(), workers: 1, wide: false };
        lab.ensure(&instance).unwrap_or_else(|e| panic!("{stack} did not start: {}", e.message));
        for label in ["download c=1", "upload c=1"] {
            let unit = stream.units.iter().find(|u| u.label == label).unwrap();
            let measured = lab
                .measure(&instance, &unit.load, Duration::from_millis(250), Duration::ZERO)
                .unwrap_or_else(|e| panic!("{stack} {label}: {}", e.message));
            let load = measured.load.as_ref().unwrap();
            assert!(load.responses >= 1, "{stack} {label}: no exchange completed");
            assert_eq!(load.errors.values().sum::<u64>(), 0, "{stack} {label}: {:?}", load.errors);
            assert_eq!(load.status_counts.get(&200), Some(&load.responses), "{stack} {label}");
            // Each exchange moved its whole body in its direction (headers on top).
            let moved = if label.starts_with("download") { load.bytes_in } else { load.bytes_out };
            assert!(moved >= load.responses * STREAM_LARGE_BYTES, "{stack} {label}: {moved} bytes");
            assert!(measured.app_cpu_s > 0.0, "{stack} {label}: the app's CPU is measured");
            // The generator side's busy time holds the load generator's own worker, a thread of
            // this trial that ended before the window closed: at least half of what the engine
            // says it used of its core (no warm-up here, so the engine's wall is about the
            // window; by the thread listings alone it read 12 times less: 0.020 against 0.243).
            if let Some(busy) = measured.generator_side_busy {
                let engine = load.self_check.cpu_fraction;
                assert!(
                    busy >= 0.5 * engine,
                    "{stack} {label}: generator side {busy:.3} busy, the engine alone {engine:.3}"
                );
            }
        }
    }
}
