//! "Nhân sự": people in the caller's scope — search without diacritics, add one, import a CSV
//! file with its line errors shown; a person's page, with the CCCD masked and revealed in full
//! on request (recorded as a read).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::labels;
use super::page::{render_with, Choice, FormErrors, Layout, PageError, PageUser};
use super::upload::{read_form, Posted};
use crate::domain::access::grantable;
use crate::domain::people::{Category, PersonInput, Role};
use crate::domain::user_import::{ImportError, MAX_FILE_BYTES};
use crate::error::AppError;
use crate::service::organizations;
use crate::service::people::{self, PeopleSearch};
use crate::startup::AppState;

struct PersonLine {
    id: Uuid,
    full_name: String,
    username: String,
    organization: String,
    category: &'static str,
    roles: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    layout: Layout,
    q: String,
    people: Vec<PersonLine>,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    organizations: Vec<Choice>,
    categories: Vec<Choice>,
    roles: Vec<Choice>,
    /// The add-a-person form as typed (shown again after a broken rule).
    draft: Vec<(String, String)>,
    add_errors: FormErrors,
    added: Option<String>,
    import_errors: Vec<ImportError>,
    import_error: Option<String>,
    imported: Option<String>,
}

impl PeoplePage {
    fn draft(&self, name: &str) -> &str {
        self.draft
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[derive(Deserialize, Default)]
pub struct PeopleQuery {
    pub q: Option<String>,
    pub page: Option<i64>,
}

/// What happened to a form posted on the page.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    draft: Vec<(String, String)>,
    add_errors: FormErrors,
    added: Option<String>,
    import_errors: Vec<ImportError>,
    import_error: Option<String>,
    imported: Option<String>,
}

async fn show(
    state: &AppState,
    page: &PageUser,
    query: PeopleQuery,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    let actor = page.actor();
    let q = query.q.unwrap_or_default();
    let search = PeopleSearch {
        q: Some(q.clone()).filter(|q| !q.trim().is_empty()),
        organization_id: None,
        page: Some(query.page.unwrap_or(1)),
        per_page: Some(25),
    };
    let found = people::find_people(&state.db, &actor, search).await?;
    let orgs = organizations::organizations(&state.db, &actor).await?;
    let chosen_org = outcome
        .draft
        .iter()
        .find(|(n, _)| n == "organization_id")
        .map(|(_, v)| v.clone());
    let chosen_category = outcome
        .draft
        .iter()
        .find(|(n, _)| n == "category")
        .map(|(_, v)| v.clone());
    let chosen_roles: Vec<String> = outcome
        .draft
        .iter()
        .filter(|(n, _)| n == "roles")
        .map(|(_, v)| v.clone())
        .collect();
    let pages = ((found.total + found.per_page - 1) / found.per_page).max(1);
    let href = |p: i64| {
        let query = serde_urlencoded::to_string([("q", q.as_str()), ("page", &p.to_string())])
            .unwrap_or_default();
        format!("/people?{query}")
    };
    let view = PeoplePage {
        layout: page.layout(),
        people: found
            .items
            .into_iter()
            .map(|u| PersonLine {
                id: u.id,
                full_name: u.full_name,
                username: u.username,
                organization: u.organization.name,
                category: labels::category(&u.category),
                roles: u
                    .roles
                    .iter()
                    .map(|r| labels::role(*r))
                    .collect::<Vec<_>>()
                    .join(", "),
                active: u.active,
            })
            .collect(),
        total: found.total,
        page: found.page,
        pages,
        prev_href: (found.page > 1).then(|| href(found.page - 1)),
        next_href: (found.page < pages).then(|| href(found.page + 1)),
        q,
        organizations: orgs
            .items
            .into_iter()
            .map(|o| Choice {
                selected: chosen_org.as_deref() == Some(o.id.to_string().as_str()),
                value: o.id.to_string(),
                label: o.name,
            })
            .collect(),
        categories: Category::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().into(),
                label: labels::category(c.as_str()).into(),
                selected: chosen_category.as_deref() == Some(c.as_str()),
            })
            .collect(),
        roles: grantable(&page.user.roles)
            .iter()
            .map(|r| Choice {
                value: r.as_str().into(),
                label: labels::role(*r).into(),
                selected: chosen_roles.iter().any(|c| c == r.as_str())
                    || (chosen_roles.is_empty() && *r == Role::Trainee),
            })
            .collect(),
        draft: outcome.draft,
        add_errors: outcome.add_errors,
        added: outcome.added,
        import_errors: outcome.import_errors,
        import_error: outcome.import_error,
        imported: outcome.imported,
    };
    render_with(&view, outcome.status.unwrap_or(StatusCode::OK))
}

