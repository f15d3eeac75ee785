//! Audit events: who did what to which object, when and from where. Never a password, a token
//! or a hash.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{audit_events, users};
use crate::domain::audit::Period;

pub struct AuditEvent<'a> {
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<String>,
    pub address: Option<&'a str>,
    pub details: serde_json::Value,
    /// The person the event is about (whose data was read or changed), if any.
    pub subject_id: Option<Uuid>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(actor_id: Option<Uuid>, action: &'a str, object_type: &'a str) -> Self {
        AuditEvent {
            actor_id,
            action,
            object_type,
            object_id: None,
            address: None,
            details: serde_json::Value::Object(Default::default()),
            subject_id: None,
        }
    }

    /// The person the event is about: their own trail (`/me/data`) and the administrator's
    /// audit list find it by this.
    pub fn subject(mut self, person: Uuid) -> Self {
        self.subject_id = Some(person);
        self
    }

    pub fn object(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }

    pub fn from_address(mut self, address: &'a str) -> Self {
        self.address = Some(address);
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// The person the event is about: the one named, or else the user object it concerns.
    fn resolved_subject(&self) -> Option<Uuid> {
        self.subject_id.or_else(|| {
            (self.object_type == "user")
                .then(|| {
                    self.object_id
                        .as_deref()
                        .and_then(|s| Uuid::parse_str(s).ok())
                })
                .flatten()
        })
    }

    pub fn record(self, conn: &mut PgConnection) -> QueryResult<()> {
        record_all(conn, vec![self]).map(|_| ())
    }
}

/// Rows of one multi-row insert: PostgreSQL takes at most 65,535 parameters a statement, and an
/// event binds seven.
const EVENTS_PER_STATEMENT: usize = 5_000;

/// Records several events in as few statements as the parameter limit allows (one for up to
/// 5,000 events); answers how many were written.
pub fn record_all(conn: &mut PgConnection, events: Vec<AuditEvent<'_>>) -> QueryResult<usize> {
    let mut written = 0;
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let rows: Vec<_> = events
            .by_ref()
            .take(EVENTS_PER_STATEMENT)
            .map(|e| {
                let subject_id = e.resolved_subject();
                (
                    audit_events::actor_id.eq(e.actor_id),
                    audit_events::action.eq(e.action),
                    audit_events::object_type.eq(e.object_type),
                    audit_events::object_id.eq(e.object_id),
                    audit_events::address.eq(e.address),
                    audit_events::details.eq(e.details),
                    audit_events::subject_id.eq(subject_id),
                )
            })
            .collect();
        written += diesel::insert_into(audit_events::table)
            .values(rows)
            .execute(conn)?;
    }
    Ok(written)
}

/// A stored event, as the audit list and a person's own trail read it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub address: Option<String>,
    pub details: serde_json::Value,
    pub subject_id: Option<Uuid>,
}

/// Which events an administrator asks for (every filter optional).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub period: Period,
}

fn filtered(f: &EventFilter) -> audit_events::BoxedQuery<'static, Pg> {
    let mut query = audit_events::table.into_boxed();
    if let Some(s) = f.subject_id {
        query = query.filter(audit_events::subject_id.eq(s));
    }
    if let Some(a) = f.actor_id {
        query = query.filter(audit_events::actor_id.eq(a));
    }
    if let Some(action) = &f.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(from) = f.period.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(before) = f.period.before {
        query = query.filter(audit_events::occurred_at.lt(before));
    }
    query
}

/// How many events match.
pub fn count(conn: &mut PgConnection, f: &EventFilter) -> QueryResult<i64> {
    filtered(f).count().get_result(conn)
}

/// A page of the matching events, newest first (by time, then by the order they were written).
pub fn page(
    conn: &mut PgConnection,
    f: &EventFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<EventRow>> {
    filtered(f)
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(EventRow::as_select())
        .load(conn)
}

/// The events about a person or done by them (their own trail).
fn trail_of(person: Uuid) -> audit_events::BoxedQuery<'static, Pg> {
    audit_events::table
        .filter(
            audit_events::subject_id
                .eq(person)
                .or(audit_events::actor_id.eq(person)),
        )
        .into_boxed()
}

/// How many events are about `person` or done by them.
pub fn trail_count(conn: &mut PgConnection, person: Uuid) -> QueryResult<i64> {
    trail_of(person).count().get_result(conn)
}

/// The newest `limit` events about `person` or done by them, newest first.
pub fn trail(conn: &mut PgConnection, person: Uuid, limit: i64) -> QueryResult<Vec<EventRow>> {
    trail_of(person)
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// The full names of these people (actors and subjects of a page of events), by id.
pub fn names(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::full_name))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .collect())
}
