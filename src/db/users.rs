//! User rows, their roles, and the view of a person the API shows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{organizations, user_roles, users};
use crate::domain::people::{mask_national_id, Role};
use crate::error::AppError;
use crate::privacy::DataKey;

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
    /// The CCCD sealed under the data key ([`crate::privacy::DataKey`]); never stored in clear.
    pub national_id_cipher: Option<Vec<u8>>,
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

/// A person as the API shows them: never the password hash, and the CCCD only masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub organization: OrganizationRef,
    pub category: String,
    /// The CCCD masked: its first 3 and last 3 digits, the rest `*` (`001******345`). The full
    /// number only through `POST /users/{id}/national-id`, which is audited.
    #[schema(example = "001******345")]
    pub national_id: Option<String>,
    /// The sealed CCCD the mask is made from (never serialised).
    #[serde(skip)]
    #[schema(ignore)]
    sealed_national_id: Option<Vec<u8>>,
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

/// Builds the API views of `rows`, with their roles and organisations, in the same order; the
/// CCCD masked (`key` opens it to mask it).
pub fn views(
    conn: &mut PgConnection,
    key: &DataKey,
    rows: Vec<UserRow>,
) -> Result<Vec<UserView>, AppError> {
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
    rows.into_iter()
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
            UserView::of(r, organization, roles).with_masked_national_id(key)
        })
        .collect()
}

impl UserView {
    /// The view of a row, its CCCD not shown yet: [`Self::with_masked_national_id`] shows it
    /// masked.
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
            national_id: None,
            sealed_national_id: r.national_id_cipher,
            email: r.email,
            active: r.active,
            created_at: r.created_at,
        }
    }

    /// Shows the CCCD masked, opened with `key` (and forgotten again).
    pub fn with_masked_national_id(mut self, key: &DataKey) -> Result<UserView, AppError> {
        self.national_id = match &self.sealed_national_id {
            Some(sealed) => Some(mask_national_id(&open_national_id(key, self.id, sealed)?)),
            None => None,
        };
        Ok(self)
    }
}

pub fn view(conn: &mut PgConnection, key: &DataKey, row: UserRow) -> Result<UserView, AppError> {
    views(conn, key, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// Opens a person's sealed CCCD. A failure is an internal error whose log names the person and
/// the reason, never the value.
pub fn open_national_id(key: &DataKey, person: Uuid, sealed: &[u8]) -> Result<String, AppError> {
    key.open_national_id(sealed)
        .map_err(|e| AppError::internal(format!("the CCCD of user {person} does not open: {e}")))
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

/// Who holds the CCCD with this blind index, if anyone.
pub fn national_id_holder(conn: &mut PgConnection, index: &[u8]) -> QueryResult<Option<Uuid>> {
    users::table
        .filter(users::national_id_index.eq(index))
        .select(users::id)
        .first(conn)
        .optional()
}

/// A person's sealed CCCD (`Ok(None)` when they have none; `NotFound` when there is no such
/// person).
pub fn sealed_national_id(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Vec<u8>>> {
    users::table
        .find(id)
        .select(users::national_id_cipher)
        .first(conn)
}

/// Writes a person's CCCD, sealed, with its blind index (or clears both).
pub fn store_national_id(
    conn: &mut PgConnection,
    id: Uuid,
    sealed: Option<(Vec<u8>, Vec<u8>)>,
) -> QueryResult<()> {
    let (cipher, index) = sealed.unzip();
    diesel::update(users::table.find(id))
        .set((
            users::national_id_cipher.eq(cipher),
            users::national_id_index.eq(index),
            users::national_id.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Holds off every other writer of `users` until the transaction ends (re-sealing every CCCD
/// must see them all, and no number may slip in under the old key meanwhile).
pub fn lock_for_sealing(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
    Ok(())
}

/// The CCCDs still stored in clear (from before encryption at rest).
pub fn plain_national_ids(conn: &mut PgConnection) -> QueryResult<Vec<(Uuid, String)>> {
    users::table
        .filter(users::national_id.is_not_null())
        .select((users::id, users::national_id.assume_not_null()))
        .order(users::id)
        .load(conn)
}

/// Every sealed CCCD, by person.
pub fn sealed_national_ids(conn: &mut PgConnection) -> QueryResult<Vec<(Uuid, Vec<u8>)>> {
    users::table
        .filter(users::national_id_cipher.is_not_null())
        .select((users::id, users::national_id_cipher.assume_not_null()))
        .order(users::id)
        .load(conn)
}

/// One sealed CCCD, if any: which key the stored numbers are under.
pub fn any_sealed_national_id(conn: &mut PgConnection) -> QueryResult<Option<Vec<u8>>> {
    users::table
        .filter(users::national_id_cipher.is_not_null())
        .select(users::national_id_cipher.assume_not_null())
        .first(conn)
        .optional()
}

/// Is a CCCD in clear forbidden already (`CHECK users_national_id_sealed`)?
pub fn plain_national_ids_forbidden(conn: &mut PgConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint \
         WHERE conrelid = 'users'::regclass AND conname = 'users_national_id_sealed') AS exists",
    )
    .get_result(conn)?;
    Ok(found.exists)
}

/// Forbids a CCCD in clear from now on (`CHECK (national_id IS NULL)`), once the column is
/// empty; does nothing when the constraint is already there.
pub fn forbid_plain_national_ids(conn: &mut PgConnection) -> QueryResult<()> {
    if !plain_national_ids_forbidden(conn)? {
        diesel::sql_query(
            "ALTER TABLE users ADD CONSTRAINT users_national_id_sealed CHECK (national_id IS NULL)",
        )
        .execute(conn)?;
    }
    Ok(())
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
