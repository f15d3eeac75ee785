//! What a master trainer's certificate reaches downstream: the cohorts its holder teaches and
//! the certificates issued on its strength. The agency that issued it sees all of it, wherever
//! it lies (before revoking a master trainer it must know what depends on them), but a holder's
//! personal data only where its scope covers them; every other reader sees their scope.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::{reach_certificate, visible};
use crate::auth::current_user::Actor;
use crate::db::views::certificates::{
    self as views, Downstream, DownstreamCertificate, DownstreamCohort, Holder, IssuerBrief,
    TaughtRow,
};
use crate::db::Db;
use crate::domain::access::manages_people;
use crate::domain::certificates::public_status;
use crate::error::AppError;
use crate::service::as_actor;

/// The organisations by id, as briefs.
fn organization_briefs(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, IssuerBrief>, AppError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(crate::db::organizations::in_tree_order(conn, Some(&ids))?
        .into_iter()
        .map(|o| {
            (
                o.id,
                IssuerBrief {
                    id: o.id,
                    code: o.code,
                    name: o.name,
                },
            )
        })
        .collect())
}

/// What a master-trainer certificate reaches downstream: the cohorts its holder teaches and the
/// certificates issued on its strength — what to review before it is revoked. The issuer's
/// coordinator and administrators see every one; others those within their scope (rule 6).
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
        // the issuer answers for the certificate, wherever its strength was used
        let whole = actor.coordinates(row.issuer_id);
        let taught = views::cohorts_reached(conn, &row)?;
        let taught: Vec<TaughtRow> = taught
            .into_iter()
            .filter(|c| whole || actor.scope.covers_organization(c.4))
            .collect();
        let issued = views::issued_on_strength_of(conn, id)?;
        // each with whether the reader may see the certificate itself (and so its holder)
        let mut reached = Vec::with_capacity(issued.len());
        for c in issued {
            let opens = visible(conn, actor, &c)?;
            if whole || opens {
                reached.push((c, opens));
            }
        }
        let cohort_ids: Vec<Uuid> = reached.iter().filter_map(|(c, _)| c.cohort_id).collect();
        let cohort_briefs = views::cohort_briefs(conn, &cohort_ids)?;
        let org_ids: Vec<Uuid> = taught
            .iter()
            .map(|c| c.4)
            .chain(reached.iter().map(|(c, _)| c.issuer_id))
            .collect();
        let briefs = organization_briefs(conn, &org_ids)?;
        let brief = |org: Uuid| -> Result<IssuerBrief, AppError> {
            briefs.get(&org).cloned().ok_or(AppError::NotFound)
        };
        let cohorts = taught
            .into_iter()
            .map(|(id, title, starts_on, ends_on, org)| {
                Ok(DownstreamCohort {
                    id,
                    title,
                    starts_on,
                    ends_on,
                    organization: brief(org)?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let certificates = reached
            .into_iter()
            .map(|(c, opens)| {
                Ok(DownstreamCertificate {
                    status: public_status(&c.status, c.valid_until, today).to_string(),
                    cohort: c.cohort_id.and_then(|id| cohort_briefs.get(&id).cloned()),
                    organization: brief(c.issuer_id)?,
                    holder_name: opens.then(|| c.holder_name.clone()),
                    holder: opens.then(|| Holder {
                        id: c.holder_id,
                        full_name: c.holder_name.clone(),
                        date_of_birth: c.holder_birth_date,
                    }),
                    id: c.id,
                    serial: c.serial,
                    issuer_name: c.issuer_name,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(Downstream {
            certificate_id: row.id,
            status: public_status(&row.status, row.valid_until, today).to_string(),
            serial: row.serial,
            cohorts,
            certificates,
        })
    })
    .await
}
