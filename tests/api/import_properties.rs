//! The CSV import as a property over a real database (`POST /api/v1/users/import`): a file with
//! any error, wherever it is found (the format, a rule, the scope, a grant), changes nothing and
//! names exactly its bad lines; a clean file creates exactly its lines. The parser's own
//! properties (any bytes, never a panic) are in `src/domain/user_import.rs`.
//!
//! One app and one database for all cases: every case's usernames and CCCDs are made unique by
//! the case's number, so a case never depends on the ones before it, and proptest can shrink a
//! failing file (its inputs are printed, not persisted).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::harness::{spawn_app, TestApp};

const HEADER: &str =
    "username,full_name,date_of_birth,national_id,email,organization_code,category,roles";

/// What one line of a generated file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// A new person, no CCCD.
    Person,
    /// A new person with a CCCD that matches the birth date.
    PersonWithCccd,
    /// A new person in a unit written in lower case (`bhxh-hn`), with several roles separators.
    PersonLowerCaseUnit,
    // errors found while parsing
    CccdOfAnotherYear,
    DateNotIso,
    UnknownCategory,
    UnknownRole,
    NameWithDigit,
    EmptyName,
    BadEmail,
    CellTooMany,
    NotUtf8,
    /// The same username as the line before (which may itself be good or bad).
    RepeatsLineBefore,
    // errors found against the database
    UnknownOrganization,
    OrganizationOutOfScope,
    RoleNotGrantable,
    UsernameOfSomeoneOutOfScope,
}

impl Line {
    fn is_good(self) -> bool {
        matches!(
            self,
            Line::Person | Line::PersonWithCccd | Line::PersonLowerCaseUnit
        )
    }
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => Just(Line::Person),
        4 => Just(Line::PersonWithCccd),
        2 => Just(Line::PersonLowerCaseUnit),
        1 => Just(Line::CccdOfAnotherYear),
        1 => Just(Line::DateNotIso),
        1 => Just(Line::UnknownCategory),
        1 => Just(Line::UnknownRole),
        1 => Just(Line::NameWithDigit),
        1 => Just(Line::EmptyName),
        1 => Just(Line::BadEmail),
        1 => Just(Line::CellTooMany),
        1 => Just(Line::NotUtf8),
        1 => Just(Line::RepeatsLineBefore),
        1 => Just(Line::UnknownOrganization),
        1 => Just(Line::OrganizationOutOfScope),
        1 => Just(Line::RoleNotGrantable),
        1 => Just(Line::UsernameOfSomeoneOutOfScope),
    ]
}

/// A file: half the time every line is good (so clean files are tried as often as broken ones),
/// its lines ended by `\n` or, as spreadsheets on Windows write them, `\r\n`.
fn plan() -> impl Strategy<Value = (Vec<Line>, bool)> {
    let lines = prop_oneof![
        proptest::collection::vec(
            prop_oneof![
                3 => Just(Line::Person),
                2 => Just(Line::PersonWithCccd),
                1 => Just(Line::PersonLowerCaseUnit),
            ],
            1..8,
        ),
        proptest::collection::vec(line(), 1..8),
    ];
    (lines, any::<bool>())
}

const GIVEN: [&str; 6] = [
    "Nguyễn Thị",
    "Lê Văn",
    "Trần Thị",
    "Phạm Văn",
    "Đặng Ngọc",
    "Hoàng",
];
const FAMILY: [&str; 6] = ["Hằng", "Tuấn", "Ánh", "Quỳnh", "Đức", "Bình"];

