//! The people of a seeding: the new units, everyone with their trainee role (COPY), and the
//! administrator and branch coordinators who sign in.

use diesel::prelude::*;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::SeedableRng;
use uuid::Uuid;

use super::copy::Rows;
use super::plan::{self, Plan};
use super::vocabulary as words;
use super::{coordinator_username, ADMINISTRATOR};
use crate::copy_rows;
use crate::db::schema::{organizations, user_roles, users};
use crate::domain::people::{FullName, Role};
use crate::error::AppError;

pub(super) fn write_units(conn: &mut PgConnection, plan: &Plan) -> Result<(), AppError> {
    let rows: Vec<_> = plan
        .orgs
        .iter()
        .filter(|o| o.new)
        .map(|o| {
            (
                organizations::id.eq(o.id),
                organizations::code.eq(&o.code),
                organizations::name.eq(&o.name),
                organizations::kind.eq("unit"),
                organizations::parent_id.eq(o.parent_id),
                organizations::province_code.eq(&o.province_code),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(organizations::table)
            .values(&rows)
            .execute(conn)?;
    }
    Ok(())
}

pub(super) fn write_people(
    conn: &mut PgConnection,
    plan: &Plan,
    bar: &ProgressBar,
) -> Result<(), AppError> {
    let mut people = Rows::new();
    let mut roles = Rows::new();
    for p in &plan.people {
        people
            .uuid(p.id)
            .text(&p.username)
            .text(&p.full_name)
            .text(&p.name_search)
            .date(p.date_of_birth)
            .uuid(plan.orgs[p.org].id)
            .text(p.category)
            .end();
        roles.uuid(p.id).text(Role::Trainee.as_str()).end();
        if people.is_full() {
            bar.inc(people.count as u64);
            flush_people(conn, &mut people, &mut roles)?;
        }
    }
    bar.inc(people.count as u64);
    Ok(flush_people(conn, &mut people, &mut roles)?)
}

fn flush_people(conn: &mut PgConnection, people: &mut Rows, roles: &mut Rows) -> QueryResult<()> {
    copy_rows!(
        conn,
        users::table,
        (
            users::id,
            users::username,
            users::full_name,
            users::name_search,
            users::date_of_birth,
            users::organization_id,
            users::category,
        ),
        people
    );
    copy_rows!(
        conn,
        user_roles::table,
        (user_roles::user_id, user_roles::role),
        roles
    );
    Ok(())
}

/// The branch coordinators: (username, branch code), and their ids, by branch.
pub(super) struct Logins {
    pub coordinators: Vec<(String, String)>,
    pub coordinator_ids: Vec<Uuid>,
}

/// The administrator and one coordinator per branch, who sign in with `password` (created, or
/// their password reset when a previous seeding made them).
pub(super) fn write_logins(
    conn: &mut PgConnection,
    plan: &Plan,
    shorts: &[String],
    password: &str,
    seed: u64,
) -> Result<Logins, AppError> {
    let hash = crate::auth::password::hash_blocking(password)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut accounts = vec![(
        ADMINISTRATOR.to_string(),
        plan::STATE_AGENCY,
        Role::Admin,
        String::new(),
    )];
    for (b, short) in shorts.iter().enumerate() {
        let org = plan::FIRST_BRANCH + b;
        accounts.push((
            coordinator_username(short),
            org,
            Role::Coordinator,
            short.clone(),
        ));
    }
    let (mut coordinators, mut coordinator_ids) = (Vec::new(), Vec::new());
    for (username, org, role, _) in &accounts {
        let name = FullName::parse(&words::full_name(&mut rng))
            .map_err(|e| AppError::internal(e.message))?;
        let id: Uuid = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::full_name.eq(name.as_str()),
                users::name_search.eq(name.search_key()),
                users::organization_id.eq(plan.orgs[*org].id),
                users::category.eq("public_employee"),
                users::password_hash.eq(&hash),
            ))
            .on_conflict(users::username)
            .do_update()
            .set((
                users::password_hash.eq(&hash),
                users::active.eq(true),
                users::token_version.eq(users::token_version + 1),
            ))
            .returning(users::id)
            .get_result(conn)?;
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(id),
                user_roles::role.eq(role.as_str()),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if *role == Role::Coordinator {
            coordinators.push((username.clone(), plan.orgs[*org].code.clone()));
            coordinator_ids.push(id);
        }
    }
    Ok(Logins {
        coordinators,
        coordinator_ids,
    })
}
