//! People: adding and changing them, finding them, importing them from CSV, their training
//! record. Every change of roles, password or access goes through the one grant rule
//! ([`check_account_change`]).

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::refuse;
use crate::auth::current_user::Actor;
use crate::auth::password;
use crate::db::audit::AuditEvent;
use crate::db::organizations as orgs;
use crate::db::schema::users;
use crate::db::users::{self as rows, UserRow, UserView};
use crate::db::Db;
use crate::domain::access::{check_account_change, manages_people, AccountChange, AccountDenial};
use crate::domain::labels;
use crate::domain::people::{check_person, parse_roles, CheckedPerson, PersonInput, Role};
use crate::domain::user_import::ImportError;
use crate::error::AppError;
use crate::privacy::DataKey;

/// Today in Vietnam: a birth date "in the future" is judged by the local calendar.
pub(super) fn today() -> NaiveDate {
    crate::certificates::issuance::today()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// What a change to a person says: `None` leaves a field as it is; for the optional fields
/// `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct PersonChanges {
    pub full_name: Option<String>,
    pub date_of_birth: Option<Option<String>>,
    pub national_id: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub category: Option<String>,
    pub organization_id: Option<Uuid>,
    pub roles: Option<Vec<String>>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

impl PersonChanges {
    /// Does it change anything about the person besides roles, password and access?
    fn touches_profile(&self) -> bool {
        self.full_name.is_some()
            || self.date_of_birth.is_some()
            || self.national_id.is_some()
            || self.email.is_some()
            || self.category.is_some()
            || self.organization_id.is_some()
    }

    /// Names of the fields it touches (for the audit trail; never their values).
    fn field_names(&self) -> Vec<&'static str> {
        [
            (self.full_name.is_some(), "full_name"),
            (self.date_of_birth.is_some(), "date_of_birth"),
            (self.national_id.is_some(), "national_id"),
            (self.email.is_some(), "email"),
            (self.category.is_some(), "category"),
            (self.organization_id.is_some(), "organization_id"),
            (self.roles.is_some(), "roles"),
            (self.active.is_some(), "active"),
            (self.password.is_some(), "password"),
        ]
        .into_iter()
        .filter_map(|(touched, name)| touched.then_some(name))
        .collect()
    }
}

