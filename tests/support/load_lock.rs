//! The one lock that every test applying load, or measuring time, takes first, so that no two of
//! them share the machine: not two threads of one test binary, and not two test binaries (or two
//! `cargo test` runs) building into the same target folder.
//!
//! It is an advisory `flock` on a file beside the test binaries (`target/<profile>/`). `flock`
//! belongs to the open file, not to the process, so two threads that each open the file exclude
//! each other just as two processes do, and the kernel releases it when the holder exits, even
//! after a panic or a kill. The lock says nothing about load from outside the target folder
//! (another checkout's tests) unless `CLAIMBENCH_LOAD_LOCK` names one lock file for all of them;
//! the timing bounds leave room for the rest.
//!
//! Included with `#[path]` by each crate's tests, so the workspace needs no test-support crate.

#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

/// Held while a test applies load; dropping it lets the next one start.
#[must_use = "the lock is released when this is dropped"]
pub struct LoadLock {
    _file: File,
}

/// Blocks until no other test in this target folder holds the lock, then holds it.
pub fn load_lock() -> LoadLock {
    let path = lock_path();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open the load-test lock {}: {e}", path.display()));
    loop {
        // `File::lock` is `flock(LOCK_EX)` on Linux.
        match file.lock() {
            Ok(()) => return LoadLock { _file: file },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("cannot take the load-test lock {}: {e}", path.display()),
        }
    }
}

/// `CLAIMBENCH_LOAD_LOCK` if set (one lock shared by several checkouts), else
/// `target/<profile>/claimbench-load-tests.lock`: test binaries run from `target/<profile>/deps/`.
fn lock_path() -> PathBuf {
    if let Some(shared) = std::env::var_os("CLAIMBENCH_LOAD_LOCK") {
        return PathBuf::from(shared);
    }
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    let deps = exe.parent().expect("a test binary lives in a folder");
    deps.parent().unwrap_or(deps).join("claimbench-load-tests.lock")
}
