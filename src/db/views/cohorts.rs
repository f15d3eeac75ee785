//! Read models of cohorts: what the API and the pages show of one (its course, organiser,
//! instructors with the certificate that covers them, sessions), and a page of them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::organizations as orgs;
use crate::db::training::{self as rows, CohortRow, CourseRow, SessionRow};
use crate::db::users::OrganizationRef;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CourseRef {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub tier: String,
    pub curriculum_version: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstructorView {
    pub user_id: Uuid,
    pub full_name: String,
    /// The master-trainer certificate that covers the cohort's dates, if any.
    pub master_certificate_id: Option<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub hours: f64,
    pub topic: String,
}

impl From<SessionRow> for SessionView {
    fn from(s: SessionRow) -> Self {
        SessionView {
            id: s.id,
            cohort_id: s.cohort_id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            hours: f64::from(s.minutes) / 60.0,
            topic: s.topic,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CohortView {
    pub id: Uuid,
    pub course_id: Uuid,
    pub course: CourseRef,
    pub tier: String,
    pub organization_id: Uuid,
    pub organization: OrganizationRef,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: String,
    pub mode: String,
    pub capacity: i32,
    /// The campaign the cohort belongs to, if any.
    pub campaign_id: Option<Uuid>,
    /// That campaign's name.
    pub campaign: Option<String>,
    pub status: String,
    pub enrolled_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructors: Option<Vec<InstructorView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionView>>,
    pub finalized_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CohortPage {
    pub items: Vec<CohortView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

fn course_ref(c: &CourseRow) -> CourseRef {
    CourseRef {
        id: c.id,
        code: c.code.clone(),
        title: c.title.clone(),
        tier: c.tier.clone(),
        curriculum_version: c.curriculum_version.clone(),
    }
}

fn org_ref(conn: &mut PgConnection, id: Uuid) -> QueryResult<OrganizationRef> {
    let o = orgs::find(conn, id)?;
    Ok(OrganizationRef {
        id: o.id,
        code: o.code,
        name: o.name,
    })
}

/// The full view of one cohort (instructors and sessions included when `detailed`).
pub fn cohort_view(
    conn: &mut PgConnection,
    cohort: CohortRow,
    detailed: bool,
) -> Result<CohortView, AppError> {
    let course = rows::course(conn, cohort.course_id)?;
    let organization = org_ref(conn, cohort.organization_id)?;
    let enrolled_count = rows::enrolled_count(conn, cohort.id)?;
    let campaign = match cohort.campaign_id {
        Some(id) => crate::db::campaigns::names(conn, &[id])?.remove(&id),
        None => None,
    };
    let (instructors, sessions) = if detailed {
        let instructors = rows::instructors_with_cover(conn, &cohort)?
            .into_iter()
            .map(
                |(user_id, full_name, master_certificate_id)| InstructorView {
                    user_id,
                    full_name,
                    master_certificate_id,
                },
            )
            .collect();
        let sessions = rows::sessions_of(conn, cohort.id)?
            .into_iter()
            .map(SessionView::from)
            .collect();
        (Some(instructors), Some(sessions))
    } else {
        (None, None)
    };
    Ok(CohortView {
        id: cohort.id,
        course_id: course.id,
        tier: course.tier.clone(),
        course: course_ref(&course),
        organization_id: cohort.organization_id,
        organization,
        title: cohort.title,
        starts_on: cohort.starts_on,
        ends_on: cohort.ends_on,
        location: cohort.location,
        mode: cohort.mode,
        capacity: cohort.capacity,
        campaign_id: cohort.campaign_id,
        campaign,
        status: cohort.status,
        enrolled_count,
        instructors,
        sessions,
        finalized_at: cohort.finalized_at,
    })
}
