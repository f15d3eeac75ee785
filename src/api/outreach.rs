//! `/outreach`: the outreach log — recording an activity, finding entries, one entry with its
//! history, correcting or rejecting it, importing a CSV file. Each handler parses, calls one use
//! case of [`crate::service::outreach`] and answers.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::views::outreach::OutreachView;
use crate::domain::outreach::OutreachDraft;
use crate::error::AppError;
use crate::service::outreach::{
    self as service, OutreachCorrection, OutreachEdit, OutreachImportReport, OutreachInput,
    OutreachPage, OutreachSearch,
};
use crate::startup::AppState;

/// Largest CSV upload: 10 MiB.
pub const CSV_LIMIT: usize = crate::domain::outreach_import::MAX_FILE_BYTES;

/// Distinguishes "absent" (leave as is) from `null` (clear) in a PATCH body.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A field that is either absent (leave as is) or given: a required field cannot be cleared, so
/// its `null` is refused (400) rather than read as "absent".
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A whole number that is absent or given, never `null` (see [`present`]).
fn present_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    crate::api::whole::i32(d).map(Some)
}

/// A whole number that may be `null` (clear) in a PATCH body.
fn double_option_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i32>>, D::Error> {
    crate::api::whole::option_i32(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOutreach {
    /// The day of the activity: not after today (Vietnam), within the author's certification.
    #[schema(example = "2027-05-20")]
    pub held_on: NaiveDate,
    /// One of the 34 provinces (`docs/provinces.md`).
    #[schema(example = "01")]
    pub province_code: String,
    #[schema(max_length = 200, example = "Phường Ba Đình")]
    pub commune: Option<String>,
    #[schema(example = "door_to_door")]
    pub form: String,
    /// People reached.
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 1, maximum = 1_000_000, example = 40)]
    pub audience: i32,
    /// Employers or groups reached.
    #[serde(default, deserialize_with = "crate::api::whole::option_i32")]
    #[schema(minimum = 0, maximum = 100_000)]
    pub employers_reached: Option<i32>,
    /// A campaign of the author's organisation or one above it whose days contain `held_on`.
    pub campaign_id: Option<Uuid>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Corrected fields (`null` clears an optional one), or `{status: "rejected", reason}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOutreach {
    /// The version the caller saw (as `If-Match`): 409 when the entry has changed since.
    #[serde(default, deserialize_with = "crate::api::whole::option_i32")]
    #[schema(minimum = 1)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "present")]
    pub held_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "present")]
    pub province_code: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 200)]
    pub commune: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub form: Option<String>,
    #[serde(default, deserialize_with = "present_whole")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub audience: Option<i32>,
    #[serde(default, deserialize_with = "double_option_whole")]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 100_000)]
    pub employers_reached: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub campaign_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 2000)]
    pub note: Option<Option<String>>,
    /// Only `rejected` (a coordinator), with a `reason`.
    pub status: Option<String>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OutreachQuery {
    /// That organisation and those below it (in the caller's scope).
    pub organization_id: Option<Uuid>,
    /// Activities held on or after this day.
    pub from: Option<NaiveDate>,
    /// Activities held on or before this day.
    pub to: Option<NaiveDate>,
    pub campaign_id: Option<Uuid>,
    pub status: Option<String>,
    pub author_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// Records an outreach activity of the caller, who holds a valid propagandist or
/// master-trainer certificate today (else 422 `not_certified`).
#[utoipa::path(post, operation_id = "outreach_create", tag = "outreach", path = "/api/v1/outreach", request_body = CreateOutreach,
    responses((status = 201, body = OutreachView), (status = 400, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody, description = "`not_certified`, `campaign_not_applicable`")))]
#[post("/outreach")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateOutreach>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let input = OutreachInput {
        draft: OutreachDraft {
            held_on: Some(b.held_on),
            province_code: b.province_code,
            commune: b.commune,
            form: b.form,
            audience: Some(i64::from(b.audience)),
            employers_reached: b.employers_reached.map(i64::from),
            note: b.note,
        },
        campaign_id: b.campaign_id,
    };
    let view = service::record_outreach(&state.db, &user.actor(), input, state.today()).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Entries the caller may see, newest activity first: the author's own; a coordinator's, HR
/// officer's or administrator's scope.
#[utoipa::path(get, operation_id = "outreach_list", tag = "outreach", path = "/api/v1/outreach", params(OutreachQuery),
    responses((status = 200, body = OutreachPage),
              (status = 400, description = "A bad day, status or page", body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, description = "The organisation is unknown or outside the caller's scope", body = crate::error::ErrorBody)))]
#[get("/outreach")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<OutreachQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let search = OutreachSearch {
        organization_id: q.organization_id,
        author_id: q.author_id,
        from: q.from,
        to: q.to,
        campaign_id: q.campaign_id,
        status: q.status,
        page: q.page,
        per_page: q.per_page,
    };
    let page = service::find_outreach(&state.db, &user.actor(), search).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One entry with its history (its author; staff in scope).
#[utoipa::path(get, operation_id = "outreach_get", tag = "outreach", path = "/api/v1/outreach/{id}",
    responses((status = 200, body = OutreachView), (status = 404, body = crate::error::ErrorBody)))]
#[get("/outreach/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let view = service::outreach_entry(&state.db, &user.actor(), id.into_inner()).await?;
    // the version to send back as `If-Match` when changing it
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .json(view))
}

/// The version an `If-Match` header names (`3`, `"3"` or `W/"3"`).
fn if_match(req: &HttpRequest) -> Result<Option<i32>, AppError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| service::bad_version())?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    match text.parse::<i32>() {
        Ok(v) if v >= 1 => Ok(Some(v)),
        _ => Err(service::bad_version()),
    }
}

impl UpdateOutreach {
    fn corrects_anything(&self) -> bool {
        self.held_on.is_some()
            || self.province_code.is_some()
            || self.commune.is_some()
            || self.form.is_some()
            || self.audience.is_some()
            || self.employers_reached.is_some()
            || self.campaign_id.is_some()
            || self.note.is_some()
    }

    fn into_edit(self) -> Result<OutreachEdit, AppError> {
        match self.status.as_deref() {
            None if self.reason.is_some() => Err(AppError::validation(
                "reason",
                "Lý do chỉ đi kèm khi từ chối (status: rejected).",
            )),
            None => Ok(OutreachEdit::Correct(OutreachCorrection {
                held_on: self.held_on,
                province_code: self.province_code,
                commune: self.commune,
                form: self.form,
                audience: self.audience.map(i64::from),
                employers_reached: self.employers_reached.map(|e| e.map(i64::from)),
                campaign_id: self.campaign_id,
                note: self.note,
            })),
            Some("rejected") if self.corrects_anything() => Err(AppError::validation(
                "status",
                "Từ chối một hoạt động không đi kèm sửa các trường khác.",
            )),
            Some("rejected") => Ok(OutreachEdit::Reject {
                reason: self.reason.unwrap_or_default(),
            }),
            Some(_) => Err(AppError::validation(
                "status",
                "Chỉ có thể đổi trạng thái thành rejected (từ chối).",
            )),
        }
    }
}

/// Corrects an entry (its author while `recorded`; a coordinator in scope) or rejects it with a
/// reason (a coordinator). The previous values go to its history; a rejected entry takes no
/// further change (409); a stale `version` or `If-Match` answers 409.
#[utoipa::path(patch, operation_id = "outreach_update", tag = "outreach", path = "/api/v1/outreach/{id}", request_body = UpdateOutreach,
    params(("If-Match" = Option<String>, Header, description = "The version the caller saw, e.g. `\"2\"`")),
    responses((status = 200, body = OutreachView), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody, description = "`not_certified`, `campaign_not_applicable`")))]
#[patch("/outreach/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<UpdateOutreach>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let expected = match (if_match(&req)?, body.version) {
        (Some(a), Some(b)) if a != b => {
            return Err(AppError::validation(
                "version",
                "If-Match và version phải là cùng một phiên bản.",
            ))
        }
        (header, version) => header.or(version),
    };
    let edit = body.into_edit()?;
    let view = service::change_outreach(
        &state.db,
        &user.actor(),
        id.into_inner(),
        expected,
        edit,
        state.today(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .json(view))
}

/// Imports activities from CSV (header `username,held_on,province_code,commune,form,audience,
/// employers_reached,campaign,note`): a coordinator, for authors in scope; every line is checked
/// first, and a file with any error writes nothing.
#[utoipa::path(post, operation_id = "outreach_import", tag = "outreach", path = "/api/v1/outreach/import", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = OutreachImportReport), (status = 403, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn import(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    if !is_csv {
        return Err(AppError::UnsupportedMediaType);
    }
    let report =
        service::import_outreach(&state.db, &user.actor(), body.to_vec(), state.today()).await?;
    Ok(HttpResponse::Ok().json(report))
}
