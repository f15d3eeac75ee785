//! The audit trail as people search it: which period a search covers, and which action names
//! may be asked for.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::error::{AppError, FieldError};

/// Most audit events a person's own trail (`/me/data`) carries: the newest ones.
pub const OWN_TRAIL_LIMIT: i64 = 1_000;

/// A period of the trail: events at or after `from` and strictly before `before`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// Which end of the period a bound is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    From,
    To,
}

/// Reads `from` and `to`, each a date (`2027-06-01`: the whole day, in UTC) or an RFC 3339
/// instant (`2027-06-01T08:00:00+07:00`); `to` includes its day or its instant. Every bad
/// value is reported, and a period that ends before it starts is refused.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<Period, AppError> {
    let mut errors = Vec::new();
    let mut bound = |field: &'static str, raw: Option<&str>, end: End| match raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| instant(field, s, end))
    {
        Some(Ok(at)) => Some(at),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    let period = Period {
        from: bound("from", from, End::From),
        before: bound("to", to, End::To),
    };
    if let (Some(from), Some(before)) = (period.from, period.before) {
        if before <= from {
            errors.push(FieldError::new(
                "to",
                "Thời điểm kết thúc phải sau thời điểm bắt đầu.",
            ));
        }
    }
    if errors.is_empty() {
        Ok(period)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// One bound: the start of a `from` day, the end of a `to` day (the next day's start, which the
/// period excludes), or just past a `to` instant.
fn instant(field: &'static str, raw: &str, end: End) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let date = super::training::check_date(field, date)?;
        let start = date.and_time(NaiveTime::MIN).and_utc();
        return Ok(match end {
            End::From => start,
            End::To => start + Duration::days(1),
        });
    }
    match DateTime::parse_from_rfc3339(raw) {
        Ok(at) => {
            let at = at.with_timezone(&Utc);
            super::training::check_date(field, at.date_naive())?;
            Ok(match end {
                End::From => at,
                // PostgreSQL keeps microseconds: the next one is the first instant excluded
                End::To => at + Duration::microseconds(1),
            })
        }
        Err(_) => Err(FieldError::new(
            field,
            "Thời điểm phải là một ngày (YYYY-MM-DD) hoặc một thời điểm theo RFC 3339 \
             (ví dụ 2027-06-01T08:00:00+07:00).",
        )),
    }
}

/// An action name as the trail records them (`certificate_downloaded`): lower-case letters and
/// underscores, at most 64 characters.
pub fn check_action(raw: &str) -> Result<(), AppError> {
    let shaped = !raw.is_empty()
        && raw.len() <= 64
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if shaped {
        Ok(())
    } else {
        Err(AppError::validation(
            "action",
            "Tên hành động chỉ gồm chữ thường không dấu và dấu gạch dưới (ví dụ \
             certificate_downloaded), tối đa 64 ký tự.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn a_to_date_includes_its_whole_day() {
        let p = period(Some("2027-06-01"), Some("2027-06-01")).unwrap();
        assert_eq!(p.from, Some(utc(2027, 6, 1, 0, 0)));
        assert_eq!(p.before, Some(utc(2027, 6, 2, 0, 0)));
    }

    #[test]
    fn instants_are_read_in_their_offset_and_to_includes_its_instant() {
        let p = period(
            Some("2027-06-01T08:00:00+07:00"),
            Some("2027-06-01T02:00:00Z"),
        )
        .unwrap();
        assert_eq!(p.from, Some(utc(2027, 6, 1, 1, 0)));
        assert_eq!(
            p.before,
            Some(utc(2027, 6, 1, 2, 0) + Duration::microseconds(1))
        );
    }

    #[test]
    fn bad_bounds_are_each_reported_and_a_reversed_period_refused() {
        let Err(AppError::Validation(errors)) = period(Some("hôm qua"), Some("2027-13-01")) else {
            panic!("expected a validation error");
        };
        assert_eq!(errors.len(), 2);
        assert!(period(Some("2027-06-02"), Some("2027-06-01")).is_err());
        assert!(period(Some("1800-01-01"), None).is_err());
        assert_eq!(period(None, Some(" ")).unwrap(), Period::default());
    }

    #[test]
    fn action_names_are_snake_case() {
        assert!(check_action("certificate_downloaded").is_ok());
        assert!(check_action("Certificate").is_err());
        assert!(check_action("").is_err());
        assert!(check_action("a'; drop").is_err());
    }
}
