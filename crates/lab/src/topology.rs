//! Which CPUs each part of the lab gets, chosen from the CPUs this process may use (its affinity
//! mask, so `taskset -c 2,3 claimbench run` never hands out CPU 0 or 1).
//!
//! The app gets the last allowed CPU, the load generator and the upstream share the others; on a
//! single CPU everything shares it. A database, when one joins the lab, gets its CPUs here too.
//! Pinning the processes is the supervisor's and the engine's job.

use claimbench_platform::{allowed_cpus, cpu_list, PlatformError};

/// The CPUs of each part of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Every CPU this process may use, ascending (what a "wide" app instance gets).
    pub allowed: Vec<usize>,
    /// The app under test.
    pub app: Vec<usize>,
    /// The load generator's threads.
    pub generator: Vec<usize>,
    /// The upstream service.
    pub upstream: Vec<usize>,
}

/// Why no topology could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("cannot tell which CPUs claimbench may use: {0}")]
    Affinity(#[from] PlatformError),
    #[error("this process may use no CPU at all: check its affinity with `taskset -p $$`")]
    NoCpus,
    #[error("the app CPUs {asked} include CPU {cpu}, which this process may not use (it may use {allowed}): pick CPUs from that list")]
    NotAllowed { asked: String, cpu: usize, allowed: String },
}

impl Topology {
    /// The split for the CPUs this process may use now; `app` overrides the app's CPUs.
    pub fn detect(app: Option<&[usize]>) -> Result<Topology, TopologyError> {
        Topology::split(&allowed_cpus()?, app)
    }

    /// The split of `allowed` (in any order); `app`, when given, must be a subset of it.
    pub fn split(allowed: &[usize], app: Option<&[usize]>) -> Result<Topology, TopologyError> {
        let mut allowed = allowed.to_vec();
        allowed.sort_unstable();
        allowed.dedup();
        let last = *allowed.last().ok_or(TopologyError::NoCpus)?;
        let app = match app {
            Some(asked) => {
                if let Some(&cpu) = asked.iter().find(|c| !allowed.contains(c)) {
                    return Err(TopologyError::NotAllowed { asked: cpu_list(asked), cpu, allowed: cpu_list(&allowed) });
                }
                asked.to_vec()
            }
            None => vec![last],
        };
        let mut generator: Vec<usize> = allowed.iter().copied().filter(|c| !app.contains(c)).collect();
        if generator.is_empty() {
            generator = app.clone();
        }
        Ok(Topology { upstream: generator.clone(), generator, app, allowed })
    }

    /// The app's CPUs in the kernel's list form, e.g. `3`.
    pub fn app_list(&self) -> String {
        cpu_list(&self.app)
    }

    /// The generator's CPUs in the kernel's list form, e.g. `0-2`.
    pub fn generator_list(&self) -> String {
        cpu_list(&self.generator)
    }

    /// True when the app shares its CPUs with the generator (a single-CPU machine or mask).
    pub fn shared(&self) -> bool {
        self.app.iter().any(|c| self.generator.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_taskset_2_3_cpus_0_and_1_are_never_picked() {
        let t = Topology::split(&[3, 2], None).unwrap();
        assert_eq!(t.app, [3]);
        assert_eq!(t.generator, [2]);
        assert_eq!(t.upstream, [2]);
        assert_eq!(t.allowed, [2, 3]);
        for cpu in [0, 1] {
            assert!(!t.app.contains(&cpu) && !t.generator.contains(&cpu) && !t.upstream.contains(&cpu));
        }
    }

    #[test]
    fn the_app_gets_the_last_allowed_cpu_and_the_rest_go_to_the_generator() {
        let t = Topology::split(&[0, 1, 4, 5], None).unwrap();
        assert_eq!((t.app_list(), t.generator_list()), ("5".to_string(), "0-1,4".to_string()));
        assert!(!t.shared());
    }

    #[test]
    fn a_single_cpu_is_shared_by_everyone() {
        let t = Topology::split(&[7], None).unwrap();
        assert_eq!((t.app.as_slice(), t.generator.as_slice(), t.upstream.as_slice()), (&[7][..], &[7][..], &[7][..]));
        assert!(t.shared());
    }

    #[test]
    fn asked_app_cpus_must_be_allowed() {
        let t = Topology::split(&[2, 3, 4], Some(&[2])).unwrap();
        assert_eq!((t.app, t.generator), (vec![2], vec![3, 4]));
        let err = Topology::split(&[2, 3], Some(&[0])).unwrap_err();
        assert!(err.to_string().contains("CPU 0, which this process may not use (it may use 2-3)"), "{err}");
        assert!(matches!(Topology::split(&[], None), Err(TopologyError::NoCpus)));
    }

    #[test]
    fn detection_stays_inside_this_process_affinity() {
        let allowed = allowed_cpus().unwrap();
        let t = Topology::detect(None).unwrap();
        assert!(t.app.iter().chain(&t.generator).all(|c| allowed.contains(c)));
    }
}
