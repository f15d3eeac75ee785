//! `/users`: people, their logins and roles, search, CSV import. Each handler parses, calls one
//! use case of [`crate::service::people`] and answers.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::users::UserView;
use crate::domain::people::PersonInput;
use crate::error::AppError;
use crate::service::people::{
    self, ImportReport, PeopleSearch, PersonChanges, Record, RevealedNationalId, UserPage,
};
use crate::startup::AppState;

/// Largest CSV upload: 10 MiB.
pub const CSV_LIMIT: usize = crate::domain::user_import::MAX_FILE_BYTES;

/// Distinguishes "absent" (leave as is) from `null` (clear) in a PATCH body.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(min_length = 3, max_length = 64, example = "hang.nt")]
    pub username: String,
    #[schema(min_length = 1, max_length = 80, example = "Nguyễn Thị Hằng")]
    pub full_name: String,
    pub organization_id: Uuid,
    #[schema(example = json!(["trainee"]))]
    pub roles: Vec<String>,
    #[schema(example = "civil_servant")]
    pub category: String,
    /// `YYYY-MM-DD`, after 1 January 1900 and not after today.
    #[schema(example = "1985-04-12")]
    pub date_of_birth: Option<String>,
    /// 12 digits: the province of birth registration, the century and sex, the year of birth.
    #[schema(max_length = 12, example = "001185000123")]
    pub national_id: Option<String>,
    #[schema(max_length = 254, example = "hang.nt@example.vn")]
    pub email: Option<String>,
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 1, max_length = 80)]
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub date_of_birth: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 12)]
    pub national_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 254)]
    pub email: Option<Option<String>>,
    pub category: Option<String>,
    pub organization_id: Option<Uuid>,
    pub roles: Option<Vec<String>>,
    pub active: Option<bool>,
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Words of a name or a username, with or without diacritics.
    #[param(max_length = 100)]
    pub q: Option<String>,
    pub organization_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

impl From<UpdateUser> for PersonChanges {
    fn from(b: UpdateUser) -> Self {
        PersonChanges {
            full_name: b.full_name,
            date_of_birth: b.date_of_birth,
            national_id: b.national_id,
            email: b.email,
            category: b.category,
            organization_id: b.organization_id,
            roles: b.roles,
            active: b.active,
            password: b.password,
        }
    }
}

#[utoipa::path(post, operation_id = "users_create", tag = "users", path = "/api/v1/users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let input = PersonInput {
        username: body.username,
        full_name: body.full_name,
        date_of_birth: body.date_of_birth,
        national_id: body.national_id,
        email: body.email,
        category: body.category,
        roles: body.roles,
        password: body.password,
    };
    let view = people::create_person(&state.db, &user.actor(), input, body.organization_id).await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, operation_id = "users_list", tag = "users", path = "/api/v1/users", params(UserQuery),
    responses((status = 200, body = UserPage), (status = 403, body = crate::error::ErrorBody)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let search = PeopleSearch {
        q: query.q,
        organization_id: query.organization_id,
        page: query.page,
        per_page: query.per_page,
    };
    let found = people::find_people(&state.db, &user.actor(), search).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, operation_id = "users_get", tag = "users", path = "/api/v1/users/{id}",
    responses((status = 200, body = UserView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let view = people::person(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(patch, operation_id = "users_update", tag = "users", path = "/api/v1/users/{id}", request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, AppError> {
    let changes = PersonChanges::from(body.into_inner());
    let view = people::update_person(&state.db, &user.actor(), id.into_inner(), changes).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Imports people from CSV: every line is checked first, and a file with any error changes nothing.
#[utoipa::path(post, operation_id = "users_import", tag = "users", path = "/api/v1/users/import", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 403, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn import(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let is_csv = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    let actor = user.actor();
    if !is_csv {
        // a role that may not import hears that first, as before
        if !crate::domain::access::manages_people(&actor.roles) {
            return Err(crate::service::refuse(&state.db, &actor, "import_users").await);
        }
        return Err(AppError::UnsupportedMediaType);
    }
    let report = people::import_people(&state.db, &actor, body.to_vec()).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// A person's full CCCD, for staff (coordinator, HR, administrator) with the person in scope;
/// recorded as a read (`national_id_revealed`) in the audit trail. `null` for a person without
/// one (the look is recorded all the same).
#[utoipa::path(post, operation_id = "users_reveal_national_id", tag = "users", path = "/api/v1/users/{id}/national-id",
    responses((status = 200, body = RevealedNationalId), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
#[post("/users/{id}/national-id")]
pub async fn reveal_national_id(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let revealed = people::reveal_national_id(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(revealed))
}

/// A person's training record: every enrolment, its marks, and the certificate it earned.
#[utoipa::path(get, operation_id = "users_records", tag = "users", path = "/api/v1/users/{id}/records",
    responses((status = 200, body = Vec<Record>), (status = 404, body = crate::error::ErrorBody)))]
#[get("/users/{id}/records")]
pub async fn records(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let found =
        people::training_record(&state.db, &user.actor(), id.into_inner(), state.today()).await?;
    Ok(HttpResponse::Ok().json(found))
}
