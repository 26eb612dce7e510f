//! Random faults for soak tests: each request of an operation meets a fault with a given
//! probability, drawn from a seeded generator, so that a failing soak can be told and replayed
//! (`--chaos 0.2 --chaos-seed 7`).
//!
//! The faults are the ones a network and a busy server give: HTTP 500 and 503, 429 with
//! `Retry-After`, answers cut after the server acted (`drop`: for a Run, a task created and its
//! answer lost) or before (`drop-before`), slow answers, downloads cut halfway, WebSockets cut.
//! Business answers (96, 97, failing tasks) are never drawn: they are not faults.
//!
//! ```
//! use wiro_nodes::emulator::{Chaos, Operation};
//! let chaos: Chaos = "0.2,socket=0.5,tool=0".parse().unwrap();
//! assert_eq!(chaos.rate(Operation::Run), 0.2);
//! assert_eq!(chaos.rate(Operation::Socket), 0.5);
//! assert_eq!(chaos.rate(Operation::ToolDetail), 0.0);
//! assert_eq!(chaos.to_string(), "0.2,tool=0,socket=0.5"); // in the order of `Operation`
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::faults::{Fault, FaultParseError, Operation};

/// How often requests meet a random fault: one rate for every operation, and rates of their
/// own for some.
#[derive(Debug, Clone, PartialEq)]
pub struct Chaos {
    /// The probability (0 to 1) that a request meets a fault.
    pub rate: f64,
    /// Rates that replace `rate` for these operations.
    pub per_operation: BTreeMap<Operation, f64>,
    /// Seeds the generator: the same seed draws the same faults for the same requests.
    pub seed: u64,
}

impl Chaos {
    /// `rate` for every operation, drawn from `seed`.
    pub fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate,
            per_operation: BTreeMap::new(),
            seed,
        }
    }

    /// The probability that a request of `operation` meets a fault.
    pub fn rate(&self, operation: Operation) -> f64 {
        self.per_operation
            .get(&operation)
            .copied()
            .unwrap_or(self.rate)
    }

    /// The fault this request of `operation` meets, if any.
    pub(crate) fn draw(&self, random: &mut fastrand::Rng, operation: Operation) -> Option<Fault> {
        if random.f64() >= self.rate(operation) {
            return None;
        }
        let menu = menu(operation);
        let fault = menu[random.usize(..menu.len())];
        Some(match fault {
            Fault::Slow(_) => Fault::Slow(Duration::from_millis(random.u64(100..=1500))),
            other => other,
        })
    }
}

/// The faults an operation can meet at random.
fn menu(operation: Operation) -> &'static [Fault] {
    const ONE_SECOND: Fault = Fault::RateLimited {
        retry_after: Duration::from_secs(1),
    };
    const SLOW: Fault = Fault::Slow(Duration::ZERO);
    match operation {
        Operation::Socket => &[Fault::ServerError, ONE_SECOND, Fault::SocketDrop, SLOW],
        Operation::Download => &[
            Fault::ServerError,
            Fault::Unavailable,
            ONE_SECOND,
            Fault::DropConnection,
            Fault::TruncateBody,
            SLOW,
        ],
        _ => &[
            Fault::ServerError,
            Fault::Unavailable,
            ONE_SECOND,
            Fault::DropConnection,
            Fault::DropBeforeEffect,
            SLOW,
        ],
    }
}

impl fmt::Display for Chaos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rate)?;
        for (operation, rate) in &self.per_operation {
            write!(f, ",{operation}={rate}")?;
        }
        Ok(())
    }
}

/// `RATE[,OPERATION=RATE...]`, e.g. `0.2`, `20%`, `0.2,socket=0.5` or `run=0.3` (only Runs);
/// the seed is 0 until set.
impl FromStr for Chaos {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut chaos = Chaos::new(0.0, 0);
        for (index, part) in text.split(',').map(str::trim).enumerate() {
            match part.split_once('=') {
                Some((operation, rate)) => {
                    let operation: Operation = operation.parse()?;
                    chaos.per_operation.insert(operation, parse_rate(text, rate)?);
                }
                None if index == 0 => chaos.rate = parse_rate(text, part)?,
                None => {
                    return Err(FaultParseError::new(format!(
                        "chaos {text:?}: only the first part may be a bare rate; write OPERATION=RATE for {part:?}"
                    )))
                }
            }
        }
        Ok(chaos)
    }
}

/// A probability written `0.2` or `20%`.
fn parse_rate(whole: &str, text: &str) -> Result<f64, FaultParseError> {
    let text = text.trim();
    let rate = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    };
    match rate {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(FaultParseError::new(format!(
            "chaos {whole:?}: {text:?} is not a rate between 0 and 1 (or 0% and 100%)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_and_mistakes_named() {
        let chaos: Chaos = "20%".parse().unwrap();
        assert_eq!(chaos.rate(Operation::Download), 0.2);
        let only_runs: Chaos = "run=0.3".parse().unwrap();
        assert_eq!(only_runs.rate(Operation::TaskDetail), 0.0);
        assert_eq!(only_runs.rate(Operation::Run), 0.3);
        let message = |text: &str| text.parse::<Chaos>().unwrap_err().to_string();
        assert!(message("1.5").contains("between 0 and 1"));
        assert!(message("0.2,0.3").contains("OPERATION=RATE"));
        assert!(message("walk=0.2").contains("unknown operation"));
    }

    #[test]
    fn the_same_seed_draws_the_same_faults_and_the_rate_holds() {
        let chaos = Chaos::new(0.2, 7);
        let draws = |seed| {
            let mut random = fastrand::Rng::with_seed(seed);
            (0..10_000)
                .map(|i| chaos.draw(&mut random, Operation::ALL[i % Operation::ALL.len()]))
                .collect::<Vec<_>>()
        };
        let first = draws(7);
        assert_eq!(first, draws(7));
        let faults = first.iter().flatten().count();
        assert!((1_700..2_300).contains(&faults), "{faults} of 10000");
        for (i, fault) in first.iter().enumerate() {
            if let Some(fault) = fault {
                let operation = Operation::ALL[i % Operation::ALL.len()];
                assert!(fault.applies_to(operation), "{fault} on {operation}");
            }
        }
    }
}