/// A user the caller may see, or 404.
pub(super) fn visible_user(
    conn: &mut PgConnection,
    user: &Actor,
    id: Uuid,
) -> Result<UserRow, AppError> {
    let row = rows::find(conn, id)?;
    if user.scope.covers_person(row.id, row.organization_id) {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// What a person's row may not share with another's: the national ID, the username.
pub(super) const NATIONAL_ID_TAKEN: &str = "Số CCCD này đã thuộc về một người khác.";
pub(super) const USERNAME_TAKEN: &str = "Tên đăng nhập này đã có người dùng.";
const PERSON_UNIQUES: &[(&str, &str)] = &[
    ("national_id", NATIONAL_ID_TAKEN),
    ("username", USERNAME_TAKEN),
];

fn person_unique(e: diesel::result::Error) -> AppError {
    AppError::unique(e, PERSON_UNIQUES, "Người này đã có trong hệ thống.")
}

/// The grant rule ([`check_account_change`]) for this caller; the command line acts as an
/// administrator.
pub(super) fn account_rule(
    actor: &Actor,
    target: Option<(Uuid, &[Role])>,
    change: &AccountChange<'_>,
) -> Result<(), AccountDenial> {
    check_account_change(
        actor.id.map(|id| (id, actor.roles.as_slice())),
        target,
        change,
    )
}

/// The line of an import report for a refused account change.
pub(super) fn denial_line(line: u64, denial: AccountDenial) -> ImportError {
    match denial {
        AccountDenial::Grant(role) => ImportError::in_column(
            line,
            "roles",
            &format!(
                "Bạn không được cấp vai trò {} “{}”.",
                labels::role(role),
                role.as_str()
            ),
        ),
        AccountDenial::OwnRoles => ImportError::in_column(
            line,
            "roles",
            "Không ai được tự thay đổi vai trò của chính mình.",
        ),
        AccountDenial::OwnAccess => ImportError::new(
            line,
            "Không ai được tự khóa tài khoản hay tự đặt lại mật khẩu của chính mình.",
        ),
        AccountDenial::Outranked => ImportError::in_column(
            line,
            "username",
            "Người này giữ một vai trò mà bạn không được cấp, nên bạn không thể thay đổi \
             thông tin của họ.",
        ),
    }
}

/// Before a national ID is written for someone: a caller who keeps hitting IDs held by other
/// people is probing which IDs exist, and is held back (429) after a few such conflicts.
pub(super) fn national_id_probe_wait(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<(), AppError> {
    match actor.id {
        None => Ok(()),
        Some(id) => match rows::national_id_conflict_wait(conn, id)? {
            Some(retry_after_secs) => Err(AppError::RateLimited { retry_after_secs }),
            None => Ok(()),
        },
    }
}

/// Is this national ID held by someone other than `except`? Found by its blind index under
/// `key`. A conflict is recorded (without the ID) as an audit event, which the probe limit
/// counts.
pub(super) fn national_id_taken(
    conn: &mut PgConnection,
    key: &DataKey,
    actor: &Actor,
    national_id: &str,
    except: Option<Uuid>,
) -> Result<bool, AppError> {
    let holder = rows::national_id_holder(conn, &key.national_id_index(national_id))?;
    let taken = holder.is_some_and(|h| Some(h) != except);
    if taken {
        AuditEvent::new(actor.id, "national_id_conflict", "user")
            .from_address(&actor.address)
            .record(conn)?;
    }
    Ok(taken)
}

fn national_id_conflict() -> AppError {
    AppError::conflict(NATIONAL_ID_TAKEN)
}

/// Adds a person at `organization_id` (in the caller's scope), with the roles the caller may
/// grant and, optionally, a password.
pub async fn create_person(
    db: &Db,
    actor: &Actor,
    input: PersonInput,
    organization_id: Uuid,
) -> Result<UserView, AppError> {
    if !manages_people(&actor.roles) {
        return Err(refuse(db, actor, "create_user").await);
    }
    let person = check_person(&input, today(), crate::certificates::pdf::can_draw)
        .map_err(AppError::Validation)?;
    let change = AccountChange {
        new_roles: Some(&person.roles),
        password: person.password.is_some(),
        ..Default::default()
    };
    if let Err(denial) = account_rule(actor, None, &change) {
        return Err(refuse(db, actor, denial.action()).await);
    }
    if !actor.scope.covers_organization(organization_id) {
        return Err(AppError::NotFound);
    }
    let hash = match &person.password {
        Some(p) => Some(password::hash(p.clone()).await?),
        None => None,
    };
    let actor = actor.clone();
    let key = db.data_key()?;
    db.run(move |conn| {
        if let Some(nid) = &person.national_id {
            national_id_probe_wait(conn, &actor)?;
            if national_id_taken(conn, &key, &actor, nid.as_str(), None)? {
                return Err(national_id_conflict());
            }
        }
        conn.transaction(|conn| {
            orgs::find(conn, organization_id)?;
            let row = insert_person(conn, &key, &person, organization_id, hash)?;
            AuditEvent::new(actor.id, "user_created", "user")
                .object(row.id)
                .from_address(&actor.address)
                .details(json!({ "username": row.username, "roles": person.roles }))
                .record(conn)?;
            rows::view(conn, &key, row)
        })
    })
    .await
}

/// One person the caller may see (404 outside the scope).
pub async fn person(db: &Db, actor: &Actor, id: Uuid) -> Result<UserView, AppError> {
    let actor = actor.clone();
    let key = db.data_key()?;
    db.run(move |conn| {
        let row = visible_user(conn, &actor, id)?;
        rows::view(conn, &key, row)
    })
    .await
}

/// What a search for people asks: words of a name or username (with or without diacritics),
/// an organisation (and those below it), a page.
#[derive(Debug, Default, Clone)]
pub struct PeopleSearch {
    pub q: Option<String>,
    pub organization_id: Option<Uuid>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// People in the caller's scope matching a search, a page of them and the total.
pub async fn find_people(
    db: &Db,
    actor: &Actor,
    search: PeopleSearch,
) -> Result<UserPage, AppError> {
    if !manages_people(&actor.roles) {
        return Err(refuse(db, actor, "list_users").await);
    }
    let (page, per_page) = crate::domain::paging::paging(search.page, search.per_page)?;
    if let Some(q) = &search.q {
        crate::domain::text::check_plain("q", q, crate::domain::text::limits::SEARCH)
            .map_err(|e| AppError::Validation(vec![e]))?;
    }
    if let Some(org) = search.organization_id {
        if !actor.scope.covers_organization(org) {
            return Err(AppError::NotFound);
        }
    }
    let scope_filter = actor.scope.organization_filter();
    let needle = search
        .q
        .as_deref()
        .map(crate::domain::people::search_fold)
        .filter(|q| !q.is_empty());
    let organization_id = search.organization_id;
    let key = db.data_key()?;
    let (total, items) = db
        .run(move |conn| {
            let org_filter = match organization_id {
                Some(org) => Some(orgs::subtree_ids(conn, org)?),
                None => scope_filter,
            };
            let build = || {
                let mut q = users::table.into_boxed();
                if let Some(ids) = &org_filter {
                    q = q.filter(users::organization_id.eq_any(ids.clone()));
                }
                if let Some(n) = &needle {
                    let pattern = crate::domain::text::contains_pattern(n);
                    q = q.filter(
                        users::name_search
                            .like(pattern.clone())
                            .or(users::username.like(pattern)),
                    );
                }
                q
            };
            let total: i64 = build().count().get_result(conn)?;
            let found: Vec<UserRow> = build()
                .order((users::name_search.asc(), users::id.asc()))
                .limit(per_page)
                .offset((page - 1) * per_page)
                .select(UserRow::as_select())
                .load(conn)?;
            Ok((total, rows::views(conn, &key, found)?))
        })
        .await?;
    Ok(UserPage {
        items,
        total,
        page,
        per_page,
    })
}

/// Changes a person: their profile, roles, password or access, under the grant rule. A new
/// password, other roles or deactivation end every session of theirs at once.
pub async fn update_person(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    changes: PersonChanges,
) -> Result<UserView, AppError> {
    let key = db.data_key()?;
    // load first: a person outside the scope is 404 for everyone, before any role check
    let (current, current_roles, current_national_id) = {
        let actor = actor.clone();
        let key = key.clone();
        db.run(move |conn| {
            let row = visible_user(conn, &actor, id)?;
            // a retired person's record stays as the retirement left it
            super::retirement::refuse_if_retired(conn, row.id)?;
            let roles = rows::roles_of(conn, &[row.id])?
                .remove(&row.id)
                .unwrap_or_default();
            // the CCCD kept as it is is checked again against a changed date of birth
            let national_id = match &row.national_id_cipher {
                Some(sealed) => Some(rows::open_national_id(&key, row.id, sealed)?),
                None => None,
            };
            Ok((row, roles, national_id))
        })
        .await?
    };
    if !manages_people(&actor.roles) {
        return Err(refuse(db, actor, "update_user").await);
    }
    // the grant rule first: whether the caller may touch this person at all, before any field
    let asked_roles = changes.roles.as_deref().and_then(|r| parse_roles(r).ok());
    let early = AccountChange {
        new_roles: asked_roles
            .as_deref()
            .filter(|r| *r != current_roles.as_slice()),
        password: changes.password.is_some(),
        active: changes.active.is_some_and(|a| a != current.active),
        profile: changes.touches_profile(),
    };
    if let Err(denial) = account_rule(actor, Some((id, &current_roles)), &early) {
        return Err(refuse(db, actor, denial.action()).await);
    }
    let input = PersonInput {
        username: current.username.clone(),
        full_name: changes
            .full_name
            .clone()
            .unwrap_or_else(|| current.full_name.clone()),
        date_of_birth: match &changes.date_of_birth {
            Some(v) => v.clone(),
            None => current.date_of_birth.map(|d| d.to_string()),
        },
        national_id: match &changes.national_id {
            Some(v) => v.clone(),
            None => current_national_id.clone(),
        },
        email: match &changes.email {
            Some(v) => v.clone(),
            None => current.email.clone(),
        },
        category: changes
            .category
            .clone()
            .unwrap_or_else(|| current.category.clone()),
        roles: changes.roles.clone().unwrap_or_else(|| {
            current_roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect()
        }),
        password: changes.password.clone(),
    };
    let person = check_person(&input, today(), crate::certificates::pdf::can_draw)
        .map_err(AppError::Validation)?;
    let roles_changed = person.roles != current_roles;
    let change = AccountChange {
        new_roles: roles_changed.then_some(person.roles.as_slice()),
        ..early
    };
    if let Err(denial) = account_rule(actor, Some((id, &current_roles)), &change) {
        return Err(refuse(db, actor, denial.action()).await);
    }
    let organization_id = changes.organization_id.unwrap_or(current.organization_id);
    if !actor.scope.covers_organization(organization_id) {
        return Err(AppError::NotFound);
    }
    let hash = match &person.password {
        Some(p) => Some(password::hash(p.clone()).await?),
        None => None,
    };
    let deactivate = changes.active == Some(false) && current.active;
    let active = changes.active.unwrap_or(current.active);
    let new_national_id = person
        .national_id
        .as_ref()
        .map(|n| n.as_str().to_string())
        .filter(|n| Some(n) != current_national_id.as_ref());
    let fields = changes.field_names();
    let actor = actor.clone();
    db.run(move |conn| {
        if let Some(nid) = &new_national_id {
            national_id_probe_wait(conn, &actor)?;
            if national_id_taken(conn, &key, &actor, nid, Some(id))? {
                return Err(national_id_conflict());
            }
        }
        conn.transaction(|conn| {
            orgs::find(conn, organization_id)?;
            write_person(conn, &key, id, &person, organization_id)?;
            diesel::update(users::table.find(id))
                .set(users::active.eq(active))
                .execute(conn)?;
            if let Some(hash) = &hash {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(hash))
                    .execute(conn)?;
            }
            if roles_changed {
                rows::set_roles(conn, id, &person.roles)?;
            }
            // deactivation, a new password or other rights end every session at once
            if deactivate || hash.is_some() || roles_changed {
                rows::end_sessions(conn, id)?;
            }
            AuditEvent::new(actor.id, "user_updated", "user")
                .object(id)
                .from_address(&actor.address)
                .details(json!({
                    "fields": fields,
                    "deactivated": deactivate,
                    "roles": roles_changed.then(|| json!({
                        "from": current_roles,
                        "to": person.roles,
                    })),
                }))
                .record(conn)?;
            let row = rows::find(conn, id)?;
            rows::view(conn, &key, row)
        })
    })
    .await
}

/// The sealed CCCD and its blind index, as stored.
fn sealed(key: &DataKey, person: &CheckedPerson) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    person
        .national_id
        .as_ref()
        .map(|n| {
            (
                key.seal_national_id(n.as_str()),
                key.national_id_index(n.as_str()),
            )
        })
        .unzip()
}

pub(super) fn insert_person(
    conn: &mut PgConnection,
    key: &DataKey,
    person: &CheckedPerson,
    organization_id: Uuid,
    password_hash: Option<String>,
) -> Result<UserRow, AppError> {
    let (cipher, index) = sealed(key, person);
    let row: UserRow = diesel::insert_into(users::table)
        .values((
            users::username.eq(person.username.as_str()),
            users::full_name.eq(person.full_name.as_str()),
            users::name_search.eq(person.full_name.search_key()),
            users::date_of_birth.eq(person.date_of_birth),
            users::organization_id.eq(organization_id),
            users::category.eq(person.category.as_str()),
            users::national_id_cipher.eq(cipher),
            users::national_id_index.eq(index),
            users::email.eq(&person.email),
            users::password_hash.eq(password_hash),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .map_err(person_unique)?;
    // a retired person's username is nobody's again; asked after the insert, which waits for a
    // retirement of that name in flight, so the two cannot cross (the caller's transaction rolls
    // the row back)
    if super::retirement::username_retired(conn, key, person.username.as_str())? {
        return Err(AppError::conflict(super::retirement::USERNAME_RETIRED));
    }
    rows::set_roles(conn, row.id, &person.roles)?;
    Ok(row)
}

/// Writes a checked person's fields over an existing row (PATCH and CSV import alike).
pub(super) fn write_person(
    conn: &mut PgConnection,
    key: &DataKey,
    id: Uuid,
    person: &CheckedPerson,
    organization_id: Uuid,
) -> Result<(), AppError> {
    let (cipher, index) = sealed(key, person);
    let was_at: Uuid = users::table
        .find(id)
        .select(users::organization_id)
        .first(conn)?;
    diesel::update(users::table.find(id))
        .set((
            users::full_name.eq(person.full_name.as_str()),
            users::name_search.eq(person.full_name.search_key()),
            users::date_of_birth.eq(person.date_of_birth),
            users::national_id_cipher.eq(cipher),
            users::national_id_index.eq(index),
            users::email.eq(&person.email),
            users::category.eq(person.category.as_str()),
            users::organization_id.eq(organization_id),
            users::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .map_err(person_unique)?;
    // a person who moved counts for coverage at their new organisation
    if was_at != organization_id {
        crate::db::coverage_summary::holders_changed(conn, &[id])?;
    }
    Ok(())
}

mod import;
mod national_id;
mod record;

pub use import::{import_file, import_people, ImportReport};
pub use national_id::{
    reveal_national_id, rotate_data_key, seal_plain_national_ids, RevealedNationalId,
};
pub use record::{training_record, Record, RecordCertificate, RecordCohort, RecordCourse};