#[get("/people")]
pub async fn list(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, PageError> {
    show(&state, &page, query.into_inner(), Outcome::default()).await
}

/// Adds a person (URL-encoded form) or imports a CSV file (multipart form with `file`).
#[post("/people")]
pub async fn post(
    state: web::Data<AppState>,
    page: PageUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let posted = read_form(&req, payload, MAX_FILE_BYTES).await?;
    let outcome = match &posted.file {
        Some(bytes) => import(&state, &page, bytes.clone()).await?,
        None => add(&state, &page, &posted).await?,
    };
    show(&state, &page, PeopleQuery::default(), outcome).await
}

async fn add(state: &AppState, page: &PageUser, posted: &Posted) -> Result<Outcome, PageError> {
    let organization_id = posted
        .filled("organization_id")
        .and_then(|v| v.parse::<Uuid>().ok());
    let input = PersonInput {
        username: posted.get("username").unwrap_or("").into(),
        full_name: posted.get("full_name").unwrap_or("").into(),
        date_of_birth: posted.filled("date_of_birth"),
        national_id: posted.filled("national_id"),
        email: posted.filled("email"),
        category: posted.get("category").unwrap_or("").into(),
        roles: posted.all("roles"),
        password: posted.filled("password"),
    };
    let draft: Vec<(String, String)> = posted
        .fields
        .iter()
        .filter(|(n, _)| n != "password")
        .cloned()
        .collect();
    let Some(organization_id) = organization_id else {
        return Ok(Outcome {
            status: Some(StatusCode::BAD_REQUEST),
            add_errors: FormErrors::from_error(&AppError::validation(
                "organization_id",
                "Chọn đơn vị công tác.",
            )),
            draft,
            ..Outcome::default()
        });
    };
    match people::create_person(&state.db, &page.actor(), input, organization_id).await {
        Ok(person) => Ok(Outcome {
            added: Some(format!(
                "Đã thêm {} ({}).",
                person.full_name, person.username
            )),
            ..Outcome::default()
        }),
        Err(
            e @ (AppError::Validation(_)
            | AppError::Conflict { .. }
            | AppError::NotFound
            | AppError::RateLimited { .. }
            | AppError::Forbidden),
        ) => Ok(Outcome {
            status: Some(e.status_code()),
            add_errors: FormErrors::from_error(&e),
            draft,
            ..Outcome::default()
        }),
        Err(e) => Err(e.into()),
    }
}

async fn import(state: &AppState, page: &PageUser, bytes: Vec<u8>) -> Result<Outcome, PageError> {
    match people::import_people(&state.db, &page.actor(), bytes).await {
        Ok(report) if report.errors.is_empty() => Ok(Outcome {
            imported: Some(format!(
                "Đã nhập: {} người mới, {} người được cập nhật.",
                report.created, report.updated
            )),
            ..Outcome::default()
        }),
        // a file with errors changes nothing; the API answers 200 with the errors, and so does this
        Ok(report) => Ok(Outcome {
            import_errors: report.errors,
            ..Outcome::default()
        }),
        Err(
            e @ (AppError::Forbidden | AppError::RateLimited { .. } | AppError::PayloadTooLarge),
        ) => Ok(Outcome {
            status: Some(e.status_code()),
            import_error: Some(e.public_message()),
            ..Outcome::default()
        }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    layout: Layout,
    id: Uuid,
    full_name: String,
    username: String,
    organization: String,
    category: &'static str,
    roles: String,
    date_of_birth: Option<String>,
    /// The CCCD masked (`001******345`).
    national_id: Option<String>,
    email: Option<String>,
    active: bool,
    /// The full CCCD, on the answer to "Hiện số CCCD" only; `Some(None)`: the person has none.
    revealed: Option<Option<String>>,
    may_reveal: bool,
    may_retire: bool,
}

async fn show_person(
    state: &AppState,
    page: &PageUser,
    id: Uuid,
    revealed: Option<Option<String>>,
) -> Result<HttpResponse, PageError> {
    let person = people::person(&state.db, &page.actor(), id).await?;
    render_with(
        &PersonPage {
            layout: page.layout(),
            id,
            roles: person
                .roles
                .iter()
                .map(|r| labels::role(*r))
                .collect::<Vec<_>>()
                .join(", "),
            category: labels::category(&person.category),
            date_of_birth: person
                .date_of_birth
                .map(|d| d.format("%d/%m/%Y").to_string()),
            full_name: person.full_name,
            username: person.username,
            organization: person.organization.name,
            national_id: person.national_id,
            email: person.email,
            active: person.active,
            revealed,
            may_reveal: crate::domain::access::manages_people(&page.user.roles),
            may_retire: page.has(Role::Admin),
        },
        StatusCode::OK,
    )
}

/// A person's page: what is held about them, the CCCD masked.
#[get("/people/{id}")]
pub async fn person_page(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    show_person(&state, &page, id.into_inner(), None).await
}

/// "Hiện số CCCD": the full number, shown on this answer only and recorded as a read (the same
/// use case as `POST /api/v1/users/{id}/national-id`).
#[post("/people/{id}/national-id")]
pub async fn reveal_national_id(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let revealed = people::reveal_national_id(&state.db, &page.actor(), id).await?;
    show_person(&state, &page, id, Some(revealed.national_id)).await
}
