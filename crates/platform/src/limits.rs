//! Resource limits: raising the open-file limit, since 1,000 connections need 1,000+ descriptors
//! in claimbench and in the apps (which inherit it), and 10,000 WebSocket connections twice that
//! (a socket and a pacing timer each).

use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::PlatformError;

/// Raises `RLIMIT_NOFILE` towards `cap` and returns the soft limit now: both limits to `cap`
/// where this process may raise the hard limit (root, or `CAP_SYS_RESOURCE`), otherwise the soft
/// limit to the hard one, at most `cap`. It never lowers either.
pub fn raise_open_file_limit(cap: u64) -> Result<u64, PlatformError> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(PlatformError::Rlimit)?;
    // Refused (EPERM) without the privilege, or above the kernel's fs.nr_open: then the hard
    // limit stays the ceiling.
    if hard < cap && setrlimit(Resource::RLIMIT_NOFILE, cap, cap).is_ok() {
        return Ok(cap);
    }
    let wanted = hard.min(cap).max(soft);
    if wanted > soft {
        setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).map_err(PlatformError::Rlimit)?;
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_never_goes_down() {
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert!(raise_open_file_limit(0).unwrap() >= soft);
        assert!(raise_open_file_limit(65_536).unwrap() >= soft);
    }
}
