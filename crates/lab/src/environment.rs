//! What the machine was when a run was made: CPU, kernel, OS, the claimbench commit, and which
//! cores each part of the lab got; plus the run's timestamps (RFC 3339 UTC, via jiff). The
//! stacks' own versions come from the supervisor through [`crate::verify_stacks`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use claimbench_model::run::{Environment, StackInfo};
use claimbench_platform::procfs;

use crate::Topology;

/// The environment record of a run on `topology`, from the checkout at `root`.
pub fn capture_environment(root: &Path, topology: &Topology, stacks: BTreeMap<String, StackInfo>) -> Environment {
    let cores = topology.allowed.len() as u32;
    let pinning_note = (cores <= 3).then(|| {
        format!(
            "only {cores} core(s): the app gets core {}, the load generator and the upstream share core(s) {}; experiments that need several app cores (E-workers) are not measurable here",
            topology.app_list(),
            topology.generator_list()
        )
    });
    Environment {
        cpu_model: procfs::cpu_model().unwrap_or_else(|| "unknown".into()),
        cores,
        kernel: procfs::kernel().unwrap_or_else(|| "unknown".into()),
        os: procfs::os_pretty_name(),
        claimbench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(root),
        app_cores: topology.app_list(),
        generator_cores: topology.generator_list(),
        pinning_note,
        upstream_scheduling: None,
        stacks,
        roles: BTreeMap::new(),
        database: None,
    }
}

fn git_commit(root: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// RFC 3339 UTC with second precision, e.g. `2026-11-18T11:06:40Z`.
pub fn timestamp(t: SystemTime) -> String {
    let t = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A run's folder name: its start time (with `-` for `:`, which some file systems refuse) and profile.
pub fn run_id(started: SystemTime, profile: &str) -> String {
    format!("{}-{profile}", timestamp(started).replace(':', "-"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_to_the_second() {
        let t = std::time::UNIX_EPOCH + Duration::from_millis(1_795_000_000_750);
        assert_eq!(timestamp(t), "2026-11-18T11:06:40Z");
        let leap_day = std::time::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap_day), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn run_ids_have_no_colons() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(run_id(t, "smoke"), "2026-11-18T11-06-40Z-smoke");
    }

    #[test]
    fn the_environment_records_the_topology_it_ran_on() {
        let topology = Topology::split(&[2, 3], None).unwrap();
        let env = capture_environment(Path::new("."), &topology, BTreeMap::new());
        assert_eq!((env.cores, env.app_cores.as_str(), env.generator_cores.as_str()), (2, "3", "2"));
        assert!(env.pinning_note.unwrap().contains("app gets core 3"));
    }
}
