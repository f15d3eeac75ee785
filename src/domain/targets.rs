//! Yearly targets: how many certified master trainers and propagandists an organisation should
//! have, and who may set them (an administrator, or a coordinator of an organisation above it —
//! never the organisation's own coordinator, who would be grading their own work).

use crate::error::FieldError;

/// The years a target may be set for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The largest number a target may ask for: more people than the country has would be a typo.
pub const MAX_TARGET: i32 = 10_000_000;

/// A target as set: checked counts for one organisation and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub year: i32,
    pub master_trainers: i32,
    pub propagandists: i32,
}

/// Checks a year and two counts, naming every field that is out of range.
pub fn check_target(
    year: i32,
    master_trainers: i64,
    propagandists: i64,
) -> Result<Target, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !YEARS.contains(&year) {
        errors.push(FieldError::new(
            "year",
            format!("Năm phải từ {} đến {}.", YEARS.start(), YEARS.end()),
        ));
    }
    let mut count = |field: &str, what: &str, n: i64| -> i32 {
        match i32::try_from(n) {
            Ok(n) if (0..=MAX_TARGET).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "Chỉ tiêu {what} phải là số nguyên từ 0 đến {}.",
                        crate::domain::labels::number(MAX_TARGET as usize)
                    ),
                ));
                0
            }
        }
    };
    let master_trainers = count("master_trainers", "giảng viên nguồn", master_trainers);
    let propagandists = count("propagandists", "tuyên truyền viên", propagandists);
    if errors.is_empty() {
        Ok(Target {
            year,
            master_trainers,
            propagandists,
        })
    } else {
        Err(errors)
    }
}

/// Who is asking to set an organisation's target.
#[derive(Debug, Clone, Copy)]
pub struct Setter {
    pub admin: bool,
    pub coordinator: bool,
    /// Does their scope cover the organisation itself?
    pub covers_organization: bool,
    /// Does their scope cover the organisation's parent (so they sit above it)?
    pub covers_parent: bool,
}

/// Why a target may not be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetDenial {
    /// The organisation lies outside the caller's scope: as if it did not exist (404).
    OutOfScope,
    /// In scope, but the caller is not an administrator nor a coordinator above it (403).
    NotAbove,
}

/// An administrator sets any organisation's target; a coordinator only those of organisations
/// strictly below their own (their scope covers the parent), so nobody sets their own.
pub fn may_set_target(who: Setter) -> Result<(), TargetDenial> {
    if who.admin {
        Ok(())
    } else if !who.covers_organization {
        Err(TargetDenial::OutOfScope)
    } else if who.coordinator && who.covers_parent {
        Ok(())
    } else {
        Err(TargetDenial::NotAbove)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_takes_whole_numbers_from_zero_and_a_year_in_range() {
        assert_eq!(
            check_target(2027, 0, 1200),
            Ok(Target {
                year: 2027,
                master_trainers: 0,
                propagandists: 1200
            })
        );
        let errors = check_target(1999, -1, i64::from(MAX_TARGET) + 1).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["year", "master_trainers", "propagandists"]);
        assert!(check_target(2101, 1, 1).is_err());
        assert!(check_target(2100, 1, 1).is_ok());
    }

    fn setter(admin: bool, coordinator: bool, covers: bool, parent: bool) -> Setter {
        Setter {
            admin,
            coordinator,
            covers_organization: covers,
            covers_parent: parent,
        }
    }

    #[test]
    fn only_an_administrator_or_a_coordinator_above_sets_a_target() {
        assert_eq!(may_set_target(setter(true, false, false, false)), Ok(()));
        assert_eq!(may_set_target(setter(false, true, true, true)), Ok(()));
        // the organisation's own coordinator: in scope, but not above it
        assert_eq!(
            may_set_target(setter(false, true, true, false)),
            Err(TargetDenial::NotAbove)
        );
        // HR above it may look, not set
        assert_eq!(
            may_set_target(setter(false, false, true, true)),
            Err(TargetDenial::NotAbove)
        );
        assert_eq!(
            may_set_target(setter(false, true, false, false)),
            Err(TargetDenial::OutOfScope)
        );
    }
}
