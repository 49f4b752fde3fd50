//! `Installer::ensure_all` installs two app folders at the same time. The fake `npm` of each
//! folder waits until the other folder's has started too, so installs run one after the other
//! fail it; a folder's own stamp then makes a second call install nothing. Its own test binary,
//! since it sets `CLAIMBENCH_NPM` for the whole process.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use claimbench_model::stack::{Runtime, StackSpec};
use claimbench_supervisor::Installer;

/// Marks this folder started, then waits (at most 20 s, for a machine twice as slow) until every
/// sibling folder has started as well; counts its runs in `runs`.
const FAKE_NPM: &str = r#"#!/bin/sh
echo run >> runs
touch started
i=0
while [ "$(ls ../*/started | wc -l)" -lt 2 ]; do
  i=$((i + 1))
  [ "$i" -gt 800 ] && { echo "the other folder's install never started" >&2; exit 1; }
  sleep 0.025
done
"#;

fn node_spec(dir: &str) -> StackSpec {
    StackSpec {
        name: dir.to_string(),
        runtime: Runtime::Node,
        framework: dir.to_string(),
        dir: dir.to_string(),
        argv: vec!["{node}".into(), "server.js".into()],
        groups: vec!["http".into()],
    }
}

fn runs(app: &Path) -> usize {
    std::fs::read_to_string(app.join("runs")).unwrap_or_default().lines().count()
}

#[test]
fn two_app_folders_install_side_by_side_and_once() {
    let root = tempfile::tempdir().unwrap();
    let npm = root.path().join("fake-npm");
    std::fs::write(&npm, FAKE_NPM).unwrap();
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::env::set_var("CLAIMBENCH_NPM", &npm);
    for dir in ["a", "b"] {
        let app = root.path().join(dir);
        std::fs::create_dir_all(app.join("node_modules")).unwrap();
        std::fs::write(app.join("package-lock.json"), format!("{{\"name\": \"{dir}\"}}")).unwrap();
    }
    let (a, b) = (node_spec("a"), node_spec("b"));
    let installer = Installer::new(root.path().to_path_buf());
    installer.ensure_all(&[(&a, "a"), (&b, "b")]).expect("both folders install, side by side");
    assert_eq!((runs(&root.path().join("a")), runs(&root.path().join("b"))), (1, 1));

    installer.ensure_all(&[(&a, "a"), (&b, "b")]).expect("already installed");
    assert_eq!((runs(&root.path().join("a")), runs(&root.path().join("b"))), (1, 1), "a stamp stops a second install");
}
