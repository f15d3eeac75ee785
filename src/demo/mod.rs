//! Demo data for a newcomer (`cascade seed-demo`, `cascade serve --demo`) and the first
//! administrator (`cascade create-admin`). Running the seed twice changes nothing.

use diesel::prelude::*;
use diesel::upsert::excluded;
use uuid::Uuid;

pub mod training;

use crate::auth::password;
use crate::db::schema::{organizations, user_roles, users};
use crate::domain::people::{check_new_password, Category, FullName, NationalId, Role, Username};
use crate::error::AppError;
use crate::privacy::DataKey;

/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "cascade-demo-2027";

/// A demo login to print.
pub struct DemoLogin {
    pub username: &'static str,
    pub full_name: &'static str,
    pub organization: &'static str,
    pub roles: &'static [Role],
}

struct DemoUnit {
    code: &'static str,
    name: &'static str,
    parent: &'static str,
    province: &'static str,
}

const UNITS: &[DemoUnit] = &[
    DemoUnit {
        code: "HN-BADINH",
        name: "Ủy ban nhân dân phường Ba Đình",
        parent: "BHXH-HN",
        province: "01",
    },
    DemoUnit {
        code: "HCM-BENTHANH",
        name: "Ủy ban nhân dân phường Bến Thành",
        parent: "BHXH-HCM",
        province: "79",
    },
    DemoUnit {
        code: "DNG-HAICHAU",
        name: "Ủy ban nhân dân phường Hải Châu",
        parent: "BHXH-DNG",
        province: "48",
    },
];

struct DemoPerson {
    login: DemoLogin,
    category: Category,
    date_of_birth: (i32, u32, u32),
}

const fn person(
    username: &'static str,
    full_name: &'static str,
    organization: &'static str,
    roles: &'static [Role],
    category: Category,
    date_of_birth: (i32, u32, u32),
) -> DemoPerson {
    DemoPerson {
        login: DemoLogin {
            username,
            full_name,
            organization,
            roles,
        },
        category,
        date_of_birth,
    }
}

const PEOPLE: &[DemoPerson] = &[
    person(
        "quantri",
        "Lê Minh Quân",
        "BNV",
        &[Role::Admin],
        Category::CivilServant,
        (1979, 3, 2),
    ),
    person(
        "dieuphoi.bnv",
        "Phạm Thu Hà",
        "BNV",
        &[Role::Coordinator],
        Category::CivilServant,
        (1983, 7, 19),
    ),
    person(
        "dieuphoi.bhxh",
        "Vũ Đức Thắng",
        "BHXH",
        &[Role::Coordinator],
        Category::PublicEmployee,
        (1981, 11, 5),
    ),
    person(
        "dieuphoi.hn",
        "Trần Quốc Bảo",
        "BHXH-HN",
        &[Role::Coordinator],
        Category::PublicEmployee,
        (1986, 1, 23),
    ),
    person(
        "dieuphoi.hcm",
        "Nguyễn Thị Mai",
        "BHXH-HCM",
        &[Role::Coordinator],
        Category::PublicEmployee,
        (1988, 9, 14),
    ),
    person(
        "dieuphoi.dng",
        "Hoàng Văn Nam",
        "BHXH-DNG",
        &[Role::Coordinator],
        Category::PublicEmployee,
        (1984, 5, 30),
    ),
    person(
        "nhansu.hn",
        "Đỗ Thị Lan",
        "BHXH-HN",
        &[Role::Hr],
        Category::PublicEmployee,
        (1990, 2, 8),
    ),
    person(
        "nhansu.hcm",
        "Lý Văn Hùng",
        "BHXH-HCM",
        &[Role::Hr],
        Category::PublicEmployee,
        (1987, 12, 1),
    ),
    person(
        "giang.nv",
        "Nguyễn Văn Giảng",
        "BHXH-HN",
        &[Role::Trainee],
        Category::PublicEmployee,
        (1980, 6, 17),
    ),
    person(
        "thao.pt",
        "Phan Thị Thảo",
        "BHXH-HCM",
        &[Role::Trainee],
        Category::PublicEmployee,
        (1985, 10, 3),
    ),
    person(
        "hang.nt",
        "Nguyễn Thị Hằng",
        "HN-BADINH",
        &[Role::Trainee],
        Category::CivilServant,
        (1985, 4, 12),
    ),
    person(
        "tuan.lv",
        "Lê Văn Tuân",
        "HN-BADINH",
        &[Role::Trainee],
        Category::Official,
        (1978, 8, 25),
    ),
    person(
        "ngoc.bt",
        "Bùi Thị Ngọc",
        "HN-BADINH",
        &[Role::Trainee],
        Category::ReputablePerson,
        (1962, 3, 9),
    ),
    person(
        "khoa.dm",
        "Đặng Minh Khoa",
        "HCM-BENTHANH",
        &[Role::Trainee],
        Category::CivilServant,
        (1992, 12, 20),
    ),
    person(
        "yen.vh",
        "Võ Hải Yến",
        "HCM-BENTHANH",
        &[Role::Trainee],
        Category::PublicEmployee,
        (1995, 7, 7),
    ),
    person(
        "son.tt",
        "Trịnh Thanh Sơn",
        "DNG-HAICHAU",
        &[Role::Trainee],
        Category::Official,
        (1983, 4, 28),
    ),
];

