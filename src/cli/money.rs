//! How the command line writes an amount of money: dollars as Wiro bills them, written once in
//! [`graph::usd`](crate::graph::usd) so every host says an amount alike.

pub(crate) use crate::graph::usd as money;

/// Reads a spending cap in dollars (`--max-cost`): a number, 0 or more. `nan`, `inf` and
/// numbers too big to be a price (`1e400`) would each mean no cap at all, so they are
/// refused, as is a cap below zero.
pub(crate) fn cap(text: &str) -> Result<f64, String> {
    let usd: f64 = text
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("{text:?} is not a number of dollars"))?;
    crate::graph::spending_cap(usd)
        .ok_or_else(|| format!("{text:?} is no cap: give dollars from 0 to 1000000000000"))
}

/// What a total leaves out, when it leaves anything: the tasks whose end a run did not see
/// (a Run no node waited for), billed if they succeed.
pub(crate) fn not_counted(tasks: &[String]) -> Option<String> {
    use crate::graph::rows::{counted, first_few};
    let one = match tasks.len() {
        0 => return None,
        n => n == 1,
    };
    Some(format!(
        "not counted: {} whose end this run did not see, billed if {} ({})",
        counted(tasks.len(), "task"),
        if one { "it succeeds" } else { "they succeed" },
        first_few(tasks, "task")
    ))
}

#[cfg(test)]
mod tests {
    use super::cap;

    #[test]
    fn a_cap_is_a_plain_amount_of_dollars() {
        assert_eq!(cap("3.6"), Ok(3.6));
        assert_eq!(cap("$0"), Ok(0.0));
        assert!(
            cap("-0").unwrap().is_sign_positive(),
            "-0 is shown as $0.00"
        );
        assert_eq!(
            cap("3.1499999"),
            Ok(3.149999),
            "rounded down, as it is applied"
        );
        for no_cap in ["nan", "inf", "-inf", "1e400", "-1", "infinity", "", "ten"] {
            assert!(cap(no_cap).is_err(), "{no_cap:?} was taken as a cap");
        }
    }
}
