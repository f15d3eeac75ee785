//! Personal data: reads of it accounted for in the audit trail (exports of people, certificates
//! downloaded by someone other than their holder), the administrator's list of the trail, and
//! everything Cascade holds about the caller (`/me/data`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::current_user::Actor;
use crate::db::audit::{self as trail, AuditEvent, EventFilter, EventRow};
use crate::db::users::OrganizationRef;
use crate::db::views::personal_data as held;
use crate::db::Db;
use crate::domain::audit::{check_action, period, OWN_TRAIL_LIMIT};
use crate::domain::people::Role;
use crate::domain::privacy::{CERTIFICATE_DOWNLOADED, PEOPLE_EXPORTED};
use crate::error::AppError;
use crate::privacy::DataKey;

// ---------------------------------------------------------------------------------------------
// Reads accounted for

/// What a list of people that leaves the system was: which list, in which format, asked with
/// which filters (names of filters and ids, never a personal value), how many rows it held.
#[derive(Debug, Clone)]
pub struct PeopleExport {
    /// Which list (`certificates`, `people`).
    pub list: &'static str,
    /// `csv` or `xlsx`.
    pub format: &'static str,
    /// The filters as the caller gave them, with no personal value in them.
    pub filters: Value,
    pub rows: usize,
    /// The one person the list was limited to, if it was: their trail then shows it.
    pub only_person: Option<Uuid>,
}

/// Records one [`PEOPLE_EXPORTED`] event for an export, in the caller's transaction. An export
/// of thousands is one event about nobody in particular (subject NULL): a person's own trail
/// shows only the exports limited to them, and says that larger lists are not itemised.
pub fn record_people_export(
    conn: &mut PgConnection,
    actor: &Actor,
    export: PeopleExport,
) -> QueryResult<()> {
    let mut event = AuditEvent::new(actor.id, PEOPLE_EXPORTED, "export")
        .object(export.list)
        .from_address(&actor.address)
        .details(json!({
            "list": export.list,
            "format": export.format,
            "filters": export.filters,
            "rows": export.rows,
        }));
    if let Some(person) = export.only_person {
        event = event.subject(person);
    }
    event.record(conn)
}

/// Records a [`CERTIFICATE_DOWNLOADED`] event when someone other than its holder downloads a
/// certificate's PDF; the holder downloading their own records nothing.
pub fn record_certificate_download(
    conn: &mut PgConnection,
    actor: &Actor,
    certificate: Uuid,
    holder: Uuid,
    serial: &str,
) -> QueryResult<()> {
    if actor.id == Some(holder) {
        return Ok(());
    }
    AuditEvent::new(actor.id, CERTIFICATE_DOWNLOADED, "certificate")
        .object(certificate)
        .subject(holder)
        .from_address(&actor.address)
        .details(json!({ "serial": serial }))
        .record(conn)
}

/// Records a [`CERTIFICATE_DOWNLOADED`] event for every certificate of a cohort's ZIP (each
/// about its holder, none for the caller's own), in one multi-row insert; answers how many.
pub fn record_cohort_download(
    conn: &mut PgConnection,
    actor: &Actor,
    cohort: Uuid,
    listed: &[(Uuid, String)],
) -> QueryResult<usize> {
    let ids: Vec<Uuid> = listed.iter().map(|(id, _)| *id).collect();
    let holders: HashMap<Uuid, Uuid> = held::holders(conn, &ids)?.into_iter().collect();
    let events: Vec<AuditEvent<'_>> = listed
        .iter()
        .filter_map(|(id, serial)| {
            let holder = *holders.get(id)?;
            (actor.id != Some(holder)).then(|| {
                AuditEvent::new(actor.id, CERTIFICATE_DOWNLOADED, "certificate")
                    .object(id)
                    .subject(holder)
                    .from_address(&actor.address)
                    .details(json!({ "serial": serial, "cohort_id": cohort }))
            })
        })
        .collect();
    trail::record_all(conn, events)
}

// ---------------------------------------------------------------------------------------------
// The administrator's audit list

/// A person named in the trail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub full_name: String,
}

/// One event of the trail as an administrator reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditItem {
    pub at: DateTime<Utc>,
    /// Who acted (null: the command line or the system).
    pub actor: Option<PersonRef>,
    pub action: String,
    /// The person the event is about, if any.
    pub subject: Option<PersonRef>,
    /// The client's address.
    pub address: Option<String>,
    pub object_type: String,
    pub object_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// What an administrator asks of the trail.
