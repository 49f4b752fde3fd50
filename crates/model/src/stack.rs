//! The stack registry (`fixtures/stacks.toml`) and what a started stack reports about itself.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which runtime a stack runs on; decides the installer and the interpreter placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Node,
    Python,
}

impl Runtime {
    /// The lowercase name used in files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Python => "python",
        }
    }
}

/// One registry entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StackSpec {
    pub name: String,
    pub runtime: Runtime,
    pub framework: String,
    /// App folder, relative to the repository root; also the working directory.
    pub dir: String,
    /// Command line with `{node}`, `{python}`, `{entry}`, `{host}`, `{port}`, `{workers}`
    /// placeholders.
    pub argv: Vec<String>,
    /// What `{entry}` stands for: the app's module or script, with every endpoint it serves.
    #[serde(default)]
    pub entry: String,
    /// `{entry}` for E-coldstart's serverless case: the framework and its `/health` route alone,
    /// importing none of the contract's endpoint logic. Every registry stack has one.
    #[serde(default)]
    pub minimal_entry: String,
    /// The contract's endpoint groups the stack implements (see `contract::Endpoint::group`);
    /// `verify` checks exactly these, and an experiment needing another is "not implemented by
    /// this stack". Absent means `["http"]`.
    #[serde(default = "default_groups")]
    pub groups: Vec<String>,
}

fn default_groups() -> Vec<String> {
    vec![crate::contract::HTTP_GROUP.to_string()]
}

impl StackSpec {
    /// True when the stack implements the endpoint group `group`.
    pub fn implements(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// What is wrong with the entry fields, if anything: a registry stack names both entries
    /// and runs one of them through `{entry}`.
    pub fn entry_problem(&self) -> Option<String> {
        if self.entry.is_empty() || self.minimal_entry.is_empty() {
            Some(format!("stack {} needs both `entry` and `minimal_entry`", self.name))
        } else if !self.argv.iter().any(|arg| arg.contains("{entry}")) {
            Some(format!("stack {}'s argv has no `{{entry}}` for its entry to go in", self.name))
        } else {
            None
        }
    }
}

/// The registry file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Registry {
    #[serde(rename = "stack")]
    pub stacks: Vec<StackSpec>,
}

impl Registry {
    /// Looks a stack up by name.
    pub fn get(&self, name: &str) -> Option<&StackSpec> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// All stack names, in registry order.
    pub fn names(&self) -> Vec<&str> {
        self.stacks.iter().map(|s| s.name.as_str()).collect()
    }
}

/// Runtime and package versions of one app, recorded with every result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Versions {
    /// e.g. `node` -> `v20.20.2`, `python` -> `3.11.7`.
    pub runtime: BTreeMap<String, String>,
    /// Every installed package and its exact version.
    pub packages: BTreeMap<String, String>,
}

/// The CPU pinning a process actually got, read back from the kernel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pinning {
    /// The CPU list that was asked for (e.g. `1` or `0-1`), if any.
    pub requested: Option<String>,
    /// `Cpus_allowed_list` of the process as the kernel reports it.
    pub actual: String,
}

/// One sample of a process tree's resource use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceSample {
    /// Seconds since the stack was spawned.
    pub t_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    pub rss_bytes: u64,
    pub processes: u32,
}
