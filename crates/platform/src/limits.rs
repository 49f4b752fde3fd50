//! Resource limits: raising the soft open-file limit towards the hard one, since 1,000
//! connections need 1,000+ descriptors in claimbench and in the apps (which inherit it).

use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::PlatformError;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, at most `cap`; returns the soft limit now.
pub fn raise_open_file_limit(cap: u64) -> Result<u64, PlatformError> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(PlatformError::Rlimit)?;
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
