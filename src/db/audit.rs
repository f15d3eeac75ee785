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
        }
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
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::actor_id.eq(self.actor_id),
                audit_events::action.eq(self.action),
                audit_events::object_type.eq(self.object_type),
                audit_events::object_id.eq(self.object_id),
                audit_events::address.eq(self.address),
                audit_events::details.eq(self.details),
            ))
            .execute(conn)?;
        Ok(())
    }
}
