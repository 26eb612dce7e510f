//! How the command line writes an amount of money: dollars as Wiro bills them.

/// A cost as Wiro bills it (dollars, at most six decimals), without float noise.
pub(crate) fn money(amount: f64) -> String {
    let text = format!("{amount:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("${text}")
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn costs_print_without_float_noise() {
        assert_eq!(money(0.3 + 0.3 + 0.3), "$0.9");
        assert_eq!(money(0.00351), "$0.00351");
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(2.0), "$2");
    }
}
