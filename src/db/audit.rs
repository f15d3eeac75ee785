//! Audit events: who did what to which object, when and from where. Never a password, a token
//! or a hash.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::audit_events;

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

    pub fn record(self, conn: &mut PgConnection) -> QueryResult<()> {
        // an event about a user object is about that person
        let subject_id = self.subject_id.or_else(|| {
            (self.object_type == "user")
                .then(|| {
                    self.object_id
                        .as_deref()
                        .and_then(|s| Uuid::parse_str(s).ok())
                })
                .flatten()
        });
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::actor_id.eq(self.actor_id),
                audit_events::action.eq(self.action),
                audit_events::object_type.eq(self.object_type),
                audit_events::object_id.eq(self.object_id),
                audit_events::address.eq(self.address),
                audit_events::details.eq(self.details),
                audit_events::subject_id.eq(subject_id),
            ))
            .execute(conn)?;
        Ok(())
    }
}
