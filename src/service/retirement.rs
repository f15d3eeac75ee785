//! Retirement: an administrator retires a person who asked to leave. Their login ends for good,
//! their personal fields are erased and their username can never be taken again; what the
//! programme must keep — enrolments, marks, issued certificates with the name they were signed
//! with — stays, so certificates still verify and reports still count them.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::refuse;
use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::retirement::{self as rows, Erasure};
use crate::db::users::{self as users, UserView};
use crate::db::Db;
use crate::domain::people::{search_fold, Role};
use crate::domain::retirement::{
    check_reason, long_tombstone_username, tombstone_username, RETIRED_NAME,
};
use crate::error::AppError;
use crate::privacy::DataKey;

/// The audit action of a retirement (its reason in the details).
pub const USER_RETIRED: &str = "user_retired";

/// A second retirement of the same person.
pub const ALREADY_RETIRED: &str = "Người này đã rút khỏi hệ thống.";

/// A new person (or an imported line) asking for the username of a retired person.
pub const USERNAME_RETIRED: &str =
    "Tên đăng nhập này đã từng được dùng cho một người đã rút khỏi hệ thống nên không thể dùng lại.";

/// A retired person's record may be read but no longer changed.
pub const RETIRED_UNCHANGEABLE: &str =
    "Người này đã rút khỏi hệ thống: thông tin của họ không thể thay đổi nữa.";

/// Did a retired person once have this username? User creation and import refuse it (409).
pub fn username_retired(
    conn: &mut PgConnection,
    key: &DataKey,
    username: &str,
) -> QueryResult<bool> {
    rows::username_was_retired(conn, &key.retired_username_index(username))
}

/// Why an import line naming `username` may not be written: a new person asking for a retired
/// username, or the tombstone of a retired person (`existing`), whose record is not to change.
pub fn import_refusal(
    conn: &mut PgConnection,
    key: &DataKey,
    username: &str,
    existing: Option<Uuid>,
) -> QueryResult<Option<&'static str>> {
    Ok(match existing {
        Some(id) => rows::is_retired(conn, id)?.then_some(RETIRED_UNCHANGEABLE),
        None => username_retired(conn, key, username)?.then_some(USERNAME_RETIRED),
    })
}

/// 409 when `id` is a retired person: their row is kept as the programme's record, not to be
/// changed again (a PATCH, an import line).
pub fn refuse_if_retired(conn: &mut PgConnection, id: Uuid) -> Result<(), AppError> {
    if rows::is_retired(conn, id)? {
        return Err(AppError::conflict(RETIRED_UNCHANGEABLE));
    }
    Ok(())
}

/// A person an administrator is about to retire, as the confirmation page shows them.
pub struct Candidate {
    pub person: UserView,
    /// Already retired: there is nothing left to do.
    pub retired: bool,
}

/// The person behind the "Rút khỏi hệ thống" form: administrators only (403 otherwise), 404 for
/// no such person.
pub async fn candidate(db: &Db, actor: &Actor, id: Uuid) -> Result<Candidate, AppError> {
    if !actor.roles.contains(&Role::Admin) {
        return Err(refuse(db, actor, "retire_user").await);
    }
    let (actor, key) = (actor.clone(), db.data_key()?);
    db.run(move |conn| {
        let row = users::find(conn, id)
            .optional()?
            .ok_or(AppError::NotFound)?;
        if !actor.scope.covers_person(row.id, row.organization_id) {
            return Err(AppError::NotFound);
        }
        let retired = rows::is_retired(conn, id)?;
        Ok(Candidate {
            person: users::view(conn, &key, row)?,
            retired,
        })
    })
    .await
}

/// Retires a person (administrators only, 403 otherwise — and 403 for one's own account, as for
/// every change of one's own access): with their row locked, in one transaction, the login ends
/// for good (inactive, retired, password gone, token version moved on, every session ended),
/// the CCCD, date of birth and e-mail are erased, the username becomes a tombstone and its keyed
/// hash is kept so nobody takes it again, the name becomes [`RETIRED_NAME`]; a `user_retired`
/// event records the reason. 400 without a reason, 404 for no such person, 409 when already
/// retired. Answers the retired person's view.
pub async fn retire_person(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    reason: &str,
) -> Result<UserView, AppError> {
    if !actor.roles.contains(&Role::Admin) {
        return Err(refuse(db, actor, "retire_user").await);
    }
    if actor.id == Some(id) {
        return Err(refuse(db, actor, "retire_self").await);
    }
    let reason = check_reason(reason).map_err(|e| AppError::Validation(vec![e]))?;
    let (actor, key) = (actor.clone(), db.data_key()?);
    db.run(move |conn| {
        conn.transaction(|conn| {
            let Some((row, retired_at)) = rows::lock_person(conn, id)? else {
                return Err(AppError::NotFound);
            };
            if !actor.scope.covers_person(row.id, row.organization_id) {
                return Err(AppError::NotFound);
            }
            if retired_at.is_some() {
                return Err(AppError::conflict(ALREADY_RETIRED));
            }
            let now = Utc::now();
            rows::remember_username(conn, &key.retired_username_index(&row.username), now)?;
            let short = tombstone_username(id);
            let tombstone = if rows::username_in_use(conn, &short)? {
                long_tombstone_username(id)
            } else {
                short
            };
            rows::erase_person(
                conn,
                id,
                &Erasure {
                    tombstone_username: &tombstone,
                    full_name: RETIRED_NAME,
                    name_search: &search_fold(RETIRED_NAME),
                    at: now,
                },
            )?;
            rows::end_login_sessions(conn, id, now)?;
            rows::scrub_username_from_audit(conn, id, &row.username)?;
            AuditEvent::new(actor.id, USER_RETIRED, "user")
                .object(id)
                .from_address(&actor.address)
                .details(json!({ "reason": reason }))
                .record(conn)?;
            let row = users::find(conn, id)?;
            users::view(conn, &key, row)
        })
    })
    .await
}
