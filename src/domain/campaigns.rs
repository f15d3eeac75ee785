//! Campaigns: a named period of an organisation (each May is the month of mobilisation for
//! universal social insurance) that cohorts and outreach belong to; what a new one must satisfy,
//! who sees one, and which one a cohort may refer to.

use chrono::NaiveDate;
use uuid::Uuid;

use super::organizations::clean_text;
use super::text::TextRule;
use crate::error::FieldError;

/// Longest campaign name, in characters.
pub const NAME_MAX: usize = 200;

/// The yearly national May campaign's name.
pub fn may_campaign_name(year: i32) -> String {
    format!("Tháng vận động triển khai BHXH toàn dân năm {year}")
}

/// The yearly May campaign of `year`: its name, from 1 May to 31 May.
pub fn may_campaign(year: i32) -> Option<(String, NaiveDate, NaiveDate)> {
    Some((
        may_campaign_name(year),
        NaiveDate::from_ymd_opt(year, 5, 1)?,
        NaiveDate::from_ymd_opt(year, 5, 31)?,
    ))
}

/// A new campaign's fields, checked and cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// Checks a campaign's name (1–200 characters, cleaned like other text) and its dates (the end
/// not before the start, both in the calendar the service takes), naming every bad field.
pub fn check_new_campaign(
    name: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> Result<NewCampaign, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = match TextRule::line("name", NAME_MAX).check(name) {
        Ok(n) => clean_text(&n),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    for (field, day) in [("starts_on", starts_on), ("ends_on", ends_on)] {
        if let Err(e) = super::training::check_date(field, day) {
            errors.push(e);
        }
    }
    if ends_on < starts_on {
        errors.push(FieldError::new(
            "ends_on",
            "Ngày kết thúc chiến dịch không được trước ngày bắt đầu.",
        ));
    }
    if errors.is_empty() {
        Ok(NewCampaign {
            name,
            starts_on,
            ends_on,
        })
    } else {
        Err(errors)
    }
}

/// Do the days `a_from..=a_to` and `b_from..=b_to` share at least one day?
pub fn overlaps(a_from: NaiveDate, a_to: NaiveDate, b_from: NaiveDate, b_to: NaiveDate) -> bool {
    a_from <= b_to && b_from <= a_to
}

/// The first and last day of a year (for "campaigns overlapping this year").
pub fn year_bounds(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(year, 1, 1)?,
        NaiveDate::from_ymd_opt(year, 12, 31)?,
    ))
}

/// A campaign as far as choosing one for a cohort cares.
#[derive(Debug, Clone)]
pub struct Candidate<T> {
    pub item: T,
    /// How far above the organiser its organisation is: 0 its own, 1 the parent, …; national
    /// campaigns (of the state agency, outside the organiser's chain) come last.
    pub distance: usize,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl<T> Candidate<T> {
    /// A campaign of `organization` over `starts_on..=ends_on`, placed by how far up `chain`
    /// (the organiser's organisation first, then those above it) its organisation stands.
    pub fn in_chain(
        item: T,
        organization: Uuid,
        chain: &[Uuid],
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    ) -> Self {
        Candidate {
            distance: chain
                .iter()
                .position(|o| *o == organization)
                .unwrap_or(chain.len()),
            item,
            starts_on,
            ends_on,
        }
    }
}

/// Of the campaigns an organiser may see that carry a name, the one a cohort of
/// `from..=to` means: one whose days overlap the cohort's before one whose do not, then the
/// nearest organisation. `None` when there is none at all.
pub fn resolve_by_name<T>(
    mut candidates: Vec<Candidate<T>>,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<Candidate<T>> {
    candidates.sort_by_key(|c| (!overlaps(c.starts_on, c.ends_on, from, to), c.distance));
    candidates.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_may_campaign_runs_the_whole_of_may() {
        let (name, from, to) = may_campaign(2027).unwrap();
        assert_eq!(name, "Tháng vận động triển khai BHXH toàn dân năm 2027");
        assert_eq!((from, to), (d(2027, 5, 1), d(2027, 5, 31)));
    }

    #[test]
    fn a_campaign_needs_a_name_and_an_end_not_before_its_start() {
        let ok =
            check_new_campaign("  Chiến dịch   mùa hè ", d(2027, 6, 1), d(2027, 6, 1)).unwrap();
        assert_eq!(ok.name, "Chiến dịch mùa hè");
        let errors = check_new_campaign(" ", d(2027, 6, 2), d(2027, 6, 1)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "ends_on"]);
        assert!(check_new_campaign(&"x".repeat(201), d(2027, 6, 1), d(2027, 6, 2)).is_err());
        assert!(check_new_campaign("a\u{0}b", d(2027, 6, 1), d(2027, 6, 2)).is_err());
    }

    #[test]
    fn days_overlap_when_they_share_one() {
        assert!(overlaps(
            d(2027, 5, 1),
            d(2027, 5, 31),
            d(2027, 5, 31),
            d(2027, 6, 2)
        ));
        assert!(!overlaps(
            d(2027, 5, 1),
            d(2027, 5, 31),
            d(2027, 6, 1),
            d(2027, 6, 2)
        ));
    }

    #[test]
    fn a_name_resolves_to_an_overlapping_campaign_before_the_nearest() {
        let c = |item: &'static str, distance, from, to| Candidate {
            item,
            distance,
            starts_on: from,
            ends_on: to,
        };
        let found = resolve_by_name(
            vec![
                c("own, last year", 0, d(2026, 5, 1), d(2026, 5, 31)),
                c("national", 9, d(2027, 5, 1), d(2027, 5, 31)),
                c("parent", 1, d(2027, 5, 1), d(2027, 5, 31)),
            ],
            d(2027, 5, 10),
            d(2027, 5, 11),
        );
        assert_eq!(found.map(|c| c.item), Some("parent"));
        assert!(resolve_by_name::<()>(Vec::new(), d(2027, 5, 1), d(2027, 5, 2)).is_none());
    }
}
