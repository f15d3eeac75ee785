//! The CSV format for entering outreach activities offline, checked line by line before anything
//! is written (the same conventions as the people import: BOM, CRLF, line numbers, 10 MiB).

use chrono::NaiveDate;

use super::outreach::{check_entry, CheckedOutreach, OutreachDraft};
use super::user_import::{too_many_rows, CsvUpload, ImportError};

/// The columns of an outreach file (any order; the header row names them).
pub const COLUMNS: [&str; 9] = [
    "username",
    "held_on",
    "province_code",
    "commune",
    "form",
    "audience",
    "employers_reached",
    "campaign",
    "note",
];

/// Largest file: 10 MiB, as for people.
pub const MAX_FILE_BYTES: usize = super::user_import::MAX_FILE_BYTES;

/// Most activities in one file.
pub const MAX_ROWS: usize = 20_000;

/// Longest campaign cell (a name or an id).
const CAMPAIGN: usize = 200;

/// One line that passed the file's own checks; the author, the campaign and the author's
/// certification are checked against the database next.
#[derive(Debug, Clone)]
pub struct OutreachImportRow {
    pub line: u64,
    pub username: String,
    pub entry: CheckedOutreach,
    /// A campaign's name or id, as written.
    pub campaign: Option<String>,
}

/// A whole number in a cell (`40`, or `40.0` as spreadsheets write it).
fn whole(cell: &str) -> Result<Option<i64>, ()> {
    if cell.is_empty() {
        return Ok(None);
    }
    if let Ok(n) = cell.parse::<i64>() {
        return Ok(Some(n));
    }
    match cell.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => Ok(Some(f as i64)),
        _ => Err(()),
    }
}

/// A province code as spreadsheets keep it: `1` for `01` (a number loses its leading zero).
fn province(cell: &str) -> String {
    if cell.len() == 1 && cell.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{cell}")
    } else {
        cell.to_string()
    }
}

