//! Where things are: the repository root, the stack registry (`fixtures/stacks.toml`), and the
//! [`Supervisor`] that ties them to the installer and the process code.

use std::path::{Path, PathBuf};

use claimbench_model::stack::{Registry, StackSpec};

use crate::error::SupervisorError;
use crate::install::Installer;
use crate::process::RunningStack;
use crate::versions::Toolchain;
use crate::StackConfig;

/// The registry file, relative to the repository root.
pub const REGISTRY_PATH: &str = "fixtures/stacks.toml";

/// Finds the repository root: `CLAIMBENCH_ROOT`, else the nearest ancestor of the current
/// directory holding the registry, else the checkout this crate was built from.
pub fn find_root() -> Result<PathBuf, SupervisorError> {
    if let Some(root) = std::env::var_os("CLAIMBENCH_ROOT") {
        let root = PathBuf::from(root);
        return if root.join(REGISTRY_PATH).is_file() { Ok(root) } else { Err(SupervisorError::NoRoot) };
    }
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(found) = cwd.ancestors().find(|dir| dir.join(REGISTRY_PATH).is_file()) {
            return Ok(found.to_path_buf());
        }
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if built_from.join(REGISTRY_PATH).is_file() {
        return built_from.canonicalize().map_err(|_| SupervisorError::NoRoot);
    }
    Err(SupervisorError::NoRoot)
}

/// The registry name behind a role alias: `express@a` and `express@b` are two instances of
/// `express` (an A/A calibration runs one as node and one as python); a plain name is itself.
pub fn base_stack(name: &str) -> &str {
    name.split_once('@').map_or(name, |(base, _)| base)
}

/// Knows the repository and its stacks; starts them.
#[derive(Debug, Clone)]
pub struct Supervisor {
    root: PathBuf,
    registry: Registry,
    installer: Installer,
}

impl Supervisor {
    /// Reads the registry under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Result<Supervisor, SupervisorError> {
        let root = root.into();
        let path = root.join(REGISTRY_PATH);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| SupervisorError::Registry { path: path.clone(), message: e.to_string() })?;
        let registry: Registry = toml::from_str(&text)
            .map_err(|e| SupervisorError::Registry { path: path.clone(), message: e.to_string() })?;
        if let Some(message) = registry.stacks.iter().find_map(StackSpec::entry_problem) {
            return Err(SupervisorError::Registry { path, message });
        }
        let installer = Installer::new(root.clone());
        Ok(Supervisor { root, registry, installer })
    }

    /// [`Supervisor::new`] at [`find_root`].
    pub fn discover() -> Result<Supervisor, SupervisorError> {
        Supervisor::new(find_root()?)
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The stack registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The same supervisor, telling `observer` about first-use installs.
    pub fn observe_installs(self, observer: crate::install::InstallObserver) -> Supervisor {
        Supervisor { installer: self.installer.observed(observer), ..self }
    }

    /// The installer for the apps' dependencies.
    pub fn installer(&self) -> &Installer {
        &self.installer
    }

    /// Looks a stack up, with an error listing the known ones. A role alias such as
    /// `express@a` names another instance of `express` (see [`base_stack`]).
    pub fn spec(&self, name: &str) -> Result<&StackSpec, SupervisorError> {
        self.registry.get(base_stack(name)).ok_or_else(|| SupervisorError::UnknownStack {
            name: name.to_string(),
            known: self.registry.names().join(", "),
            registry: self.root.join(REGISTRY_PATH),
        })
    }

    /// Installs what the stack needs (first use only), spawns it, and waits until it is ready.
    pub fn start(&self, config: &StackConfig) -> Result<RunningStack, SupervisorError> {
        let spec = self.spec(&config.stack)?.clone();
        let toolchain = self.installer.ensure_for(&spec, &config.stack)?;
        self.start_prepared(&spec, &toolchain, config)
    }

    /// Starts a stack whose dependencies are already in place, from an explicit spec: the seam
    /// tests use to run small fake apps that are not in the registry.
    pub fn start_prepared(
        &self,
        spec: &StackSpec,
        toolchain: &Toolchain,
        config: &StackConfig,
    ) -> Result<RunningStack, SupervisorError> {
        RunningStack::spawn(&self.root, spec, toolchain, config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supervisor() -> Supervisor {
        Supervisor::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap()
    }

    #[test]
    fn a_registry_stack_without_both_entries_or_an_entry_placeholder_is_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("fixtures")).unwrap();
        let stack = |fields: &str| {
            format!("[[stack]]\nname = \"s\"\nruntime = \"node\"\nframework = \"none\"\ndir = \"node-app\"\n{fields}")
        };
        for (fields, wanted) in [
            ("entry = \"a.js\"\nargv = [\"{node}\", \"{entry}\"]\n", "needs both `entry` and `minimal_entry`"),
            ("entry = \"a.js\"\nminimal_entry = \"b.js\"\nargv = [\"{node}\", \"a.js\"]\n", "has no `{entry}`"),
        ] {
            std::fs::write(root.path().join(REGISTRY_PATH), stack(fields)).unwrap();
            let error = Supervisor::new(root.path()).unwrap_err().to_string();
            assert!(error.contains(wanted) && error.contains("stacks.toml"), "{error}");
        }
        std::fs::write(
            root.path().join(REGISTRY_PATH),
            stack("entry = \"a.js\"\nminimal_entry = \"b.js\"\nargv = [\"{node}\", \"{entry}\"]\n"),
        )
        .unwrap();
        assert!(Supervisor::new(root.path()).is_ok());
    }

    #[test]
    fn a_role_alias_looks_up_its_base_stack() {
        assert_eq!(base_stack("express@a"), "express");
        assert_eq!(base_stack("express"), "express");
        let supervisor = supervisor();
        assert_eq!(supervisor.spec("express@b").unwrap().name, "express");
        assert_eq!(supervisor.spec("fastapi@a").unwrap().name, "fastapi");
    }

    #[test]
    fn an_alias_of_an_unknown_stack_is_refused_by_its_full_name() {
        let err = supervisor().spec("nosuch@a").unwrap_err();
        assert!(matches!(&err, SupervisorError::UnknownStack { name, .. } if name == "nosuch@a"), "{err:?}");
    }
}
