//! User rows, their roles, and the view of a person the API shows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{organizations, user_roles, users};
use crate::domain::people::Role;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub organization_id: Uuid,
    pub category: String,
    pub national_id: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub token_version: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganizationRef {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// A person as the API shows them: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub organization: OrganizationRef,
    pub category: String,
    pub national_id: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub active: bool,
    pub has_login: bool,
    pub created_at: DateTime<Utc>,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
}

/// What enrolling or assigning needs to know of a person.
#[derive(Debug, Clone, Queryable)]
pub struct PersonFacts {
    pub full_name: String,
    pub category: String,
    pub active: bool,
    pub organization_id: Uuid,
}

/// The person's facts, or `None` when no one has this id.
pub fn facts(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<PersonFacts>> {
    users::table
        .find(id)
        .select((
            users::full_name,
            users::category,
            users::active,
            users::organization_id,
        ))
        .first::<PersonFacts>(conn)
        .optional()
}

pub fn find_by_username(conn: &mut PgConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn roles_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, Vec<Role>>> {
    let rows: Vec<(Uuid, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let mut map: HashMap<Uuid, Vec<Role>> = HashMap::new();
    for (id, role) in rows {
        if let Some(r) = Role::parse(&role) {
            map.entry(id).or_default().push(r);
        }
    }
    for roles in map.values_mut() {
        roles.sort();
    }
    Ok(map)
}

pub fn set_roles(conn: &mut PgConnection, user_id: Uuid, roles: &[Role]) -> QueryResult<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    let rows: Vec<_> = roles
        .iter()
        .map(|r| {
            (
                user_roles::user_id.eq(user_id),
                user_roles::role.eq(r.as_str()),
            )
        })
        .collect();
    diesel::insert_into(user_roles::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// Builds the API views of `rows`, with their roles and organisations, in the same order.
pub fn views(conn: &mut PgConnection, rows: Vec<UserRow>) -> QueryResult<Vec<UserView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let org_ids: Vec<Uuid> = rows.iter().map(|r| r.organization_id).collect();
    let mut roles = roles_of(conn, &ids)?;
    let orgs: HashMap<Uuid, OrganizationRef> = organizations::table
        .filter(organizations::id.eq_any(&org_ids))
        .select((organizations::id, organizations::code, organizations::name))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, name)| (id, OrganizationRef { id, code, name }))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let organization = orgs
                .get(&r.organization_id)
                .cloned()
                .unwrap_or(OrganizationRef {
                    id: r.organization_id,
                    code: String::new(),
                    name: String::new(),
                });
            let roles = roles.remove(&r.id).unwrap_or_default();
            UserView::of(r, organization, roles)
        })
        .collect())
}

impl UserView {
    pub(super) fn of(r: UserRow, organization: OrganizationRef, roles: Vec<Role>) -> UserView {
        UserView {
            organization,
            roles,
            has_login: r.password_hash.is_some(),
            id: r.id,
            username: r.username,
            full_name: r.full_name,
            date_of_birth: r.date_of_birth,
            category: r.category,
            national_id: r.national_id,
            email: r.email,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

pub fn view(conn: &mut PgConnection, row: UserRow) -> QueryResult<UserView> {
    views(conn, vec![row])?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}

/// Ends every session of a user: access tokens carry the old version and stop working, and
/// every refresh token is revoked.
pub fn end_sessions(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    use super::schema::refresh_tokens;
    diesel::update(users::table.find(user_id))
        .set((
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)?;
    Ok(())
}

/// Who holds this national ID, if anyone.
pub fn national_id_holder(conn: &mut PgConnection, national_id: &str) -> QueryResult<Option<Uuid>> {
    users::table
        .filter(users::national_id.eq(national_id))
        .select(users::id)
        .first(conn)
        .optional()
}

/// National-ID conflicts one person may run into within the throttling window before further
/// attempts that carry a national ID wait: enough for honest typing mistakes, too few to probe
/// which IDs exist.
pub const NATIONAL_ID_CONFLICT_LIMIT: usize = 5;

/// The wait (seconds) imposed on `actor` for their recent national-ID conflicts, if any.
pub fn national_id_conflict_wait(conn: &mut PgConnection, actor: Uuid) -> QueryResult<Option<u64>> {
    use super::schema::audit_events;
    use crate::auth::throttle::{retry_after, WINDOW_MINUTES};
    let now = Utc::now();
    let recent: Vec<DateTime<Utc>> = audit_events::table
        .filter(audit_events::actor_id.eq(actor))
        .filter(audit_events::occurred_at.gt(now - chrono::Duration::minutes(WINDOW_MINUTES)))
        .filter(audit_events::action.eq("national_id_conflict"))
        .order(audit_events::occurred_at.desc())
        .limit(NATIONAL_ID_CONFLICT_LIMIT as i64)
        .select(audit_events::occurred_at)
        .load(conn)?;
    Ok(retry_after(&recent, NATIONAL_ID_CONFLICT_LIMIT, now))
}