/// A day as `YYYY-MM-DD` or `DD/MM/YYYY` (how Vietnamese spreadsheets show dates).
fn day(cell: &str) -> Result<Option<NaiveDate>, ()> {
    if cell.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(cell, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(cell, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| ())
}

/// Parses and checks a whole file on `today`: the rows that passed and every problem with its
/// line. Any problem fails the whole file.
pub fn parse_outreach_import(
    bytes: &[u8],
    today: NaiveDate,
) -> (Vec<OutreachImportRow>, Vec<ImportError>) {
    let mut file = match CsvUpload::open(bytes, &COLUMNS) {
        Ok(file) => file,
        Err(header) => return (Vec::new(), vec![header]),
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    while let Some(next) = file.next_record() {
        let (line, record) = match next {
            Ok(found) => found,
            Err(unreadable) => {
                errors.push(unreadable);
                continue;
            }
        };
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(too_many_rows(line, MAX_ROWS, "hoạt động"));
            break;
        }
        let cell = |name: &str| record.cell(name);
        let opt = |name: &str| record.optional(name);
        let mut line_errors = Vec::new();
        let username = cell("username").to_lowercase();
        if username.is_empty() {
            line_errors.push(ImportError::in_column(
                line,
                "username",
                "Tên đăng nhập không được để trống.",
            ));
        } else if let Err(e) = super::text::check_plain("username", &username, 64) {
            line_errors.push(ImportError::in_column(line, "username", &e.message));
        }
        let held_on = day(&cell("held_on")).unwrap_or_else(|()| {
            line_errors.push(ImportError::in_column(
                line,
                "held_on",
                "Ngày phải viết dạng YYYY-MM-DD hoặc DD/MM/YYYY.",
            ));
            None
        });
        let mut number = |name: &'static str| {
            whole(&cell(name)).unwrap_or_else(|()| {
                line_errors.push(ImportError::in_column(line, name, "Phải là một số nguyên."));
                None
            })
        };
        let audience = number("audience");
        let employers_reached = number("employers_reached");
        let campaign = opt("campaign");
        if let Some(c) = &campaign {
            if let Err(e) = super::text::check_plain("campaign", c, CAMPAIGN) {
                line_errors.push(ImportError::in_column(line, "campaign", &e.message));
            }
        }
        let draft = OutreachDraft {
            held_on,
            province_code: province(&cell("province_code")),
            commune: opt("commune"),
            form: cell("form").to_lowercase(),
            audience,
            employers_reached,
            note: opt("note"),
        };
        // a cell already refused is not judged twice
        let refused: Vec<String> = line_errors.iter().map(|e| e.message.clone()).collect();
        match check_entry(&draft, today) {
            Err(field_errors) => {
                for e in field_errors {
                    let column = format!("(cột {})", e.field);
                    if (e.field == "held_on" && held_on.is_none() && !cell("held_on").is_empty())
                        || refused.iter().any(|m| m.contains(&column))
                    {
                        continue;
                    }
                    line_errors.push(ImportError::in_column(line, &e.field, &e.message));
                }
            }
            Ok(entry) if line_errors.is_empty() => rows.push(OutreachImportRow {
                line,
                username,
                entry,
                campaign,
            }),
            Ok(_) => {}
        }
        errors.extend(line_errors);
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(ImportError::new(1, "Tệp không có hoạt động nào."));
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "username,held_on,province_code,commune,form,audience,employers_reached,campaign,note";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()
    }

    #[test]
    fn a_good_file_with_bom_and_crlf_gives_every_row_with_its_line() {
        let file = format!(
            "\u{feff}{HEADER}\r\nlan.tt,2027-05-20,01,Phường Ba Đình,door_to_door,40,3,Tháng 5,\r\n\
             \r\nlan.tt,21/05/2027,01,,conference,120.0,,,\"Hai dòng\r\nghi chú\"\r\n"
        );
        let (rows, errors) = parse_outreach_import(file.as_bytes(), today());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].campaign.as_deref(), Some("Tháng 5"));
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].entry.audience, 120);
        assert_eq!(
            rows[1].entry.held_on,
            NaiveDate::from_ymd_opt(2027, 5, 21).unwrap()
        );
    }

    #[test]
    fn each_bad_cell_is_named_with_its_line_and_column() {
        let file = format!(
            "{HEADER}\nlan.tt,2027-05-20,01,,door_to_door,40,,,\n\
             lan.tt,2027-13-01,01,,radio,0,,,\n,2027-06-02,123,,online,abc,,,\n\
             lan.tt,2027-05-21,1,,online,5,,,\n"
        );
        let (rows, errors) = parse_outreach_import(file.as_bytes(), today());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].entry.province_code, "01", "a spreadsheet's 1 is 01");
        let lines: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 3 && m.contains("cột held_on")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|(l, m)| *l == 3 && m.contains("cột form")));
        assert!(lines
            .iter()
            .any(|(l, m)| *l == 3 && m.contains("cột audience")));
        assert!(lines
            .iter()
            .any(|(l, m)| *l == 4 && m.contains("cột username")));
        assert!(lines
            .iter()
            .any(|(l, m)| *l == 4 && m.contains("cột held_on")));
        assert!(lines
            .iter()
            .any(|(l, m)| *l == 4 && m.contains("cột province_code")));
        assert_eq!(
            lines
                .iter()
                .filter(|(l, m)| *l == 4 && m.contains("cột audience"))
                .count(),
            1,
            "{lines:?}"
        );
    }

    #[test]
    fn a_missing_column_or_an_empty_file_is_said_on_line_one() {
        let (_, errors) = parse_outreach_import(b"username,held_on\n", today());
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].message.contains("province_code"));
        let (_, errors) = parse_outreach_import(format!("{HEADER}\n").as_bytes(), today());
        assert_eq!(errors[0].message, "Tệp không có hoạt động nào.");
    }
}