/// The bytes of the file for case `case`, and the lines (1 = header) expected to be refused.
fn render(case: usize, plan: &[Line], crlf: bool) -> (Vec<u8>, BTreeSet<u64>) {
    let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(end);
    let mut bad = BTreeSet::new();
    let mut previous: Option<Vec<u8>> = None;
    for (i, kind) in plan.iter().enumerate() {
        let line_number = i as u64 + 2;
        let username = format!("tc{case}.r{i}");
        let name = format!("{} {}", GIVEN[i % 6], FAMILY[(case + i) % 6]);
        let year = 1960 + ((case * 7 + i) % 45);
        let dob = format!("{year}-0{}-1{}", 1 + i % 9, i % 10);
        let century = (year / 100 - 19) * 2 + i % 2;
        // unique across the whole run: the case and the line in the sequence digits
        let cccd = format!("001{century}{:02}{:06}", year % 100, case * 10 + i);
        let wrong_year_cccd = format!("001{century}{:02}{:06}", (year + 1) % 100, case * 10 + i);
        let cells: Vec<String> = match kind {
            Line::Person => vec![
                &username, &name, &dob, "", "", "BHXH-HN", "official", "trainee",
            ]
            .into_iter()
            .map(str::to_string)
            .collect(),
            Line::PersonWithCccd => fields(&username, &name, &dob, &cccd, "BHXH-HN", "trainee"),
            Line::PersonLowerCaseUnit => {
                fields(&username, &name, "", "", "bhxh-hn", " trainee ; trainee")
            }
            Line::CccdOfAnotherYear => fields(
                &username,
                &name,
                &dob,
                &wrong_year_cccd,
                "BHXH-HN",
                "trainee",
            ),
            Line::DateNotIso => fields(&username, &name, "12/04/1985", "", "BHXH-HN", "trainee"),
            Line::UnknownCategory => {
                let mut c = fields(&username, &name, &dob, "", "BHXH-HN", "trainee");
                c[6] = "boss".into();
                c
            }
            Line::UnknownRole => fields(&username, &name, &dob, "", "BHXH-HN", "trainee;king"),
            Line::NameWithDigit => fields(
                &username,
                &format!("{name} 2"),
                &dob,
                "",
                "BHXH-HN",
                "trainee",
            ),
            Line::EmptyName => fields(&username, "", &dob, "", "BHXH-HN", "trainee"),
            Line::BadEmail => {
                let mut c = fields(&username, &name, &dob, "", "BHXH-HN", "trainee");
                c[4] = "hang@@bhxh.vn".into();
                c
            }
            Line::CellTooMany => {
                let mut c = fields(&username, &name, &dob, "", "BHXH-HN", "trainee");
                c.push("thừa".into());
                c
            }
            Line::NotUtf8 => fields(&username, "\u{FFFD}", &dob, "", "BHXH-HN", "trainee"),
            Line::RepeatsLineBefore => Vec::new(),
            Line::UnknownOrganization => {
                fields(&username, &name, &dob, "", "BHXH-KHONGCO", "trainee")
            }
            Line::OrganizationOutOfScope => {
                fields(&username, &name, &dob, "", "BHXH-HCM", "trainee")
            }
            Line::RoleNotGrantable => fields(&username, &name, &dob, "", "BHXH-HN", "trainee;hr"),
            Line::UsernameOfSomeoneOutOfScope => {
                fields(OUTSIDER, &name, &dob, "", "BHXH-HN", "trainee")
            }
        };
        let mut row = if *kind == Line::RepeatsLineBefore {
            previous.clone().unwrap_or_else(|| {
                // nothing before it: a repeat of nothing is a line of the wrong width
                "tc-lap,Lê Văn Lặp".as_bytes().to_vec()
            })
        } else {
            cells.join(",").into_bytes()
        };
        if *kind == Line::NotUtf8 {
            // the name's U+FFFD stands for a byte that is no UTF-8 at all
            let at = row
                .windows(3)
                .position(|w| w == "\u{FFFD}".as_bytes())
                .unwrap_or(0);
            row.splice(at..at + 3, [0xFFu8, 0xFE]);
        }
        if !kind.is_good() {
            bad.insert(line_number);
        }
        bytes.extend_from_slice(&row);
        bytes.extend_from_slice(end);
        previous = Some(row);
    }
    (bytes, bad)
}

