//! Finding the node and python runtimes, checking their versions, and listing the exact versions
//! of everything installed, so that every result records what produced it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use claimbench_model::stack::{Runtime, StackSpec, Versions};

use crate::error::SupervisorError;

/// An interpreter that passed the version check.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The program to run (`node`, or the app's venv python).
    pub interpreter: PathBuf,
    /// Its version, e.g. `20.20.2`.
    pub version: String,
}

const NODE_MIN: (u32, u32) = (20, 0);
const PYTHON_MIN: (u32, u32) = (3, 10);

/// The variables that name a second interpreter for the `b` instance of a stack (`express@b`),
/// so one run can put two interpreter versions side by side (`claimbench calibrate --node-b`).
pub const NODE_B_ENV: &str = "CLAIMBENCH_NODE_B";
pub const PYTHON_B_ENV: &str = "CLAIMBENCH_PYTHON_B";

/// The interpreter variable that applies to `stack` (a registry name or a role alias), if set:
/// `CLAIMBENCH_NODE_B` for a `…@b` instance when it is set, else `CLAIMBENCH_NODE`.
fn chosen(stack: &str, env_var: &'static str, b_var: &'static str) -> Option<PathBuf> {
    let b = stack.ends_with("@b").then(|| std::env::var_os(b_var)).flatten();
    b.or_else(|| std::env::var_os(env_var)).map(PathBuf::from)
}

/// Finds node (`CLAIMBENCH_NODE` or `node` on PATH) and checks it is >= 20.
pub fn node() -> Result<Toolchain, SupervisorError> {
    node_for("")
}

/// [`node`] for one stack instance, whose `@b` role may have an interpreter of its own.
pub fn node_for(stack: &str) -> Result<Toolchain, SupervisorError> {
    let program = chosen(stack, "CLAIMBENCH_NODE", NODE_B_ENV).unwrap_or_else(|| "node".into());
    let version = probe(&program, &["--version"], "node", "20", "CLAIMBENCH_NODE")?;
    check("node", &version, NODE_MIN, "20", "CLAIMBENCH_NODE")?;
    Ok(Toolchain { interpreter: program, version: version.trim_start_matches('v').to_string() })
}

/// Finds python (`CLAIMBENCH_PYTHON` or `python3` on PATH) and checks it is >= 3.10.
pub fn python() -> Result<Toolchain, SupervisorError> {
    python_for("")
}

/// [`python`] for one stack instance, whose `@b` role may have an interpreter of its own.
pub fn python_for(stack: &str) -> Result<Toolchain, SupervisorError> {
    let program = chosen(stack, "CLAIMBENCH_PYTHON", PYTHON_B_ENV).unwrap_or_else(|| "python3".into());
    let version = probe(
        &program,
        &["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        "python",
        "3.10",
        "CLAIMBENCH_PYTHON",
    )?;
    check("python", &version, PYTHON_MIN, "3.10", "CLAIMBENCH_PYTHON")?;
    Ok(Toolchain { interpreter: program, version })
}

/// Whether `stack` runs on an interpreter chosen by variable rather than the one on PATH.
pub fn interpreter_chosen(stack: &str, runtime: Runtime) -> bool {
    match runtime {
        Runtime::Node => chosen(stack, "CLAIMBENCH_NODE", NODE_B_ENV).is_some(),
        Runtime::Python => chosen(stack, "CLAIMBENCH_PYTHON", PYTHON_B_ENV).is_some(),
    }
}

/// The runtime's version, or an error saying how to get it.
pub fn runtime_version(runtime: Runtime) -> Result<String, SupervisorError> {
    match runtime {
        Runtime::Node => node().map(|t| t.version),
        Runtime::Python => python().map(|t| t.version),
    }
}

fn probe(
    program: &Path,
    args: &[&str],
    runtime: &'static str,
    need: &'static str,
    env_var: &'static str,
) -> Result<String, SupervisorError> {
    let missing = || SupervisorError::RuntimeMissing { runtime, tried: program.display().to_string(), need, env_var };
    let output = Command::new(program).args(args).output().map_err(|_| missing())?;
    if !output.status.success() {
        return Err(missing());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn check(
    runtime: &'static str,
    version: &str,
    min: (u32, u32),
    need: &'static str,
    env_var: &'static str,
) -> Result<(), SupervisorError> {
    let mut parts = version.trim_start_matches('v').split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found < min {
        return Err(SupervisorError::RuntimeTooOld { runtime, found: version.to_string(), need, env_var });
    }
    Ok(())
}

/// The runtime version and every installed package of an installed stack.
pub fn versions(root: &Path, spec: &StackSpec, toolchain: &Toolchain) -> Versions {
    let mut runtime = BTreeMap::new();
    runtime.insert(spec.runtime.name().to_string(), toolchain.version.clone());
    let app = root.join(&spec.dir);
    let packages = match spec.runtime {
        Runtime::Node => node_packages(&app.join("package-lock.json")),
        Runtime::Python => python_packages(&toolchain.interpreter),
    };
    Versions { runtime, packages }
}

/// Top-level and transitive packages from package-lock.json's `packages` map.
fn node_packages(lock: &Path) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(lock) else { return BTreeMap::new() };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { return BTreeMap::new() };
    let Some(packages) = json.get("packages").and_then(|p| p.as_object()) else { return BTreeMap::new() };
    packages
        .iter()
        .filter_map(|(path, info)| {
            let name = path.rsplit_once("node_modules/")?.1;
            let version = info.get("version")?.as_str()?;
            Some((name.to_string(), version.to_string()))
        })
        .collect()
}

/// Every distribution installed in the venv, via importlib.metadata.
fn python_packages(python: &Path) -> BTreeMap<String, String> {
    let script = "import importlib.metadata as m, json\n\
                  print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))";
    let Ok(output) = Command::new(python).args(["-c", script]).output() else { return BTreeMap::new() };
    serde_json::from_slice(&output.stdout).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_check_rejects_old_runtimes_and_names_the_fix() {
        let err = check("node", "v18.19.0", NODE_MIN, "20", "CLAIMBENCH_NODE").unwrap_err().to_string();
        assert!(err.contains("node v18.19.0 found"), "{err}");
        assert!(err.contains("CLAIMBENCH_NODE"), "{err}");
        assert!(check("node", "v20.0.1", NODE_MIN, "20", "CLAIMBENCH_NODE").is_ok());
        assert!(check("python", "3.9.18", PYTHON_MIN, "3.10", "CLAIMBENCH_PYTHON").is_err());
        assert!(check("python", "3.12.1", PYTHON_MIN, "3.10", "CLAIMBENCH_PYTHON").is_ok());
    }

    #[test]
    fn a_missing_runtime_is_a_clear_error() {
        let err = probe(Path::new("/nonexistent/node"), &["--version"], "node", "20", "CLAIMBENCH_NODE").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("node was not found"), "{text}");
        assert!(text.contains("CLAIMBENCH_NODE"), "{text}");
    }
}
