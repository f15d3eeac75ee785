//! How the pages say the machine's words, in Vietnamese: the domain's labels (statuses, tiers,
//! categories, roles, shared with the messages) and numbers as Vietnamese writes them.

pub use crate::domain::labels::{
    category, certificate_status, cohort_status, enrollment_status, role, tier,
};

/// A number as Vietnamese writes it: a comma before the decimals ("87,5").
pub fn decimal(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_use_a_comma() {
        assert_eq!(decimal(87.5), "87,5");
        assert_eq!(decimal(100.0), "100");
        assert_eq!(decimal(66.666), "66,7");
    }
}