fn fields(
    username: &str,
    name: &str,
    dob: &str,
    cccd: &str,
    organization: &str,
    roles: &str,
) -> Vec<String> {
    [
        username,
        name,
        dob,
        cccd,
        "",
        organization,
        "civil_servant",
        roles,
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

/// A person of another branch: their username is taken, and not the importer's to update.
const OUTSIDER: &str = "ngoai.hcm";

/// Everything an import could have written.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    users: i64,
    roles: i64,
    cccds: i64,
    imports: i64,
}

fn footprint(app: &TestApp) -> Footprint {
    Footprint {
        users: app.count("SELECT count(*) AS n FROM users"),
        roles: app.count("SELECT count(*) AS n FROM user_roles"),
        cccds: app.count("SELECT count(*) AS n FROM users WHERE national_id_index IS NOT NULL"),
        imports: app
            .count("SELECT count(*) AS n FROM audit_events WHERE action = 'users_imported'"),
    }
}

async fn check(
    app: &TestApp,
    hr: &str,
    case: usize,
    (plan, crlf): &(Vec<Line>, bool),
) -> Result<(), TestCaseError> {
    let (bytes, bad) = render(case, plan, *crlf);
    let before = footprint(app);
    let answer = app
        .post_raw("/api/v1/users/import", Some(hr), "text/csv", bytes.clone())
        .await;
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    prop_assert_eq!(answer.status.as_u16(), 200, "{}", body);
    let after = footprint(app);
    let errors = answer.json["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let error_lines: BTreeSet<u64> = errors.iter().filter_map(|e| e["line"].as_u64()).collect();
    prop_assert!(
        errors
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
        "{}",
        body
    );
    if bad.is_empty() {
        prop_assert!(errors.is_empty(), "{}", body);
        prop_assert_eq!(
            answer.json["created"].as_u64(),
            Some(plan.len() as u64),
            "{}",
            body
        );
        prop_assert_eq!(answer.json["updated"].as_u64(), Some(0));
        let made = app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE username LIKE 'tc{case}.r%'"
        ));
        prop_assert_eq!(made, plan.len() as i64);
        prop_assert_eq!(after.users, before.users + plan.len() as i64);
        // each line holds exactly one role (`trainee`, however it is written)
        prop_assert_eq!(after.roles, before.roles + plan.len() as i64);
        let with_cccd = plan.iter().filter(|l| **l == Line::PersonWithCccd).count() as i64;
        prop_assert_eq!(after.cccds, before.cccds + with_cccd);
        prop_assert_eq!(after.imports, before.imports + 1);
    } else {
        prop_assert_eq!(
            &error_lines,
            &bad,
            "{}\n{}",
            body,
            String::from_utf8_lossy(&bytes)
        );
        prop_assert_eq!(answer.json["created"].as_u64(), Some(0));
        prop_assert_eq!(answer.json["updated"].as_u64(), Some(0));
        prop_assert_eq!(&after, &before, "a refused file wrote something");
    }
    Ok(())
}

#[test]
fn a_file_with_any_error_changes_nothing_and_a_clean_one_creates_exactly_its_lines() {
    let system = actix_rt::System::new();
    let (app, hr) = system.block_on(async {
        let app = spawn_app().await;
        app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
        app.person(OUTSIDER, "BHXH-HCM", &["trainee"], "official");
        let hr = app.login("nhansu.hn").await;
        (app, hr)
    });
    let cases = AtomicUsize::new(0);
    let clean = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&plan(), |plan| {
        let case = cases.fetch_add(1, Ordering::Relaxed);
        if plan.0.iter().all(|l| l.is_good()) {
            clean.fetch_add(1, Ordering::Relaxed);
        }
        system.block_on(check(&app, &hr, case, &plan))
    });
    system.block_on(app.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
    // both halves of the property were exercised
    let (all, clean) = (cases.into_inner(), clean.into_inner());
    assert!(clean > 0 && clean < all, "{clean} clean files of {all}");
    assert!(app.count("SELECT count(*) AS n FROM users WHERE username LIKE 'tc%'") > 0);
}

#[test]
fn any_bytes_uploaded_as_a_file_are_refused_by_line_without_a_write_or_imported_whole() {
    let system = actix_rt::System::new();
    let (app, hr) = system.block_on(async {
        let app = spawn_app().await;
        app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
        let hr = app.login("nhansu.hn").await;
        (app, hr)
    });
    let bytes = (
        any::<bool>(),
        proptest::collection::vec(
            prop_oneof![
                4 => any::<u8>(),
                2 => Just(b','),
                1 => Just(b'"'),
                1 => Just(b'\n'),
            ],
            0..2048,
        ),
    )
        .prop_map(|(with_header, body)| {
            let mut file = if with_header {
                format!("{HEADER}\n").into_bytes()
            } else {
                Vec::new()
            };
            file.extend_from_slice(&body);
            file
        });
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&bytes, |file| {
        system.block_on(async {
            let before = footprint(&app);
            let answer = app
                .post_raw("/api/v1/users/import", Some(&hr), "text/csv", file)
                .await;
            let body = String::from_utf8_lossy(&answer.body).into_owned();
            prop_assert_eq!(answer.status.as_u16(), 200, "{}", body);
            let after = footprint(&app);
            let errors = answer.json["errors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let created = answer.json["created"].as_i64().unwrap_or(-1);
            if errors.is_empty() {
                prop_assert!(created > 0, "{}", body);
                prop_assert_eq!(after.users, before.users + created);
            } else {
                prop_assert!(errors
                    .iter()
                    .all(|e| e["line"].as_u64().is_some_and(|l| l >= 1)));
                prop_assert_eq!(created, 0);
                prop_assert_eq!(&after, &before, "a refused file wrote something");
            }
            Ok(())
        })
    });
    system.block_on(app.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}
