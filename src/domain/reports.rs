//! The reports' rules: rolling counts up the organisation tree, the share of a target reached,
//! how a period splits into whole months and loose days, the months of a period.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use uuid::Uuid;

/// One organisation's place in the tree, as the roll-up needs it.
pub type Node = (Uuid, Option<Uuid>);

/// Each organisation's count plus those of every organisation below it. `nodes` are in tree
/// order (each parent before its children) and form whole subtrees; `own` are the counts of
/// each organisation alone.
pub fn roll_up(nodes: &[Node], own: &HashMap<Uuid, i64>) -> HashMap<Uuid, i64> {
    let mut total: HashMap<Uuid, i64> = nodes
        .iter()
        .map(|(id, _)| (*id, own.get(id).copied().unwrap_or(0)))
        .collect();
    for (id, parent) in nodes.iter().rev() {
        if let Some(parent) = parent.filter(|p| total.contains_key(p)) {
            let n = total.get(id).copied().unwrap_or(0);
            *total.entry(parent).or_default() += n;
        }
    }
    total
}

/// Distinct people rolled up: [`roll_up`] of the per-organisation distinct counts, less the
/// people counted at several organisations below one (each `several` entry: the organisations
/// one person is counted at).
pub fn roll_up_distinct(
    nodes: &[Node],
    own: &HashMap<Uuid, i64>,
    several: &HashMap<Uuid, Vec<Uuid>>,
) -> HashMap<Uuid, i64> {
    let mut total = roll_up(nodes, own);
    let parents: HashMap<Uuid, Option<Uuid>> = nodes.iter().copied().collect();
    for orgs in several.values() {
        // how many of this person's organisations each organisation (or one above) holds
        let mut held: HashMap<Uuid, i64> = HashMap::new();
        for org in orgs {
            let mut at = Some(*org);
            while let Some(id) = at.filter(|id| parents.contains_key(id)) {
                *held.entry(id).or_default() += 1;
                at = parents.get(&id).copied().flatten();
            }
        }
        for (id, n) in held {
            if n > 1 {
                *total.entry(id).or_default() -= n - 1;
            }
        }
    }
    total
}

/// The share of a target reached, as a fraction (1.0 = reached), to four decimals; none
/// without a target (or with a target of zero, which any count reaches).
pub fn share(count: i64, target: Option<i64>) -> Option<f64> {
    match target {
        Some(t) if t > 0 => Some((count as f64 / t as f64 * 10_000.0).round() / 10_000.0),
        _ => None,
    }
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn year_start(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day)
}

fn year_end(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), 12, 31).unwrap_or(day)
}

/// The first day of a month on or after `day`.
fn month_start_from(day: NaiveDate) -> NaiveDate {
    if day.day() == 1 {
        day
    } else {
        month_start(day)
            .checked_add_months(Months::new(1))
            .unwrap_or(day)
    }
}

/// The first 1 January on or after `day`.
fn year_start_from(day: NaiveDate) -> NaiveDate {
    if day.ordinal() == 1 {
        day
    } else {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1).unwrap_or(day)
    }
}

fn next(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(day)
}

fn prev(day: NaiveDate) -> NaiveDate {
    day.pred_opt().unwrap_or(day)
}

/// A period `[from, to]` cut into whole years `[a, b)` (read from yearly totals), whole months
/// `[a, b)` before and after them (monthly totals) and loose days `[a, b]` at either end (daily
/// totals). An empty range of years or months has `a = b`; an empty run of days `a > b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodCut {
    pub years: (NaiveDate, NaiveDate),
    pub months: [(NaiveDate, NaiveDate); 2],
    pub days: [(NaiveDate, NaiveDate); 2],
}

impl PeriodCut {
    /// The whole months of the period (those of its whole years included), `[a, b)`; `a = b`
    /// when there are none.
    pub fn month_span(&self) -> (NaiveDate, NaiveDate) {
        let pieces = [self.months[0], self.years, self.months[1]];
        let whole: Vec<&(NaiveDate, NaiveDate)> = pieces.iter().filter(|(a, b)| a < b).collect();
        match (whole.first(), whole.last()) {
            (Some(first), Some(last)) => (first.0, last.1),
            _ => (self.days[0].0, self.days[0].0),
        }
    }

    /// The period is exactly one year (`'y'`) or one month (`'m'`), keyed by its first day.
    pub fn single(&self) -> Option<(char, NaiveDate)> {
        let no_days = self.days.iter().all(|(a, b)| a > b);
        let no_months = self.months.iter().all(|(a, b)| a >= b);
        let (ys, ye) = self.years;
        if no_days && no_months && ys < ye && year_start_from(next(ys)) == ye {
            return Some(('y', ys));
        }
        let months: Vec<_> = self.months.iter().filter(|(a, b)| a < b).collect();
        match months.as_slice() {
            [(a, b)] if no_days && ys >= ye && month_start_from(next(*a)) == *b => Some(('m', *a)),
            _ => None,
        }
    }
}

