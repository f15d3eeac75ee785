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

/// The line of the file a record starts on, counted from the bytes. The csv reader's own line
/// count is one short after a CRLF line end (the `\n` of `\r\n` is only consumed when the next
/// record starts), and spreadsheets on Windows write CRLF: every line named would be the one
/// before. Records come in order, so the count moves forward only (linear in the file).
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Bytes before `at` are counted; `line` is the line `at` is on.
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The line of the record whose position is `offset`: the first byte after it that is no
    /// line end (a record's position may be the `\n` of the line end before it, or blank lines
    /// the reader skips). `\r\n`, `\n` and a lone `\r` each end one line.
    fn line_at(&mut self, offset: u64) -> u64 {
        let len = self.bytes.len();
        let mut start = usize::try_from(offset).unwrap_or(len).min(len);
        while start < len && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        while self.at < start {
            match self.bytes[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

/// An uploaded CSV file read the way every import reads one: an optional byte-order mark, a
/// header row naming the columns in any order (case and surrounding spaces ignored), and each
/// record with the line of the file it starts on.
pub(crate) struct CsvUpload<'a> {
    reader: csv::Reader<&'a [u8]>,
    columns: HashMap<String, usize>,
    lines: LineCounter<'a>,
    read: u64,
}

/// One record of an upload, its cells found by the header's names.
pub(crate) struct CsvRecord<'f> {
    record: csv::StringRecord,
    columns: &'f HashMap<String, usize>,
}

impl CsvRecord<'_> {
    /// The cell of column `name`, trimmed; empty when the column is absent.
    pub(crate) fn cell(&self, name: &str) -> String {
        self.columns
            .get(name)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
            .to_string()
    }

    /// The cell of column `name`, or `None` when it is empty.
    pub(crate) fn optional(&self, name: &str) -> Option<String> {
        Some(self.cell(name)).filter(|v| !v.is_empty())
    }
}

impl<'a> CsvUpload<'a> {
    /// Opens `bytes`, or the problem with its header (line 1): unreadable, or without one of
    /// the `required` columns.
    pub(crate) fn open(bytes: &'a [u8], required: &[&str]) -> Result<Self, ImportError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let header = reader.headers().cloned().map_err(|_| {
            ImportError::new(
                1,
                "Không đọc được dòng tiêu đề (tệp có phải là CSV mã hóa UTF-8 không?).",
            )
        })?;
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_lowercase(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !columns.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::new(
                1,
                format!("Dòng tiêu đề thiếu cột: {}.", missing.join(", ")),
            ));
        }
        Ok(CsvUpload {
            reader,
            columns,
            lines: LineCounter::new(bytes),
            read: 0,
        })
    }

    /// The next record and its line, or the line that could not be read (wrong number of
    /// cells, not UTF-8); `None` at the end of the file.
    pub(crate) fn next_record(&mut self) -> Option<Result<(u64, CsvRecord<'_>), ImportError>> {
        let mut record = csv::StringRecord::new();
        let fallback = self.read + 2;
        self.read += 1;
        match self.reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(fallback, |p| self.lines.line_at(p.byte()));
                Some(Ok((
                    line,
                    CsvRecord {
                        record,
                        columns: &self.columns,
                    },
                )))
            }
            Err(e) => {
                let line = e
                    .position()
                    .map_or(fallback, |p| self.lines.line_at(p.byte()));
                Some(Err(ImportError::new(
                    line,
                    "Không đọc được dòng này: số cột không đúng hoặc không phải UTF-8.",
                )))
            }
        }
    }
}

/// The problem of a file longer than `max` rows of `what` ("người", "hoạt động"), at `line`.
pub(crate) fn too_many_rows(line: u64, max: usize, what: &str) -> ImportError {
    ImportError::new(
        line,
        format!(
            "Mỗi tệp chỉ được có tối đa {} {what}.",
            super::labels::number(max)
        ),
    )
}