#[derive(Debug, Clone, Default)]
pub struct AuditSearch {
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    /// A date or an RFC 3339 instant (see [`crate::domain::audit::period`]).
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Only administrators read the audit trail: anyone else is refused (403), and the refusal
/// recorded.
pub async fn may_read_trail(db: &Db, actor: &Actor) -> Result<(), AppError> {
    if actor.has(Role::Admin) {
        Ok(())
    } else {
        Err(super::refuse(db, actor, "list_audit_events").await)
    }
}

/// A page of the audit trail, newest first (administrators only: anyone else is refused, and
/// the refusal recorded).
pub async fn audit_trail(
    db: &Db,
    actor: &Actor,
    search: AuditSearch,
) -> Result<AuditPage, AppError> {
    may_read_trail(db, actor).await?;
    let (page, per_page) = crate::domain::paging::paging(search.page, search.per_page)?;
    let action = search.action.filter(|a| !a.trim().is_empty());
    if let Some(a) = &action {
        check_action(a)?;
    }
    let filter = EventFilter {
        subject_id: search.subject_id,
        actor_id: search.actor_id,
        action,
        period: period(search.from.as_deref(), search.to.as_deref())?,
    };
    db.run(move |conn| {
        let total = trail::count(conn, &filter)?;
        let rows = trail::page(conn, &filter, per_page, (page - 1) * per_page)?;
        let people: Vec<Uuid> = rows
            .iter()
            .flat_map(|r| [r.actor_id, r.subject_id])
            .flatten()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names = trail::names(conn, &people)?;
        let person = |id: Option<Uuid>| {
            id.map(|id| PersonRef {
                id,
                full_name: names.get(&id).cloned().unwrap_or_default(),
            })
        };
        let items = rows
            .into_iter()
            .map(|r| AuditItem {
                at: r.occurred_at,
                actor: person(r.actor_id),
                subject: person(r.subject_id),
                action: r.action,
                address: r.address,
                object_type: r.object_type,
                object_id: r.object_id,
                details: r.details,
            })
            .collect();
        Ok(AuditPage {
            items,
            total,
            page,
            per_page,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The person's own data

/// Everything Cascade holds about the caller, and nothing about anyone else.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyData {
    pub profile: MyProfile,
    pub enrollments: Vec<MyEnrollment>,
    pub certificates: Vec<MyCertificate>,
    /// Outreach activities the person recorded, newest first, each with its history.
    pub outreach: Vec<crate::db::views::outreach::OutreachView>,
    pub audit: MyTrail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyProfile {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    /// The CCCD in full: it is the caller's own.
    pub national_id: Option<String>,
    pub email: Option<String>,
    pub organization: OrganizationRef,
    pub category: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub has_login: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One session of a cohort and the caller's attendance at it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MySession {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub minutes: i32,
    pub topic: String,
    /// Null while attendance is not recorded for this session.
    pub present: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyEnrollment {
    pub id: Uuid,
    pub cohort: held::CohortPart,
    pub course: held::CoursePart,
    /// enrolled, withdrawn, completed or failed
    pub status: String,
    pub enrolled_at: DateTime<Utc>,
    pub attendance_percent: f64,
    pub score: Option<f64>,
    pub sessions: Vec<MySession>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyCertificate {
    pub id: Uuid,
    pub serial: String,
    /// valid, expired, revoked or superseded
    pub status: String,
    pub tier: String,
    pub course_title: String,
    pub issuer_name: String,
    pub cohort_id: Option<Uuid>,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub verification_code: String,
    /// As signed on the certificate.
    pub holder_name: String,
    pub holder_birth_date: Option<NaiveDate>,
    pub holder_workplace: String,
    pub revocation_reason: Option<String>,
    pub supersedes_id: Option<Uuid>,
}

/// One event of the caller's trail: what was done to their data, or what they did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyEvent {
    pub at: DateTime<Utc>,
    pub action: String,
    /// Whether the action is a read of personal data (someone saw it).
    pub read: bool,
    /// Who acted (null: the command line or the system); the caller when `by_me`.
    pub actor: Option<PersonRef>,
    pub by_me: bool,
    /// Whether the event is about the caller's data.
    pub about_me: bool,
    /// The object of an event about the caller (null for what they did to others).
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    /// The caller's own address, on what they did (never a staff member's).
    pub address: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyTrail {
    /// The newest events, at most `limit`.
    pub items: Vec<MyEvent>,
    /// How many events there are in all.
    pub total: i64,
    pub limit: i64,
}

/// Everything Cascade holds about the caller: their profile (the CCCD in full), enrolments with
/// each session's attendance, marks and outcome, certificates, outreach (with its history), and the
/// newest 1,000 audit events about them or by them. Exports of many people are recorded once
/// for the whole list, about no one in particular, so they are not in a person's trail.
pub async fn my_data(db: &Db, actor: &Actor, today: NaiveDate) -> Result<MyData, AppError> {
    let me = actor.id.ok_or(AppError::NotFound)?;
    let key = db.data_key()?;
    db.run(move |conn| {
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run(|conn| gather(conn, &key, me, today))
    })
    .await
}

fn gather(
    conn: &mut PgConnection,
    key: &DataKey,
    me: Uuid,
    today: NaiveDate,
) -> Result<MyData, AppError> {
    let p = held::profile(conn, me)?;
    let national_id = own_national_id(conn, key, me)?;
    let mut roles = crate::db::users::roles_of(conn, &[me])?
        .remove(&me)
        .unwrap_or_default();
    roles.sort();
    let profile = MyProfile {
        id: p.id,
        username: p.username,
        full_name: p.full_name,
        date_of_birth: p.date_of_birth,
        national_id,
        email: p.email,
        organization: OrganizationRef {
            id: p.organization.0,
            code: p.organization.1,
            name: p.organization.2,
        },
        category: p.category,
        roles,
        active: p.active,
        has_login: p.has_login,
        created_at: p.created_at,
        updated_at: p.updated_at,
    };

    let mut sessions: HashMap<Uuid, Vec<MySession>> = HashMap::new();
    for s in held::sessions_of(conn, me)? {
        sessions
            .entry(s.enrollment_id)
            .or_default()
            .push(MySession {
                id: s.session_id,
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                minutes: s.minutes,
                topic: s.topic,
                present: s.present,
            });
    }
    let enrollments = held::enrollments_of(conn, me)?
        .into_iter()
        .map(|e| {
            let sessions = sessions.remove(&e.id).unwrap_or_default();
            // recorded on the enrolment when the cohort is finalised; counted until then
            let attendance_percent = e.attendance_percent.unwrap_or_else(|| {
                let total: i64 = sessions.iter().map(|s| i64::from(s.minutes)).sum();
                let attended: i64 = sessions
                    .iter()
                    .filter(|s| s.present == Some(true))
                    .map(|s| i64::from(s.minutes))
                    .sum();
                crate::domain::training::attendance_percent(total, attended)
            });
            MyEnrollment {
                id: e.id,
                cohort: e.cohort,
                course: e.course,
                status: e.status,
                enrolled_at: e.enrolled_at,
                attendance_percent,
                score: e.score,
                sessions,
            }
        })
        .collect();

    let certificates = held::certificates_of(conn, me)?
        .into_iter()
        .map(|c| MyCertificate {
            status: if c.status == "valid" && c.valid_until < today {
                "expired".into()
            } else {
                c.status
            },
            id: c.id,
            serial: c.serial,
            tier: c.tier,
            course_title: c.course_title,
            issuer_name: c.issuer_name,
            cohort_id: c.cohort_id,
            issued_on: c.issued_on,
            valid_until: c.valid_until,
            verification_code: c.verification_code,
            holder_name: c.holder_name,
            holder_birth_date: c.holder_birth_date,
            holder_workplace: c.holder_workplace,
            revocation_reason: c.revocation_reason,
            supersedes_id: c.supersedes_id,
        })
        .collect();

    let total = trail::trail_count(conn, me)?;
    let rows = trail::trail(conn, me, OWN_TRAIL_LIMIT)?;
    let actors: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| r.actor_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names = trail::names(conn, &actors)?;
    let items = rows.into_iter().map(|r| own_event(r, me, &names)).collect();

    Ok(MyData {
        profile,
        enrollments,
        certificates,
        outreach: crate::service::outreach::own_entries(conn, me)?,
        audit: MyTrail {
            items,
            total,
            limit: OWN_TRAIL_LIMIT,
        },
    })
}

/// An event of the person's trail, showing only what is theirs: the object and details of an
/// event about them; of what they did to someone else, only that they did it, and when.
fn own_event(r: EventRow, me: Uuid, names: &HashMap<Uuid, String>) -> MyEvent {
    let about_me = r.subject_id == Some(me);
    let by_me = r.actor_id == Some(me);
    // an event by the person about no one (a login, a refused page) is theirs as a whole
    let theirs = about_me || (by_me && r.subject_id.is_none() && r.object_type != "certificate");
    MyEvent {
        at: r.occurred_at,
        read: crate::domain::privacy::READ_ACTIONS.contains(&r.action.as_str()),
        actor: r.actor_id.map(|id| PersonRef {
            id,
            full_name: names.get(&id).cloned().unwrap_or_default(),
        }),
        by_me,
        about_me,
        object_type: theirs.then(|| r.object_type.clone()),
        object_id: if theirs { r.object_id } else { None },
        details: theirs.then_some(r.details),
        address: if by_me { r.address } else { None },
        action: r.action,
    }
}

/// The person's own CCCD, in full: opened with the data key, for them alone.
fn own_national_id(
    conn: &mut PgConnection,
    key: &DataKey,
    me: Uuid,
) -> Result<Option<String>, AppError> {
    crate::db::users::sealed_national_id(conn, me)?
        .map(|sealed| crate::db::users::open_national_id(key, me, &sealed))
        .transpose()
}
