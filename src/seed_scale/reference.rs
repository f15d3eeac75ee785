//! What a seeding starts from: the reference bodies (each given a signer where none is set
//! yet), the courses of both tiers and the May campaign of every year the data set spans.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use rand::rngs::StdRng;
use uuid::Uuid;

use super::plan::{Course, Org, Reference};
use super::vocabulary as words;
use crate::db::schema::{campaigns, courses, organizations, provinces};
use crate::error::AppError;

fn org_row(
    row: &crate::db::organizations::OrganizationRow,
    place: String,
    parent_name: Option<String>,
    branch: Option<usize>,
) -> Org {
    Org {
        id: row.id,
        code: row.code.clone(),
        name: row.name.clone(),
        province_code: row.province_code.clone(),
        place,
        parent_name,
        parent_id: row.parent_id,
        signer_name: row.signer_name.clone().unwrap_or_default(),
        signer_title: row.signer_title.clone().unwrap_or_default(),
        branch,
        new: false,
    }
}

/// The reference bodies (with a signer where none is set yet), the courses and the May
/// campaigns of the years the data set spans.
pub(super) fn load_reference(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    today: NaiveDate,
) -> Result<Reference, AppError> {
    use crate::db::organizations::OrganizationRow;
    // certificates need someone to sign them
    let unsigned: Vec<Uuid> = organizations::table
        .filter(organizations::kind.ne("unit"))
        .filter(organizations::signer_name.is_null())
        .order(organizations::code.asc())
        .select(organizations::id)
        .load(conn)?;
    for id in unsigned {
        diesel::update(organizations::table.find(id))
            .set(organizations::signer_name.eq(words::full_name(rng)))
            .execute(conn)?;
    }
    let bodies: Vec<OrganizationRow> = organizations::table
        .filter(organizations::kind.ne("unit"))
        .order((
            organizations::province_code.asc(),
            organizations::code.asc(),
        ))
        .select(OrganizationRow::as_select())
        .load(conn)?;
    let province_names: BTreeMap<String, (String, String)> = provinces::table
        .select((provinces::code, provinces::short, provinces::name))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(code, short, name)| (code, (short, name)))
        .collect();
    let find = |kind: &str| {
        bodies
            .iter()
            .find(|o| o.kind == kind)
            .ok_or_else(|| AppError::internal(format!("the reference data has no {kind}")))
    };
    let state = find("state_agency")?;
    let implementing = find("implementing_agency")?;
    let mut branches = Vec::new();
    let mut shorts = Vec::new();
    for row in bodies.iter().filter(|o| o.kind == "branch") {
        let (short, name) = row
            .province_code
            .as_ref()
            .and_then(|c| province_names.get(c))
            .cloned()
            .ok_or_else(|| AppError::internal(format!("branch {} has no province", row.code)))?;
        shorts.push(short);
        branches.push(org_row(
            row,
            name,
            Some(implementing.name.clone()),
            Some(branches.len()),
        ));
    }
    let existing_units: BTreeMap<String, (Uuid, String)> = organizations::table
        .filter(organizations::kind.eq("unit"))
        .select((organizations::code, organizations::id, organizations::name))
        .load::<(String, Uuid, String)>(conn)?
        .into_iter()
        .map(|(code, id, name)| (code, (id, name)))
        .collect();
    crate::demo::training::seed_courses(conn)?;
    let course = |conn: &mut PgConnection, code: &str| -> Result<Course, AppError> {
        let (id, title, curriculum_version, tier, validity_months): (
            Uuid,
            String,
            String,
            String,
            i32,
        ) = courses::table
            .filter(courses::code.eq(code))
            .select((
                courses::id,
                courses::title,
                courses::curriculum_version,
                courses::tier,
                courses::certificate_validity_months,
            ))
            .first(conn)?;
        Ok(Course {
            id,
            title,
            curriculum_version,
            tier: if tier == "master_trainer" {
                "master_trainer"
            } else {
                "propagandist"
            },
            validity_months,
        })
    };
    let master_course = course(conn, "GVN-BHXH-2024")?;
    let old_course = course(conn, "TTV-BHXH-2014")?;
    let current_course = course(conn, "TTV-BHXH-2024")?;
    let mut may = BTreeMap::new();
    for year in (today.year() - 4)..=today.year() {
        crate::service::campaigns::ensure_may_campaign(conn, year)?;
        let (name, _, _) = crate::domain::campaigns::may_campaign(year)
            .ok_or_else(|| AppError::internal("no May"))?;
        let id: Uuid = campaigns::table
            .filter(campaigns::name.eq(&name))
            .order(campaigns::created_at.asc())
            .select(campaigns::id)
            .first(conn)?;
        may.insert(year, id);
    }
    Ok(Reference {
        state_agency: org_row(state, "Hà Nội".into(), None, None),
        implementing_agency: org_row(implementing, "Hà Nội".into(), None, None),
        branches,
        shorts,
        existing_units,
        master_course,
        old_course,
        course: current_course,
        campaigns: may,
    })
}
