//! An A/A calibration (`claimbench calibrate`): one stack on both sides, every cross-stack
//! evidence decided as `run` decides it, and how many verdicts came out other than
//! inconclusive. Those are false verdicts by construction, so their share is the method's
//! false-verdict rate on that machine, that day.
//!
//! Plain data: the CLI counts it, `claimbench_lab::RunDir` names and writes its files, the
//! report shows the newest one of the machine.

use serde::{Deserialize, Serialize};

use crate::run::{Environment, Outcome};

/// One A/A calibration run and what it decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The calibration's run folder name, e.g. `2026-12-01T10-00-00Z-quick-calibrate`.
    pub run_id: String,
    /// When it started, RFC 3339 UTC.
    pub date: String,
    pub machine: Machine,
    /// The one stack that ran on both sides, e.g. `express`.
    pub stack: String,
    pub profile: String,
    /// False if the calibration was interrupted: its counts cover what was measured.
    pub complete: bool,
    /// The primary (first, claim-deciding) evidences that compare the two sides.
    pub primary: Counts,
    /// Every evidence that compares the two sides, primary ones included.
    pub cross_stack: Counts,
    /// Each cross-stack evidence and its outcome, in claims-file order.
    pub evidences: Vec<EvidenceOutcome>,
}

/// The machine a calibration ran on: the same two facts decide whether it applies to a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: u32,
}

impl Machine {
    pub fn of(environment: &Environment) -> Machine {
        Machine { cpu_model: environment.cpu_model.clone(), cores: environment.cores }
    }
}

/// Outcomes of a set of evidences. Every one of them is either inconclusive (right), supported
/// or refuted (a false verdict), or neither decided nor judged (invalid, not measured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub evidences: u32,
    pub inconclusive: u32,
    pub supported: u32,
    pub refuted: u32,
    /// Invalid or not measured: no verdict either way.
    pub undecided: u32,
}

impl Counts {
    /// Tallies outcomes.
    pub fn of(outcomes: impl IntoIterator<Item = Outcome>) -> Counts {
        let mut counts = Counts::default();
        for outcome in outcomes {
            counts.evidences += 1;
            match outcome {
                Outcome::Inconclusive => counts.inconclusive += 1,
                Outcome::Supported => counts.supported += 1,
                Outcome::Refuted => counts.refuted += 1,
                Outcome::Invalid | Outcome::NotMeasured => counts.undecided += 1,
            }
        }
        counts
    }

    /// Verdicts other than inconclusive: false, since both sides ran the same code.
    pub fn false_verdicts(&self) -> u32 {
        self.supported + self.refuted
    }

    /// Evidences that were judged at all (inconclusive, supported or refuted).
    pub fn judged(&self) -> u32 {
        self.evidences - self.undecided
    }

    /// False verdicts over judged evidences; `None` when nothing was judged.
    pub fn false_verdict_rate(&self) -> Option<f64> {
        (self.judged() > 0).then(|| f64::from(self.false_verdicts()) / f64::from(self.judged()))
    }
}

/// One cross-stack evidence of the calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceOutcome {
    pub claim: String,
    pub label: String,
    pub experiment: Option<String>,
    /// The claim's first evidence, the one that decides it.
    pub primary: bool,
    pub outcome: Outcome,
    pub key_number: String,
}

impl Calibration {
    /// Whether this calibration was measured on the machine `environment` describes.
    pub fn is_of(&self, environment: &Environment) -> bool {
        self.machine == Machine::of(environment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_only_supported_or_refuted_are_false() {
        let counts = Counts::of([
            Outcome::Inconclusive,
            Outcome::Supported,
            Outcome::Refuted,
            Outcome::Invalid,
            Outcome::NotMeasured,
            Outcome::Inconclusive,
        ]);
        assert_eq!(counts.evidences, 6);
        assert_eq!(counts.inconclusive + counts.false_verdicts() + counts.undecided, counts.evidences);
        assert_eq!(counts.false_verdicts(), 2);
        assert_eq!(counts.judged(), 4);
        assert_eq!(counts.false_verdict_rate(), Some(0.5));
        assert_eq!(Counts::of([]).false_verdict_rate(), None);
    }
}
