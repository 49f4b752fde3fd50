//! Glue shared by the commands that start apps: the supervisor (with a spinner while it installs
//! dependencies), and the lab topology from a `--cpus` flag. The lab itself is `claimbench-lab`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use claimbench_lab::Topology;
use claimbench_supervisor::{parse_cpu_list, InstallEvent, Supervisor};
use indicatif::{ProgressBar, ProgressStyle};

/// What a first Ctrl-C does in a command that runs apps.
pub const STOPPING_APPS: &str = "stopping the apps";

/// The supervisor for this checkout, drawing a spinner while it installs an app's dependencies.
pub fn supervisor() -> anyhow::Result<Supervisor> {
    let spinner: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let draw = move |event: &InstallEvent| {
        let mut current = spinner.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            InstallEvent::Started { what } => {
                let bar = ProgressBar::new_spinner().with_message(what.clone());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} installing {msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                *current = Some(bar);
            }
            InstallEvent::Finished { what, took } => {
                if let Some(bar) = current.take() {
                    bar.finish_and_clear();
                }
                eprintln!("installed {what} in {:.1}s", took.as_secs_f64());
            }
        }
    };
    Ok(Supervisor::discover()?.observe_installs(Arc::new(draw)))
}

/// The lab topology for the CPUs this process may use; `cpus` (a `--cpus` list) picks the app's.
pub fn topology(cpus: Option<&str>) -> anyhow::Result<Topology> {
    let app = cpus.map(|list| parse_cpu_list(list).map_err(anyhow::Error::msg).context("--cpus")).transpose()?;
    let topology = Topology::detect(app.as_deref());
    Ok(if cpus.is_some() { topology.context("--cpus")? } else { topology? })
}
