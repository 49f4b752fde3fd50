//! `claimbench doctor`: what this machine has and lacks for a fair run, gathered without
//! starting any app. Formatting is the CLI's job.

use claimbench_model::stack::Runtime;

use claimbench_platform::pinning_works;

use crate::registry::Supervisor;
use crate::versions;

/// One line of the doctor's findings.
#[derive(Debug, Clone)]
pub struct Finding {
    pub what: String,
    pub value: String,
    /// `None` when fine; otherwise the problem and its fix.
    pub problem: Option<String>,
}

/// Checks runtimes, installs, the CPU and pinning.
pub fn examine(supervisor: &Supervisor) -> Vec<Finding> {
    let mut findings = Vec::new();
    for runtime in [Runtime::Node, Runtime::Python] {
        let finding = match versions::runtime_version(runtime) {
            Ok(v) => Finding { what: runtime.name().into(), value: v, problem: None },
            Err(e) => Finding { what: runtime.name().into(), value: "missing".into(), problem: Some(e.to_string()) },
        };
        findings.push(finding);
    }
    for spec in &supervisor.registry().stacks {
        let app = supervisor.root().join(&spec.dir);
        let (installed, how) = match spec.runtime {
            Runtime::Node => (app.join("node_modules").is_dir(), "npm ci"),
            Runtime::Python => (app.join(".venv/bin/python").is_file(), "python3 -m venv .venv + pip install"),
        };
        let value = if installed { "installed".to_string() } else { "not installed".to_string() };
        let problem = (!installed).then(|| format!("{} will be installed on first use ({how})", spec.dir));
        let entry = Finding { what: format!("stack {} ({})", spec.name, spec.dir), value, problem };
        if !findings.iter().any(|f| f.what == entry.what) {
            findings.push(entry);
        }
        if installed {
            if let Ok(toolchain) = match spec.runtime {
                Runtime::Node => versions::node(),
                Runtime::Python => Ok(versions::Toolchain {
                    interpreter: app.join(".venv/bin/python"),
                    version: versions::runtime_version(Runtime::Python).unwrap_or_default(),
                }),
            } {
                let v = versions::versions(supervisor.root(), spec, &toolchain);
                let list: Vec<String> = v.packages.iter().map(|(k, v)| format!("{k} {v}")).collect();
                findings.push(Finding {
                    what: format!("  {} packages", spec.name),
                    value: list.join(", "),
                    problem: None,
                });
            }
        }
    }
    findings.push(Finding { what: "cpu".into(), value: cpu_model(), problem: None });
    // The CPUs this process may use, which is what the lab splits (not every CPU online).
    let cores = claimbench_platform::allowed_cpus().map_or(1, |cpus| cpus.len().max(1));
    findings.push(Finding {
        what: "cores".into(),
        value: cores.to_string(),
        problem: (cores < 2)
            .then(|| "one core: the app and the load generator will share it, and results are flagged".into()),
    });
    let pin = pinning_works();
    findings.push(Finding {
        what: "cpu pinning".into(),
        value: if pin { "works".into() } else { "not permitted".into() },
        problem: (!pin)
            .then(|| "sched_setaffinity is refused here: apps and the generator will float across cores".into()),
    });
    findings
}

/// The CPU model from /proc/cpuinfo.
pub fn cpu_model() -> String {
    claimbench_platform::procfs::cpu_model().unwrap_or_else(|| "unknown".into())
}
