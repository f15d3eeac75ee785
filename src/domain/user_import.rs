//! The CSV format for importing people, checked line by line before anything is written.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::people::{check_person, CheckedPerson, PersonInput};

/// The columns of an import file (any order; the header row names them).
pub const COLUMNS: [&str; 8] = [
    "username",
    "full_name",
    "date_of_birth",
    "national_id",
    "email",
    "organization_code",
    "category",
    "roles",
];

/// Largest file: 10 MiB.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// Most people in one file.
pub const MAX_ROWS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportError {
    /// Line of the file, the header being line 1.
    pub line: u64,
    pub message: String,
}

impl ImportError {
    pub fn new(line: u64, message: impl Into<String>) -> Self {
        ImportError {
            line,
            message: message.into(),
        }
    }

    /// A problem with one cell: the sentence, then the column it is in, by the header's name
    /// ("Số CCCD phải gồm đúng 12 chữ số (cột national_id).").
    pub fn in_column(line: u64, column: &str, message: &str) -> Self {
        let sentence = message.trim_end_matches('.');
        ImportError::new(line, format!("{sentence} (cột {column})."))
    }
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub person: CheckedPerson,
    pub organization_code: String,
}

/// Roles in one cell, separated by `;`, `|`, `,` or spaces.
fn split_roles(cell: &str) -> Vec<String> {
    cell.split(|c: char| c == ';' || c == '|' || c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses and checks a whole file: the rows that passed and every problem with its line. Any
/// problem anywhere fails the whole file, but the good rows are still checked against the
/// database so the caller hears of every problem at once.
pub fn parse_import(
    bytes: &[u8],
    today: NaiveDate,
    drawable: fn(char) -> bool,
) -> (Vec<ImportRow>, Vec<ImportError>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let Ok(header) = reader.headers().cloned() else {
        return (
            Vec::new(),
            vec![ImportError::new(
                1,
                "Không đọc được dòng tiêu đề (tệp có phải là CSV mã hóa UTF-8 không?).",
            )],
        );
    };
    let index: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_lowercase(), i))
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !index.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return (
            Vec::new(),
            vec![ImportError::new(
                1,
                format!("Dòng tiêu đề thiếu cột: {}.", missing.join(", ")),
            )],
        );
    }
    let col = |name: &str| index.get(name).copied().unwrap_or(usize::MAX);

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut usernames: HashMap<String, u64> = HashMap::new();
    let mut national_ids: HashMap<String, u64> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(n as u64 + 2, |p| p.line());
                errors.push(ImportError::new(
                    line,
                    "Không đọc được dòng này: số cột không đúng hoặc không phải UTF-8.",
                ));
                continue;
            }
        };
        let line = record.position().map_or(n as u64 + 2, |p| p.line());
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(ImportError::new(
                line,
                format!(
                    "Mỗi tệp chỉ được có tối đa {} người.",
                    super::labels::number(MAX_ROWS)
                ),
            ));
            break;
        }
        let cell = |name: &str| record.get(col(name)).unwrap_or("").to_string();
        let opt = |name: &str| Some(cell(name)).filter(|v| !v.is_empty());
        let input = PersonInput {
            username: cell("username"),
            full_name: cell("full_name"),
            date_of_birth: opt("date_of_birth"),
            national_id: opt("national_id"),
            email: opt("email"),
            category: cell("category"),
            roles: split_roles(&cell("roles")),
            password: None,
        };
        let organization_code = cell("organization_code").to_uppercase();
        match check_person(&input, today, drawable) {
            Err(field_errors) => {
                for e in field_errors {
                    errors.push(ImportError::in_column(line, &e.field, &e.message));
                }
            }
            Ok(person) => {
                if organization_code.is_empty() {
                    errors.push(ImportError::in_column(
                        line,
                        "organization_code",
                        "Mã đơn vị không được để trống.",
                    ));
                    continue;
                }
                if !super::organizations::is_code(&organization_code) {
                    errors.push(ImportError::in_column(
                        line,
                        "organization_code",
                        "Mã đơn vị không hợp lệ: chỉ gồm chữ cái không dấu, chữ số và dấu “-”.",
                    ));
                    continue;
                }
                if let Some(first) = usernames.insert(person.username.as_str().to_string(), line) {
                    errors.push(ImportError::in_column(
                        line,
                        "username",
                        &format!("Tên đăng nhập này đã có ở dòng {first}."),
                    ));
                    continue;
                }
                if let Some(nid) = &person.national_id {
                    if let Some(first) = national_ids.insert(nid.as_str().to_string(), line) {
                        errors.push(ImportError::in_column(
                            line,
                            "national_id",
                            &format!("Số CCCD này đã có ở dòng {first}."),
                        ));
                        continue;
                    }
                }
                rows.push(ImportRow {
                    line,
                    person,
                    organization_code,
                });
            }
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(ImportError::new(1, "Tệp không có người nào."));
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    const HEADER: &str =
        "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n";

    #[test]
    fn a_good_file_parses_with_line_numbers() {
        let csv = format!(
            "{HEADER}hang.nt,Nguyễn Thị Hằng,1985-04-12,001185012345,,BHXH-HN,civil_servant,trainee\n\
             tuan.lv,Lê Văn Tuấn,,,tuan@example.vn,hn-badinh,official,\"trainee;hr\"\n"
        );
        let (rows, errors) = parse_import(csv.as_bytes(), today(), |_| true);
        assert!(errors.is_empty());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[1].organization_code, "HN-BADINH");
        assert_eq!(rows[1].person.roles.len(), 2);
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number() {
        let csv = format!(
            "{HEADER}hang.nt,Nguyễn Thị Hằng,1985-04-12,,,BHXH-HN,civil_servant,trainee\n\
             tuan.lv,Lê Văn Tuấn,1978-08-25,001285012345,,BHXH-HN,official,trainee\n"
        );
        let errors = parse_import(csv.as_bytes(), today(), |_| true).1;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].message.ends_with("(cột national_id)."),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn duplicate_usernames_in_one_file_are_rejected() {
        let csv = format!(
            "{HEADER}hang.nt,Nguyễn Thị Hằng,,,,BHXH-HN,civil_servant,trainee\n\
             hang.nt,Nguyễn Thị Hằng,,,,BHXH-HN,civil_servant,trainee\n"
        );
        let errors = parse_import(csv.as_bytes(), today(), |_| true).1;
        assert_eq!(errors[0].line, 3);
    }

    #[test]
    fn a_missing_column_is_reported_on_line_one() {
        let errors = parse_import(b"username,full_name\nx,y\n", today(), |_| true).1;
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].message.contains("organization_code"));
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let csv =
            format!("\u{feff}{HEADER}hang.nt,Nguyễn Thị Hằng,,,,BHXH-HN,civil_servant,trainee\n");
        assert_eq!(parse_import(csv.as_bytes(), today(), |_| true).0.len(), 1);
    }
}