fn connect(url: &str) -> Result<PgConnection, String> {
    PgConnection::establish(url).map_err(|e| format!("cannot connect to the database: {e}"))
}

fn organization_id(conn: &mut PgConnection, code: &str) -> Result<Uuid, AppError> {
    organizations::table
        .filter(organizations::code.eq(code))
        .select(organizations::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::internal(format!("no organisation with code {code}")))
}

/// Loads the demo; returns the logins that now exist.
/// A demo CCCD that passes the rules for a person born in `year`: province 001, the century
/// digit and year of birth, then a sequence number of the demo's own.
fn demo_national_id(sequence: usize, year: i32) -> String {
    let century = if year < 2000 { 0 } else { 2 };
    format!(
        "001{century}{:02}{:06}",
        year.rem_euclid(100),
        100 + sequence
    )
}

/// Loads the demo, its CCCDs sealed under `key`.
pub fn seed(
    url: &str,
    key: &DataKey,
    issuer: &crate::certificates::Issuer,
) -> Result<Vec<&'static DemoLogin>, String> {
    let mut conn = connect(url)?;
    let hash = password::hash_blocking(DEMO_PASSWORD).map_err(|e| e.to_string())?;
    conn.transaction::<_, AppError, _>(|conn| {
        for unit in UNITS {
            let parent = organization_id(conn, unit.parent)?;
            diesel::insert_into(organizations::table)
                .values((
                    organizations::code.eq(unit.code),
                    organizations::name.eq(unit.name),
                    organizations::kind.eq("unit"),
                    organizations::parent_id.eq(parent),
                    organizations::province_code.eq(unit.province),
                ))
                .on_conflict(organizations::code)
                .do_nothing()
                .execute(conn)?;
        }
        // signers, so certificates of the demo carry real-looking names
        for (code, signer) in [
            ("BNV", "Nguyễn Văn Ký"),
            ("BHXH", "Trần Thị Bình"),
            ("BHXH-HN", "Trần Văn Ký"),
            ("BHXH-HCM", "Lê Thị Phương"),
            ("BHXH-DNG", "Phạm Văn Đà"),
        ] {
            diesel::update(organizations::table.filter(organizations::code.eq(code)))
                .filter(organizations::signer_name.is_null())
                .set(organizations::signer_name.eq(signer))
                .execute(conn)?;
        }
        for (sequence, p) in PEOPLE.iter().enumerate() {
            let org = organization_id(conn, p.login.organization)?;
            let name =
                FullName::parse(p.login.full_name).map_err(|e| AppError::Validation(vec![e]))?;
            let (y, m, d) = p.date_of_birth;
            let dob = chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
                AppError::internal(format!("bad demo date for {}", p.login.username))
            })?;
            let national_id = NationalId::parse(&demo_national_id(sequence, y), Some(dob))
                .map_err(|e| AppError::Validation(vec![e]))?;
            diesel::insert_into(users::table)
                .values((
                    users::username.eq(p.login.username),
                    users::full_name.eq(name.as_str()),
                    users::name_search.eq(name.search_key()),
                    users::date_of_birth.eq(dob),
                    users::organization_id.eq(org),
                    users::category.eq(p.category.as_str()),
                    users::national_id_cipher.eq(key.seal_national_id(national_id.as_str())),
                    users::national_id_index.eq(key.national_id_index(national_id.as_str())),
                    users::password_hash.eq(&hash),
                ))
                .on_conflict(users::username)
                .do_nothing()
                .execute(conn)?;
            let user_id: Uuid = users::table
                .filter(users::username.eq(p.login.username))
                .select(users::id)
                .first(conn)?;
            for role in p.login.roles {
                diesel::insert_into(user_roles::table)
                    .values((
                        user_roles::user_id.eq(user_id),
                        user_roles::role.eq(role.as_str()),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)?;
            }
        }
        Ok(())
    })
    .map_err(describe)?;
    conn.transaction::<_, AppError, _>(|conn| training::seed(conn, key, issuer))
        .map_err(describe)?;
    training::store_missing_digests(&mut conn, issuer).map_err(describe)?;
    // the demo writes some of its history straight into the tables: the reports' summaries
    // are recomputed from them
    crate::reports::summaries::rebuild(&mut conn).map_err(describe)?;
    Ok(PEOPLE.iter().map(|p| &p.login).collect())
}

