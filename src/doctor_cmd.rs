//! `claimbench doctor`: prints what the supervisor found about this machine.

use std::process::ExitCode;

use claimbench_supervisor::doctor;

use crate::lab;

pub fn run() -> anyhow::Result<ExitCode> {
    let supervisor = lab::supervisor()?;
    let findings = doctor::examine(&supervisor);
    let width = findings.iter().map(|f| f.what.len()).max().unwrap_or(8);
    for f in &findings {
        println!("{:width$}  {}", f.what, f.value);
        if let Some(problem) = &f.problem {
            println!("{:width$}  ! {problem}", "");
        }
    }
    println!("root {}", supervisor.root().display());
    Ok(ExitCode::SUCCESS)
}