/// Whole months and loose days of `[from, end)`, `end` a first of a month after `from`.
fn head(from: NaiveDate, end: NaiveDate) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
    let ms = month_start_from(from).min(end);
    ((ms, end), (from, prev(ms)))
}

pub fn cut_period(from: NaiveDate, to: NaiveDate) -> PeriodCut {
    let none_days = (to, prev(from));
    let ys = year_start_from(from);
    let ye = year_start(next(to));
    if ys < ye {
        let (lead_months, lead_days) = head(from, ys);
        let me = month_start(next(to)).max(ye);
        return PeriodCut {
            years: (ys, ye),
            months: [lead_months, (ye, me)],
            days: [lead_days, (me, to)],
        };
    }
    let ms = month_start_from(from);
    let me = month_start(next(to));
    if ms < me {
        PeriodCut {
            years: (from, from),
            months: [(ms, me), (me, me)],
            days: [(from, prev(ms)), (me, to)],
        }
    } else {
        PeriodCut {
            years: (from, from),
            months: [(from, from), (from, from)],
            days: [(from, to), none_days],
        }
    }
}

/// The same period widened over days on which nothing counts, within the years of its ends:
/// back to the day after the last counting day before `from` (or 1 January), on to the day
/// before the next counting day after `to` (or 31 December). Its figures are the same; more of
/// it is whole months and years.
pub fn stretch(
    from: NaiveDate,
    to: NaiveDate,
    last_before: Option<NaiveDate>,
    next_after: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate) {
    let start = last_before
        .map(next)
        .unwrap_or_else(|| year_start(from))
        .max(year_start(from))
        .min(from);
    let end = next_after
        .map(prev)
        .unwrap_or_else(|| year_end(to))
        .min(year_end(to))
        .max(to);
    (start, end)
}

/// A report's period: both days plausible, `from` not after `to`.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<(), crate::error::AppError> {
    super::training::check_dates(&[("from", Some(from)), ("to", Some(to))])?;
    if from > to {
        return Err(crate::error::AppError::validation(
            "from",
            "Ngày bắt đầu phải trước hoặc trùng ngày kết thúc.",
        ));
    }
    Ok(())
}

/// The default period of a report asked on `today`: from 1 January of its year to it.
pub fn year_to_date(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
        today,
    )
}

