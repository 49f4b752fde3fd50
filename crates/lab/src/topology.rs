//! Which CPUs each part of the lab gets, chosen from the CPUs this process may use (its affinity
//! mask, so `taskset -c 2,3 claimbench run` never hands out CPU 0 or 1).
//!
//! The app side is the last half of the allowed CPUs (at least one): a one-worker app runs on its
//! last CPU, a multi-worker app on the whole side. The load generator and the upstream share the
//! others, so no app ever runs on the generator's CPUs; on a single CPU everything shares it. An
//! experiment that needs more CPUs on a side than the machine gives it is not measurable here
//! ([`Topology::fits`]). The database gets a CPU of its own, the generator side's last, when that
//! side has two or more (the engine pins itself to the side's first). Otherwise it shares the
//! one-worker app's CPU, never the generator's: the server under test is then the app and its
//! database together on one core, which both stacks get alike, while a database on the
//! generator's core would starve the generator as the app got faster and so decide the result.
//! The results say so ([`Topology::database_note`]). Pinning the processes is the supervisor's
//! and the engine's job.

use claimbench_platform::{allowed_cpus, cpu_list, PlatformError};

/// The CPUs of each part of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Every CPU this process may use, ascending.
    pub allowed: Vec<usize>,
    /// The app under test with one worker: the last CPU of the app side.
    pub app: Vec<usize>,
    /// Every CPU of the app side, for an app with several workers.
    pub app_side: Vec<usize>,
    /// The load generator's threads.
    pub generator: Vec<usize>,
    /// The upstream service.
    pub upstream: Vec<usize>,
    /// The database server: its own CPU where the generator side can spare one.
    pub database: Vec<usize>,
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
        if allowed.is_empty() {
            return Err(TopologyError::NoCpus);
        }
        let (app, app_side) = match app {
            Some(asked) => {
                if let Some(&cpu) = asked.iter().find(|c| !allowed.contains(c)) {
                    return Err(TopologyError::NotAllowed { asked: cpu_list(asked), cpu, allowed: cpu_list(&allowed) });
                }
                (asked.to_vec(), asked.to_vec())
            }
            None => {
                let side = allowed[allowed.len() - (allowed.len() / 2).max(1)..].to_vec();
                (side[side.len() - 1..].to_vec(), side)
            }
        };
        let mut generator: Vec<usize> = allowed.iter().copied().filter(|c| !app_side.contains(c)).collect();
        if generator.is_empty() {
            generator = app.clone();
        }
        let database = if generator.len() >= 2 { generator.split_off(generator.len() - 1) } else { app.clone() };
        Ok(Topology { upstream: generator.clone(), generator, app, app_side, allowed, database })
    }

    /// Whether an experiment needing `app` CPUs for the app and `generator` CPUs for the load
    /// generator and the upstream, none of them shared, fits here; if not, why, worded for the
    /// report: "not measurable on this machine: …".
    pub fn fits(&self, app: usize, generator: usize) -> Result<(), String> {
        // The database's own CPU came from the generator side and goes back to it here.
        let own_database = usize::from(!self.database_shared());
        let (has_app, has_generator) =
            if self.shared() { (0, 0) } else { (self.app_side.len(), self.generator.len() + own_database) };
        if has_app >= app && has_generator >= generator {
            return Ok(());
        }
        Err(format!(
            "not measurable on this machine: needs {} CPUs ({app} for the app, {generator} for the load generator \
             and the upstream, none shared), has {} (app side CPUs {}, generator side CPUs {}); run it on a machine with at \
             least {} CPUs",
            app + generator,
            self.allowed.len(),
            cpu_list(&self.app_side),
            cpu_list(&self.generator),
            2 * app.max(generator)
        ))
    }

    /// The app's CPUs in the kernel's list form, e.g. `3`.
    pub fn app_list(&self) -> String {
        cpu_list(&self.app)
    }

    /// The generator's CPUs in the kernel's list form, e.g. `0-2`.
    pub fn generator_list(&self) -> String {
        cpu_list(&self.generator)
    }

    /// True when the database has no CPU of its own (it shares the app's, or everyone's).
    pub fn database_shared(&self) -> bool {
        self.database.iter().any(|c| self.generator.contains(c) || self.app_side.contains(c))
    }

    /// True when the database runs on the one-worker app's CPUs, so the app's CPU check counts
    /// the database's CPU as the server's own rather than as another process's.
    pub fn database_on_app(&self) -> bool {
        self.database.iter().any(|c| self.app.contains(c))
    }

    /// For the results, when the database shares its CPUs: with whom, and why.
    pub fn database_note(&self) -> Option<String> {
        if self.shared() {
            return Some(format!(
                "the database shares CPU(s) {} with the app, the load generator and the upstream: this process may use one CPU",
                cpu_list(&self.database)
            ));
        }
        self.database_on_app().then(|| {
            format!(
                "the database shares CPU(s) {} with the app under test: the generator side has no CPU to spare, so the \
                 server measured is the app and its database together on one core (alike for every stack), and the \
                 generator keeps its own",
                cpu_list(&self.database)
            )
        })
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
        assert_eq!(t.database, [3], "no spare CPU: the database shares the app's, never the generator's");
        assert!(t.database_shared() && t.database_on_app());
        assert!(t.database_note().unwrap().contains("shares CPU(s) 3 with the app under test"));
        assert_eq!(t.upstream, [2]);
        assert_eq!(t.allowed, [2, 3]);
        for cpu in [0, 1] {
            assert!(!t.app.contains(&cpu) && !t.generator.contains(&cpu) && !t.upstream.contains(&cpu));
        }
    }

    #[test]
    fn the_app_gets_the_last_allowed_cpu_and_the_first_half_goes_to_the_generator() {
        let t = Topology::split(&[0, 1, 4, 5], None).unwrap();
        assert_eq!((t.app_list(), t.generator_list()), ("5".to_string(), "0".to_string()));
        assert_eq!(t.app_side, [4, 5]);
        assert_eq!(t.database, [1], "the database takes the generator side's spare CPU");
        assert!(!t.shared() && !t.database_shared() && !t.database_on_app() && t.database_note().is_none());
        assert!(t.fits(2, 2).is_ok(), "the database's CPU still counts as generator side for fitting");
    }

    #[test]
    fn the_app_side_is_the_last_half_and_never_overlaps_the_generator() {
        let t = Topology::split(&(0..16).collect::<Vec<_>>(), None).unwrap();
        assert_eq!(
            (cpu_list(&t.app_side), t.app_list(), t.generator_list()),
            ("8-15".into(), "15".into(), "0-6".into())
        );
        assert_eq!(t.database, [7]);
        assert!(t.fits(8, 8).is_ok());
        let t = Topology::split(&[0, 1, 2], None).unwrap();
        assert_eq!((t.app_side.clone(), t.generator.clone(), t.database.clone()), (vec![2], vec![0], vec![1]));
    }

    #[test]
    fn an_experiment_needing_more_cpus_than_the_machine_has_does_not_fit() {
        let two = Topology::split(&[0, 1], None).unwrap();
        assert!(two.fits(1, 1).is_ok());
        let why = two.fits(2, 1).unwrap_err();
        assert!(why.starts_with("not measurable on this machine: needs 3 CPUs (2 for the app"), "{why}");
        assert!(why.contains("has 2 (app side CPUs 1, generator side CPUs 0)"), "{why}");
        let one = Topology::split(&[5], None).unwrap();
        assert!(one.fits(1, 1).is_err(), "one shared CPU gives neither side a CPU of its own");
    }

    #[test]
    fn e_workers_plans_one_two_four_workers_up_to_the_app_side_and_does_not_fit_on_two_cpus() {
        use claimbench_suite::experiments::catalogue_for;
        use claimbench_suite::{Profile, ProfileName};
        let plan = |cpus: usize| {
            let t = Topology::split(&(0..cpus).collect::<Vec<_>>(), None).unwrap();
            let all = catalogue_for(&Profile::of(ProfileName::Standard), t.app_side.len() as u32);
            let workers = all.into_iter().find(|e| e.id == "E-workers").unwrap();
            let mut counts: Vec<u32> = workers.units.iter().map(|u| u.workers).collect();
            counts.dedup();
            counts.sort_unstable();
            counts.dedup();
            (t.fits(workers.needs.app_cpus as usize, workers.needs.generator_cpus as usize), counts)
        };
        for (cpus, expected) in [(4, vec![1, 2]), (8, vec![1, 2, 4]), (16, vec![1, 2, 4, 8])] {
            let (fits, counts) = plan(cpus);
            assert!(fits.is_ok(), "{cpus} CPUs: {fits:?}");
            assert_eq!(counts, expected, "{cpus} CPUs: W = {counts:?}");
        }
        let (fits, _) = plan(2);
        assert!(fits.unwrap_err().starts_with("not measurable on this machine: needs 3 CPUs"));
    }

    #[test]
    fn a_single_cpu_is_shared_by_everyone() {
        let t = Topology::split(&[7], None).unwrap();
        assert_eq!((t.app.as_slice(), t.generator.as_slice(), t.upstream.as_slice()), (&[7][..], &[7][..], &[7][..]));
        assert!(t.shared());
        assert!(t.database_note().unwrap().contains("may use one CPU"));
    }

    #[test]
    fn asked_app_cpus_must_be_allowed() {
        let t = Topology::split(&[2, 3, 4], Some(&[2])).unwrap();
        assert_eq!((t.app, t.generator, t.database), (vec![2], vec![3], vec![4]));
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