pub fn print_logins(logins: &[&DemoLogin]) {
    println!("Demo logins (password for all: {DEMO_PASSWORD}):");
    for l in logins {
        let roles: Vec<&str> = l.roles.iter().map(|r| r.as_str()).collect();
        println!(
            "  {:<14} {:<20} {:<13} {}",
            l.username,
            l.full_name,
            l.organization,
            roles.join(",")
        );
    }
}

/// Creates (or resets the password and roles of) an administrator.
pub fn create_admin(
    url: &str,
    username: &str,
    full_name: &str,
    organization: &str,
    new_password: &str,
) -> Result<(), String> {
    // each message names its field ("Mật khẩu phải có ít nhất 10 ký tự.")
    let username = Username::parse(username).map_err(|e| e.message)?;
    let name = FullName::parse(full_name).map_err(|e| e.message)?;
    check_new_password(username.as_str(), new_password).map_err(|e| e.message)?;
    let hash = password::hash_blocking(new_password).map_err(|e| e.to_string())?;
    let mut conn = connect(url)?;
    conn.transaction::<_, AppError, _>(|conn| {
        let org = organization_id(conn, organization)?;
        let user_id: Uuid = diesel::insert_into(users::table)
            .values((
                users::username.eq(username.as_str()),
                users::full_name.eq(name.as_str()),
                users::name_search.eq(name.search_key()),
                users::organization_id.eq(org),
                users::category.eq(Category::CivilServant.as_str()),
                users::password_hash.eq(&hash),
            ))
            .on_conflict(users::username)
            .do_update()
            .set((
                users::password_hash.eq(excluded(users::password_hash)),
                users::active.eq(true),
                users::token_version.eq(users::token_version + 1),
            ))
            .returning(users::id)
            .get_result(conn)?;
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(user_id),
                user_roles::role.eq(Role::Admin.as_str()),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(())
    })
    .map_err(describe)
}

/// Command-line wording for an error (the cause, not the HTTP body).
fn describe(e: AppError) -> String {
    match e {
        AppError::Validation(details) => details
            .iter()
            .map(|d| format!("{}: {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// `cascade import-users`: the API's import, acting with an administrator's scope.
pub fn import_users(
    url: &str,
    key: &DataKey,
    bytes: &[u8],
) -> Result<crate::service::people::ImportReport, String> {
    let mut conn = connect(url)?;
    crate::service::people::import_file(
        &mut conn,
        key,
        &crate::auth::current_user::Actor::command_line(),
        bytes,
    )
    .map_err(describe)
}
