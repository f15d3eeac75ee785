//! What a master trainer's certificate reaches downstream: the cohorts its holder teaches and
//! the certificates issued on its strength.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::{reach_certificate, visible};
use crate::auth::current_user::Actor;
use crate::db::schema::{certificate_lineage, certificates, cohort_instructors, cohorts};
use crate::db::views::certificates::{
    CertificateRow, CohortBrief, Downstream, DownstreamCertificate,
};
use crate::db::Db;
use crate::domain::access::manages_people;
use crate::domain::certificates::public_status;
use crate::error::AppError;
use crate::service::as_actor;

/// What a master-trainer certificate reaches downstream: the cohorts its holder teaches and the
/// certificates issued on its strength, within the caller's scope — what to review when it is
/// revoked.
pub async fn downstream(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    today: NaiveDate,
) -> Result<Downstream, AppError> {
    as_actor(db, actor, "certificate_downstream", move |conn, actor| {
        let row = reach_certificate(conn, actor, id)?;
        if !manages_people(&actor.roles) {
            return Err(AppError::Forbidden);
        }
        let taught: Vec<(Uuid, String, NaiveDate, NaiveDate, Uuid)> = cohorts::table
            .filter(
                cohorts::id
                    .eq_any(
                        cohort_instructors::table
                            .filter(cohort_instructors::user_id.eq(row.holder_id))
                            .select(cohort_instructors::cohort_id),
                    )
                    .or(cohorts::id.nullable().eq_any(
                        certificates::table
                            .filter(
                                certificates::id.eq_any(
                                    certificate_lineage::table
                                        .filter(certificate_lineage::master_certificate_id.eq(id))
                                        .select(certificate_lineage::certificate_id),
                                ),
                            )
                            .select(certificates::cohort_id),
                    )),
            )
            .filter(cohorts::ends_on.ge(row.issued_on))
            .order(cohorts::starts_on.asc())
            .select((
                cohorts::id,
                cohorts::title,
                cohorts::starts_on,
                cohorts::ends_on,
                cohorts::organization_id,
            ))
            .load(conn)?;
        // only what lies in the caller's scope (rule 6)
        let taught: Vec<_> = taught
            .into_iter()
            .filter(|c| actor.scope.covers_organization(c.4))
            .collect();
        let issued: Vec<CertificateRow> = certificates::table
            .filter(
                certificates::id.eq_any(
                    certificate_lineage::table
                        .filter(certificate_lineage::master_certificate_id.eq(id))
                        .select(certificate_lineage::certificate_id),
                ),
            )
            .order(certificates::serial.asc())
            .select(CertificateRow::as_select())
            .load(conn)?;
        let mut issued_visible = Vec::with_capacity(issued.len());
        for c in issued {
            if visible(conn, actor, &c)? {
                issued_visible.push(c);
            }
        }
        let issued = issued_visible;
        Ok(Downstream {
            certificate_id: row.id,
            status: public_status(&row.status, row.valid_until, today).to_string(),
            serial: row.serial,
            cohorts: taught
                .into_iter()
                .map(|(id, title, starts_on, ends_on, _)| CohortBrief {
                    id,
                    title,
                    starts_on,
                    ends_on,
                })
                .collect(),
            certificates: issued
                .into_iter()
                .map(|c| DownstreamCertificate {
                    status: public_status(&c.status, c.valid_until, today).to_string(),
                    id: c.id,
                    serial: c.serial,
                    holder_name: c.holder_name,
                    issuer_name: c.issuer_name,
                })
                .collect(),
        })
    })
    .await
}