/// The first day of each month that `[from, to]` touches, in order.
pub fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = month_start(from);
    while m <= to {
        out.push(m);
        match m.checked_add_months(Months::new(1)) {
            Some(next) => m = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn each_day(a: NaiveDate, b: NaiveDate, out: &mut Vec<NaiveDate>) {
        let mut x = a;
        while x <= b {
            out.push(x);
            x = x.succ_opt().unwrap();
        }
    }

    fn days_of(cut: &PeriodCut) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let (ys, ye) = cut.years;
        if ys < ye {
            each_day(ys, ye.pred_opt().unwrap(), &mut out);
        }
        for (a, b) in cut.months {
            if a < b {
                each_day(a, b.pred_opt().unwrap(), &mut out);
                // months are whole
                assert_eq!((a.day(), b.day()), (1, 1));
            }
        }
        for (a, b) in cut.days {
            each_day(a, b, &mut out);
        }
        out.sort();
        out
    }

    #[test]
    fn a_period_is_cut_into_whole_years_months_and_loose_days_covering_each_day_once() {
        let cases = [
            (d(2027, 1, 1), d(2027, 6, 14)),
            (d(2027, 1, 15), d(2027, 6, 30)),
            (d(2027, 5, 3), d(2027, 5, 20)),
            (d(2027, 5, 1), d(2027, 5, 31)),
            (d(2026, 12, 31), d(2027, 1, 1)),
            (d(2027, 2, 10), d(2027, 3, 5)),
            (d(2027, 3, 1), d(2027, 3, 1)),
            (d(2027, 1, 1), d(2027, 12, 31)),
            (d(2025, 11, 20), d(2027, 2, 3)),
            (d(2025, 1, 1), d(2027, 12, 31)),
            (d(2025, 3, 1), d(2026, 1, 31)),
        ];
        for (from, to) in cases {
            let cut = cut_period(from, to);
            let mut expected = Vec::new();
            each_day(from, to, &mut expected);
            assert_eq!(days_of(&cut), expected, "{from}..{to}: {cut:?}");
        }
        let cut = cut_period(d(2027, 1, 1), d(2027, 6, 14));
        assert_eq!(cut.months[0], (d(2027, 1, 1), d(2027, 6, 1)));
        assert_eq!(cut.days[1], (d(2027, 6, 1), d(2027, 6, 14)));
        let cut = cut_period(d(2025, 11, 20), d(2027, 2, 3));
        assert_eq!(cut.years, (d(2026, 1, 1), d(2027, 1, 1)));
        assert_eq!(
            cut.months,
            [
                (d(2025, 12, 1), d(2026, 1, 1)),
                (d(2027, 1, 1), d(2027, 2, 1))
            ]
        );
    }

    #[test]
    fn a_single_year_or_month_is_recognised() {
        assert_eq!(
            cut_period(d(2027, 1, 1), d(2027, 12, 31)).single(),
            Some(('y', d(2027, 1, 1)))
        );
        assert_eq!(
            cut_period(d(2027, 5, 1), d(2027, 5, 31)).single(),
            Some(('m', d(2027, 5, 1)))
        );
        assert_eq!(cut_period(d(2027, 5, 1), d(2027, 6, 30)).single(), None);
        assert_eq!(cut_period(d(2027, 1, 1), d(2027, 6, 14)).single(), None);
        assert_eq!(cut_period(d(2026, 1, 1), d(2027, 12, 31)).single(), None);
    }

    #[test]
    fn a_period_stretches_over_days_without_anything_counted_within_its_years() {
        // nothing after 14 June: the rest of the year joins; nothing before: from 1 January
        assert_eq!(
            stretch(d(2027, 1, 1), d(2027, 6, 14), None, None),
            (d(2027, 1, 1), d(2027, 12, 31))
        );
        assert_eq!(
            stretch(
                d(2027, 3, 5),
                d(2027, 5, 10),
                Some(d(2027, 2, 27)),
                Some(d(2027, 5, 31))
            ),
            (d(2027, 2, 28), d(2027, 5, 30))
        );
        // a counting day right at the edge: no stretch
        assert_eq!(
            stretch(
                d(2027, 3, 5),
                d(2027, 5, 10),
                Some(d(2027, 3, 4)),
                Some(d(2027, 5, 11))
            ),
            (d(2027, 3, 5), d(2027, 5, 10))
        );
        // never past the years of the ends
        assert_eq!(
            stretch(
                d(2027, 3, 5),
                d(2027, 5, 10),
                Some(d(2025, 1, 1)),
                Some(d(2029, 1, 1))
            ),
            (d(2027, 1, 1), d(2027, 12, 31))
        );
    }

    #[test]
    fn months_of_a_period_include_both_ends() {
        assert_eq!(
            months(d(2026, 11, 20), d(2027, 2, 1)),
            vec![d(2026, 11, 1), d(2026, 12, 1), d(2027, 1, 1), d(2027, 2, 1)]
        );
    }

    #[test]
    fn counts_roll_up_to_every_organisation_above() {
        let (root, a, a1, b) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let nodes = [
            (root, None),
            (a, Some(root)),
            (a1, Some(a)),
            (b, Some(root)),
        ];
        let own = HashMap::from([(root, 1), (a, 2), (a1, 3), (b, 4)]);
        let total = roll_up(&nodes, &own);
        assert_eq!(total[&root], 10);
        assert_eq!(total[&a], 5);
        assert_eq!(total[&a1], 3);
        // a subtree alone: its root counts what lies below it
        let sub = roll_up(&nodes[1..3], &own);
        assert_eq!(sub[&a], 5);
        // one person counted at a and at a1 is one person for a and for the root
        let several = HashMap::from([(Uuid::from_u128(99), vec![a, a1])]);
        let distinct = roll_up_distinct(&nodes, &own, &several);
        assert_eq!(distinct[&a], 4);
        assert_eq!(distinct[&root], 9);
        assert_eq!(distinct[&a1], 3);
    }

    #[test]
    fn a_period_ends_after_it_starts() {
        assert!(check_period(d(2027, 5, 1), d(2027, 5, 1)).is_ok());
        assert!(check_period(d(2027, 5, 2), d(2027, 5, 1)).is_err());
        assert_eq!(
            year_to_date(d(2027, 6, 14)),
            (d(2027, 1, 1), d(2027, 6, 14))
        );
    }

    #[test]
    fn a_share_needs_a_target() {
        assert_eq!(share(3, Some(4)), Some(0.75));
        assert_eq!(share(1, Some(3)), Some(0.3333));
        assert_eq!(share(5, None), None);
        assert_eq!(share(5, Some(0)), None);
    }
}