/// Parses and checks a whole file: the rows that passed and every problem with its line. Any
/// problem anywhere fails the whole file, but the good rows are still checked against the
/// database so the caller hears of every problem at once.
pub fn parse_import(
    bytes: &[u8],
    today: NaiveDate,
    drawable: fn(char) -> bool,
) -> (Vec<ImportRow>, Vec<ImportError>) {
    let mut file = match CsvUpload::open(bytes, &COLUMNS) {
        Ok(file) => file,
        Err(header) => return (Vec::new(), vec![header]),
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut usernames: HashMap<String, u64> = HashMap::new();
    let mut national_ids: HashMap<String, u64> = HashMap::new();
    while let Some(next) = file.next_record() {
        let (line, record) = match next {
            Ok(found) => found,
            Err(unreadable) => {
                errors.push(unreadable);
                continue;
            }
        };
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(too_many_rows(line, MAX_ROWS, "người"));
            break;
        }
        let cell = |name: &str| record.cell(name);
        let opt = |name: &str| record.optional(name);
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
    fn lines_are_numbered_alike_whatever_ends_them() {
        let rows = "hang.nt,Nguyễn Thị Hằng,,,,BHXH-HN,civil_servant,trainee\n\
                    tuan.lv,Lê Văn Tuấn,,,,BHXH-HN,official,king\n\n\
                    an.lv,Lê Văn An,,,,BHXH-HN,official,trainee\n";
        for end in ["\n", "\r\n", "\r"] {
            let csv = format!("{HEADER}{rows}").replace('\n', end);
            let (parsed, errors) = parse_import(csv.as_bytes(), today(), |_| true);
            let lines: Vec<u64> = parsed.iter().map(|r| r.line).collect();
            assert_eq!(lines, vec![2, 5], "{end:?}");
            assert_eq!(errors.len(), 1, "{end:?}");
            assert_eq!(errors[0].line, 3, "{end:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let csv =
            format!("\u{feff}{HEADER}hang.nt,Nguyễn Thị Hằng,,,,BHXH-HN,civil_servant,trainee\n");
        assert_eq!(parse_import(csv.as_bytes(), today(), |_| true).0.len(), 1);
    }
}

/// Properties of the parser over any input: it reports, line by line, or parses cleanly, and
/// never panics. The service-level half (nothing written unless the whole file is clean) is in
/// `tests/api/import_properties.rs`.
#[cfg(test)]
mod proptests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::people::Category;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    use crate::domain::proptest_config as config;

    /// What any result must look like: something is always said, every error names a line of
    /// the file and a sentence, and the parsed rows come in file order, after the header.
    fn well_formed(rows: &[ImportRow], errors: &[ImportError]) -> Result<(), TestCaseError> {
        prop_assert!(!(rows.is_empty() && errors.is_empty()), "silent result");
        for e in errors {
            prop_assert!(e.line >= 1);
            prop_assert!(!e.message.trim().is_empty());
        }
        for pair in rows.windows(2) {
            prop_assert!(pair[0].line < pair[1].line);
        }
        prop_assert!(rows.iter().all(|r| r.line >= 2));
        Ok(())
    }

    /// One cell of a generated row: its text and whether the rules accept it.
    #[derive(Debug, Clone)]
    struct Cell {
        text: String,
        valid: bool,
    }

    fn good(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            valid: true,
        }
    }

    fn bad(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            valid: false,
        }
    }

    const SYLLABLES: [&str; 12] = [
        "Nguyễn", "Thị", "Hằng", "Lê", "Văn", "Tuấn", "Đặng", "Ánh", "Phạm", "Quỳnh", "Trương",
        "Ngọc",
    ];

    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(&SYLLABLES[..]), 1..5)
            .prop_map(|words| words.join(" "))
    }

    /// A data row `i` (file line `i + 2`): every cell either valid or broken in one of the ways
    /// people break them; usernames and CCCDs are unique by construction.
    fn row(i: usize) -> impl Strategy<Value = Vec<Cell>> {
        let username = prop_oneof![
            4 => Just(good(format!("nguoi{i}.nt"))),
            1 => Just(good(format!("NGUOI{i}.NT"))),
            1 => Just(bad("ab")),
            1 => Just(bad(format!("hằng{i}"))),
            1 => Just(bad("")),
            1 => Just(bad(format!(".an{i}"))),
        ];
        let full_name = prop_oneof![
            6 => name().prop_map(good),
            1 => name().prop_map(|n| bad(format!("{n} 2"))),
            1 => Just(bad("")),
            1 => name().prop_map(|n| bad(format!("{n}\u{7}"))),
            1 => name().prop_map(|n| bad(format!("{n}\u{202E}"))),
            1 => Just(bad("ă".repeat(81))),
        ];
        // (cell, the birth year it gives, when valid)
        let birth = prop_oneof![
            3 => Just((good(""), None)),
            // after 1 January 1900 and before today (28 November 2026): other dates are errors
            4 => (1900i32..=2025, 1u32..=12, 2u32..=28)
                .prop_map(|(y, m, d)| (good(format!("{y:04}-{m:02}-{d:02}")), Some(y))),
            1 => Just((bad("12/04/1985"), None)),
            1 => Just((bad("2030-01-01"), None)),
            1 => Just((bad("1985-02-30"), None)),
            1 => Just((bad("1899-12-31"), None)),
        ];
        let email = prop_oneof![
            4 => Just(good("")),
            2 => Just(good(format!("nguoi{i}@bhxh.gov.vn"))),
            1 => Just(bad("hang@@bhxh.vn")),
            1 => Just(bad("hang@bhxh")),
        ];
        let organization = prop_oneof![
            4 => Just(good("BHXH-HN")),
            1 => Just(good("bhxh-hn")),
            1 => Just(bad("")),
            1 => Just(bad("BHXH HN")),
            1 => Just(bad("-HN")),
        ];
        let category = prop_oneof![
            4 => proptest::sample::select(&Category::ALL[..]).prop_map(|c| good(c.as_str())),
            1 => Just(bad("boss")),
        ];
        let roles = prop_oneof![
            3 => Just(good("trainee")),
            1 => Just(good("trainee;hr")),
            1 => Just(good("trainee | coordinator")),
            1 => Just(good("")),
            1 => Just(bad("king")),
            1 => Just(bad("trainee;root")),
        ];
        // CCCD: 0 none, 1 valid, 2 too short, 3 bad province, 4 wrong century for the year
        let national_id_kind = prop_oneof![3 => Just(0u8), 3 => Just(1u8), 1 => 2u8..=4];
        (
            username,
            full_name,
            birth,
            email,
            organization,
            category,
            roles,
            national_id_kind,
            1u32..=96,
        )
            .prop_map(
                move |(
                    username,
                    full_name,
                    (birth, year),
                    email,
                    org,
                    category,
                    roles,
                    kind,
                    province,
                )| {
                    // a birth year in the CCCD when there is none in the row (1900–2099)
                    let year_or_default = year.unwrap_or(1990);
                    let century = (year_or_default / 100 - 19) as u32 * 2;
                    let yy = year_or_default % 100;
                    let seq = format!("{i:06}");
                    let national_id = match kind {
                        0 => good(""),
                        1 => good(format!("{province:03}{century}{yy:02}{seq}")),
                        2 => bad(format!("{province:03}{century}{yy:02}{}", &seq[1..])),
                        3 => bad(format!("{:03}{century}{yy:02}{seq}", 97 + province)),
                        // with a birth date, another century; without, one past 2099
                        _ => {
                            let wrong = if year.is_some() {
                                (century + 2) % 10
                            } else {
                                4
                            };
                            bad(format!("{province:03}{wrong}{yy:02}{seq}"))
                        }
                    };
                    // a valid CCCD agrees with an invalid birth date only by chance: the date's
                    // error alone is then expected, which keeps the row invalid either way
                    vec![
                        username,
                        full_name,
                        birth,
                        national_id,
                        email,
                        org,
                        category,
                        roles,
                    ]
                },
            )
    }

    /// A whole file: a header in any column order, rows, and the lines expected to fail.
    struct File {
        bytes: Vec<u8>,
        rows: usize,
        bad_lines: BTreeSet<u64>,
    }

    impl std::fmt::Debug for File {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "{:?} (bad lines {:?})",
                String::from_utf8_lossy(&self.bytes),
                self.bad_lines
            )
        }
    }

    fn file() -> impl Strategy<Value = File> {
        (1usize..12)
            .prop_flat_map(|n| {
                let rows: Vec<_> = (0..n).map(row).collect();
                (
                    rows,
                    Just(COLUMNS.to_vec()).prop_shuffle(),
                    proptest::collection::vec(0u8..8, n),
                    any::<bool>(),
                    any::<bool>(),
                )
            })
            .prop_map(|(rows, order, shapes, crlf, bom)| {
                let end = if crlf { "\r\n" } else { "\n" };
                let mut text = String::new();
                if bom {
                    text.push('\u{feff}');
                }
                text.push_str(&order.join(","));
                text.push_str(end);
                let mut bad_lines = BTreeSet::new();
                for (i, (cells, shape)) in rows.iter().zip(&shapes).enumerate() {
                    let mut valid = cells.iter().all(|c| c.valid);
                    let mut out: Vec<String> = order
                        .iter()
                        .map(|column| {
                            let at = COLUMNS.iter().position(|c| c == column).unwrap_or(0);
                            let cell = &cells[at].text;
                            match shape {
                                // quoted, or padded with spaces (both read the same)
                                1 => format!("\"{}\"", cell.replace('"', "\"\"")),
                                2 => format!("  {cell} "),
                                _ => cell.clone(),
                            }
                        })
                        .collect();
                    match shape {
                        // a cell too many or too few
                        6 => {
                            out.push("thừa".into());
                            valid = false;
                        }
                        7 => {
                            out.pop();
                            valid = false;
                        }
                        _ => {}
                    }
                    if !valid {
                        bad_lines.insert(i as u64 + 2);
                    }
                    text.push_str(&out.join(","));
                    text.push_str(end);
                }
                File {
                    bytes: text.into_bytes(),
                    rows: rows.len(),
                    bad_lines,
                }
            })
    }

    proptest! {
        #![proptest_config(config(512))]

        #[test]
        fn any_bytes_give_line_errors_or_a_clean_parse_never_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..1024)
        ) {
            let (rows, errors) = parse_import(&bytes, today(), |_| true);
            well_formed(&rows, &errors)?;
        }

    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn any_bytes_after_a_valid_header_give_line_errors_or_a_clean_parse(
            body in proptest::collection::vec(
                prop_oneof![
                    4 => any::<u8>(),
                    2 => Just(b','),
                    1 => Just(b'"'),
                    1 => Just(b'\n'),
                    1 => Just(b'\r'),
                ],
                0..1024,
            )
        ) {
            let mut bytes = COLUMNS.join(",").into_bytes();
            bytes.push(b'\n');
            bytes.extend_from_slice(&body);
            let (rows, errors) = parse_import(&bytes, today(), |_| true);
            well_formed(&rows, &errors)?;
            // a header alone is an empty file, said on line 1; anything else is about a data line
            prop_assert!(errors.iter().all(|e| e.line >= 2) || errors.len() == 1);
        }
    }

    proptest! {
        #![proptest_config(config(128))]

        #[test]
        fn a_near_valid_file_fails_exactly_on_its_broken_lines(file in file()) {
            let (rows, errors) = parse_import(&file.bytes, today(), |_| true);
            well_formed(&rows, &errors)?;
            let error_lines: BTreeSet<u64> = errors.iter().map(|e| e.line).collect();
            let row_lines: BTreeSet<u64> = rows.iter().map(|r| r.line).collect();
            prop_assert_eq!(&error_lines, &file.bad_lines, "errors: {:?}", errors);
            prop_assert_eq!(rows.len() + error_lines.len(), file.rows);
            prop_assert!(row_lines.is_disjoint(&error_lines));
            for r in &rows {
                prop_assert!(is_code_like(&r.organization_code), "{}", r.organization_code);
            }
        }
    }

    fn is_code_like(code: &str) -> bool {
        super::super::organizations::is_code(code)
    }
}
