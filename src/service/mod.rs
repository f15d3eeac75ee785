//! The use cases of Cascade, one module per capability: what a person can do, each taking the
//! actor and plain inputs, owning its transaction and locks, and answering domain values or an
//! [`AppError`]. The JSON API and the pages call these, and nothing else, to change or read
//! anything.

pub mod accounts;
pub mod campaigns;
pub mod certificates;
pub mod certification;
pub mod cohorts;
pub mod courses;
pub mod enrolment;
pub mod organizations;
pub mod outreach;
pub mod people;
pub mod privacy;
pub mod reports;
pub mod retention;
pub mod retirement;
pub mod staffing;
pub mod targets;
pub mod verification;

use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::Db;
use crate::error::AppError;

/// Records that `actor` was refused `action` and answers 403. A failure to record is logged, not
/// answered: the refusal stands either way.
pub async fn refuse(db: &Db, actor: &Actor, action: &'static str) -> AppError {
    let (id, address) = (actor.id, actor.address.clone());
    let recorded = db
        .run(move |conn| {
            AuditEvent::new(id, "access_denied", "endpoint")
                .object(action)
                .from_address(&address)
                .record(conn)
                .map_err(AppError::from)
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "could not record a denied access");
    }
    AppError::Forbidden
}

/// Runs `work` for `actor` on a pooled connection off the async workers, recording a 403 it
/// answers as a refusal of `action` — the shape of every use case that decides inside its
/// transaction whether the caller may act.
pub async fn as_actor<T, F>(
    db: &Db,
    actor: &Actor,
    action: &'static str,
    work: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut diesel::PgConnection, &Actor) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let caller = actor.clone();
    let result = db.run(move |conn| work(conn, &caller)).await;
    audited(db, actor, result, action).await
}

/// Passes a result through, recording a 403 as a refused action of `actor`.
pub async fn audited<T>(
    db: &Db,
    actor: &Actor,
    result: Result<T, AppError>,
    action: &'static str,
) -> Result<T, AppError> {
    match result {
        Err(AppError::Forbidden) => Err(refuse(db, actor, action).await),
        other => other,
    }
}

/// Records that `actor` did `action` to the `object` with this id, and the details.
fn audit(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    object: &str,
    id: Uuid,
    details: serde_json::Value,
) -> QueryResult<()> {
    event(actor, action, object, id, details).record(conn)
}

/// As [`audit`], for an event about a person's own record (their enrolment, their marks): the
/// person is its subject, so their trail (`/me/data`) shows it.
fn audit_about(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    object: &str,
    id: Uuid,
    person: Uuid,
    details: serde_json::Value,
) -> QueryResult<()> {
    event(actor, action, object, id, details)
        .subject(person)
        .record(conn)
}

/// The audit event of an actor's action on an object, from the actor's address.
fn event<'a>(
    actor: &'a Actor,
    action: &'a str,
    object: &'a str,
    id: Uuid,
    details: serde_json::Value,
) -> AuditEvent<'a> {
    AuditEvent::new(actor.id, action, object)
        .object(id)
        .from_address(&actor.address)
        .details(details)
}

/// The organisation `root` and every one below it; 404 when there is no such organisation
/// (an administrator's scope covers any id, known or not).
pub(crate) fn existing_subtree(conn: &mut PgConnection, root: Uuid) -> Result<Vec<Uuid>, AppError> {
    let ids = crate::db::organizations::subtree_ids(conn, root)?;
    if ids.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(ids)
}
