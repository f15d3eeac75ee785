//! The outreach log's pages, made for a phone: recording an activity (`/outreach/new`), the
//! list (`/outreach`: one's own, or the scope's with filters), one entry with its history and
//! the forms to correct or reject it (`/outreach/{id}`), and a CSV upload for coordinators
//! (`/outreach/import`). Every form posts to its own path and calls the use case the API calls.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{
    choices, render, render_with, see_other, Choice, FormErrors, Layout, PageError, PageUser,
};
use super::upload::{read_form, Posted};
use crate::db::outreach::CampaignFacts;
use crate::db::views::outreach::OutreachView;
use crate::domain::access::manages_people;
use crate::domain::outreach::{OutreachDraft, OutreachForm, OutreachStatus};
use crate::error::{AppError, FieldError};
use crate::service::organizations;
use crate::service::outreach::{
    self as service, OutreachCorrection, OutreachEdit, OutreachInput, OutreachSearch,
};
use crate::startup::AppState;

/// Largest form (or CSV file) posted to these pages.
const FORM_LIMIT: usize = crate::domain::outreach_import::MAX_FILE_BYTES;

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// An entry's fields as typed in a form (or as it stands, to correct it).
#[derive(Debug, Clone, Default)]
pub struct EntryForm {
    pub held_on: String,
    pub province_code: String,
    pub commune: String,
    pub form: String,
    pub audience: String,
    pub employers_reached: String,
    pub campaign_id: String,
    pub note: String,
    pub version: String,
}

impl EntryForm {
    fn from_posted(p: &Posted) -> Self {
        let v = |name: &str| p.get(name).unwrap_or("").to_string();
        EntryForm {
            held_on: v("held_on"),
            province_code: v("province_code"),
            commune: v("commune"),
            form: v("form"),
            audience: v("audience"),
            employers_reached: v("employers_reached"),
            campaign_id: v("campaign_id"),
            note: v("note"),
            version: v("version"),
        }
    }

    fn from_view(e: &OutreachView) -> Self {
        EntryForm {
            held_on: e.held_on.to_string(),
            province_code: e.province.code.clone(),
            commune: e.commune.clone().unwrap_or_default(),
            form: e.form.clone(),
            audience: e.audience.to_string(),
            employers_reached: e
                .employers_reached
                .map(|n| n.to_string())
                .unwrap_or_default(),
            campaign_id: e
                .campaign
                .as_ref()
                .map(|c| c.id.to_string())
                .unwrap_or_default(),
            note: e.note.clone().unwrap_or_default(),
            version: e.version.to_string(),
        }
    }

    /// The typed values, or the fields that cannot be read (a date, a number, a choice).
    fn parse(&self) -> Result<(OutreachDraft, Option<Uuid>), AppError> {
        let mut errors = Vec::new();
        let held_on = match NaiveDate::parse_from_str(self.held_on.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    "held_on",
                    "Nhập ngày theo dạng năm-tháng-ngày.",
                ));
                None
            }
        };
        let mut number = |field: &str, raw: &str, required: bool| match raw.trim() {
            "" if !required => None,
            t => match t.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(field, "Nhập một số nguyên."));
                    None
                }
            },
        };
        let audience = number("audience", &self.audience, true);
        let employers_reached = number("employers_reached", &self.employers_reached, false);
        let campaign_id = match self.campaign_id.trim() {
            "" => None,
            v => match v.parse::<Uuid>() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new(
                        "campaign_id",
                        "Chọn một chiến dịch trong danh sách.",
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let optional = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        Ok((
            OutreachDraft {
                held_on,
                province_code: self.province_code.clone(),
                commune: optional(&self.commune),
                form: self.form.clone(),
                audience,
                employers_reached,
                note: optional(&self.note),
            },
            campaign_id,
        ))
    }
}

/// The choices of the entry form: provinces, the six forms (as large radio buttons), campaigns.
struct EntryChoices {
    provinces: Vec<Choice>,
    forms: Vec<Choice>,
    campaigns: Vec<Choice>,
}

fn entry_choices(
    provinces: &[(String, String)],
    campaigns: &[CampaignFacts],
    draft: &EntryForm,
) -> EntryChoices {
    let mut campaign_choices = vec![(String::new(), "Không thuộc chiến dịch nào".to_string())];
    campaign_choices.extend(campaigns.iter().map(|c| {
        (
            c.id.to_string(),
            format!("{} ({} – {})", c.name, day(c.starts_on), day(c.ends_on)),
        )
    }));
    EntryChoices {
        provinces: choices(
            provinces
                .iter()
                .map(|(code, name)| (code.clone(), name.clone())),
            Some(draft.province_code.as_str()),
        ),
        forms: choices(
            OutreachForm::ALL
                .iter()
                .map(|f| (f.as_str().to_string(), f.label().to_string())),
            Some(draft.form.as_str()),
        ),
        campaigns: choices(campaign_choices, Some(draft.campaign_id.as_str())),
    }
}

/// The status a broken rule answers with, as the API would.
fn status_of(e: &AppError) -> StatusCode {
    e.status_code()
}

/// Errors a form shows again; anything else becomes an error page.
fn shown_in_form(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation(_)
            | AppError::Rule { .. }
            | AppError::Conflict { .. }
            | AppError::BadRequest(_)
    )
}

#[derive(Template)]
#[template(path = "outreach_new.html")]
struct NewPage {
    layout: Layout,
    refusal: Option<String>,
    today: String,
    choices: EntryChoices,
    draft: EntryForm,
    errors: FormErrors,
}

async fn new_form(
    state: &AppState,
    page: &PageUser,
    draft: Option<EntryForm>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let today = state.today();
    let form = service::record_form(&state.db, &page.actor(), today).await?;
    let draft = draft.unwrap_or_else(|| EntryForm {
        held_on: today.to_string(),
        province_code: form.home_province.clone().unwrap_or_default(),
        form: OutreachForm::DirectTalk.as_str().into(),
        ..EntryForm::default()
    });
    render_with(
        &NewPage {
            layout: page.layout(),
            refusal: form.refusal,
            today: today.to_string(),
            choices: entry_choices(&form.provinces, &form.campaigns, &draft),
            draft,
            errors,
        },
        status,
    )
}

#[get("/outreach/new")]
pub async fn new_page(
    state: web::Data<AppState>,
    page: PageUser,
) -> Result<HttpResponse, PageError> {
    new_form(&state, &page, None, FormErrors::default(), StatusCode::OK).await
}

#[post("/outreach/new")]
pub async fn record(
    state: web::Data<AppState>,
    page: PageUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let posted = read_form(&req, payload, FORM_LIMIT).await?;
    let draft = EntryForm::from_posted(&posted);
    let result = match draft.parse() {
        Ok((fields, campaign_id)) => {
            let input = OutreachInput {
                draft: fields,
                campaign_id,
            };
            service::record_outreach(&state.db, &page.actor(), input, state.today()).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(entry) => Ok(see_other(&format!("/outreach/{}?recorded=1", entry.id))),
        Err(e) if shown_in_form(&e) => {
            let status = status_of(&e);
            new_form(
                &state,
                &page,
                Some(draft),
                FormErrors::from_error(&e),
                status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// One row of the list.
struct Line {
    id: Uuid,
    held_on: String,
    form: String,
    place: String,
    audience: i32,
    author: String,
    organization: String,
    status: &'static str,
    status_class: String,
}

#[derive(Template)]
#[template(path = "outreach_list.html")]
struct ListPage {
    layout: Layout,
    staff: bool,
    may_import: bool,
    lines: Vec<Line>,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    from: String,
    to: String,
    statuses: Vec<Choice>,
    organizations: Vec<Choice>,
}

#[derive(Deserialize, Default, Clone, serde::Serialize)]
pub struct ListQuery {
    pub organization_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<String>,
    pub page: Option<i64>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[get("/outreach")]
pub async fn list(
    state: web::Data<AppState>,
    page: PageUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let actor = page.actor();
    let staff = manages_people(&actor.roles);
    let date = |field: &str, v: &Option<String>| -> Result<Option<NaiveDate>, AppError> {
        filled(v)
            .map(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| AppError::validation(field, "Nhập ngày theo dạng năm-tháng-ngày."))
            })
            .transpose()
    };
    let organization_id = filled(&q.organization_id)
        .map(|s| s.parse::<Uuid>().map_err(|_| AppError::NotFound))
        .transpose()?;
    let current = q.page.unwrap_or(1).max(1);
    let found = service::find_outreach(
        &state.db,
        &actor,
        OutreachSearch {
            organization_id,
            from: date("from", &q.from)?,
            to: date("to", &q.to)?,
            status: filled(&q.status).map(str::to_string),
            page: Some(current),
            per_page: Some(50),
            ..OutreachSearch::default()
        },
    )
    .await?;
    let mut org_choices = vec![(String::new(), "Tất cả trong phạm vi".to_string())];
    if staff {
        let orgs = organizations::organizations(&state.db, &actor).await?;
        org_choices.extend(
            orgs.items
                .iter()
                .map(|o| (o.id.to_string(), o.name.clone())),
        );
    }
    let mut statuses = vec![(String::new(), "Tất cả".to_string())];
    statuses.extend(
        [OutreachStatus::Recorded, OutreachStatus::Rejected]
            .iter()
            .map(|s| (s.as_str().to_string(), s.label().to_string())),
    );
    let pages = ((found.total + found.per_page - 1) / found.per_page).max(1);
    let href = |n: i64| {
        let mut next = q.clone();
        next.page = Some(n);
        format!(
            "/outreach?{}",
            serde_urlencoded::to_string(&next).unwrap_or_default()
        )
    };
    render(&ListPage {
        layout: page.layout(),
        staff,
        may_import: service::may_import(&actor),
        total: found.total,
        page: current,
        pages,
        prev_href: (current > 1).then(|| href(current - 1)),
        next_href: (current < pages).then(|| href(current + 1)),
        from: filled(&q.from).unwrap_or("").to_string(),
        to: filled(&q.to).unwrap_or("").to_string(),
        statuses: choices(statuses, Some(filled(&q.status).unwrap_or(""))),
        organizations: choices(org_choices, Some(filled(&q.organization_id).unwrap_or(""))),
        lines: found
            .items
            .into_iter()
            .map(|e| Line {
                id: e.id,
                held_on: day(e.held_on),
                form: OutreachForm::label_of(&e.form),
                place: match &e.commune {
                    Some(c) => format!("{c}, {}", e.province.name),
                    None => e.province.name.clone(),
                },
                audience: e.audience,
                author: e.author.full_name,
                organization: e.organization.name,
                status: OutreachStatus::parse(&e.status).map_or("", OutreachStatus::label),
                status_class: e.status,
            })
            .collect(),
    })
}

/// One earlier version, in words.
struct HistoryLine {
    version: i32,
    when: String,
    by: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "outreach_entry.html")]
struct EntryPage {
    layout: Layout,
    entry: OutreachView,
    held_on: String,
    form_label: String,
    status_label: &'static str,
    recorded: bool,
    history: Vec<HistoryLine>,
    may_correct: bool,
    may_reject: bool,
    today: String,
    choices: EntryChoices,
    draft: EntryForm,
    correct_errors: FormErrors,
    reason: String,
    reject_errors: FormErrors,
}

/// An entry's earlier versions in words, newest first: provinces and campaigns by their names.
fn history_lines(
    entry: &OutreachView,
    provinces: &[(String, String)],
    campaigns: &[CampaignFacts],
) -> Vec<HistoryLine> {
    let vietnam = crate::domain::training::vietnam_time();
    entry
        .history
        .iter()
        .flatten()
        .rev()
        .map(|r| {
            let p = &r.previous;
            let text = |k: &str| p[k].as_str().unwrap_or("").to_string();
            let held_on = NaiveDate::parse_from_str(&text("held_on"), "%Y-%m-%d")
                .map(day)
                .unwrap_or_default();
            let mut summary = format!(
                "Ngày {held_on}; {}; {} người",
                OutreachForm::label_of(&text("form")),
                p["audience"].as_i64().unwrap_or(0)
            );
            if let Some(n) = p["employers_reached"].as_i64() {
                summary.push_str(&format!("; {n} đơn vị, nhóm"));
            }
            if !text("commune").is_empty() {
                summary.push_str(&format!("; {}", text("commune")));
            }
            let code = text("province_code");
            match provinces.iter().find(|(c, _)| *c == code) {
                Some((_, name)) => summary.push_str(&format!("; {name}")),
                None => summary.push_str(&format!("; tỉnh, thành phố mã {code}")),
            }
            let campaign = text("campaign_id");
            if !campaign.is_empty() {
                match campaigns.iter().find(|c| c.id.to_string() == campaign) {
                    Some(c) => summary.push_str(&format!("; chiến dịch {}", c.name)),
                    None => summary.push_str("; thuộc một chiến dịch"),
                }
            }
            if !text("note").is_empty() {
                summary.push_str(&format!("; ghi chú: {}", text("note")));
            }
            summary.push('.');
            HistoryLine {
                version: r.version,
                when: r
                    .revised_at
                    .with_timezone(&vietnam)
                    .format("%H:%M %d/%m/%Y")
                    .to_string(),
                by: r
                    .revised_by
                    .as_ref()
                    .map_or_else(String::new, |b| b.full_name.clone()),
                summary,
            }
        })
        .collect()
}

/// What the entry page shows after a form: the draft and errors of the form that was posted.
#[derive(Default)]
struct Posting {
    /// Just recorded: the page says so.
    recorded: bool,
    draft: Option<EntryForm>,
    correct_errors: FormErrors,
    reason: String,
    reject_errors: FormErrors,
}

async fn show_entry(
    state: &AppState,
    page: &PageUser,
    id: Uuid,
    posting: Posting,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let actor = page.actor();
    let entry = service::outreach_entry(&state.db, &actor, id).await?;
    let may = service::permitted(&actor, &entry);
    let options = service::entry_choices(&state.db, entry.organization.id, state.today()).await?;
    let draft = posting
        .draft
        .unwrap_or_else(|| EntryForm::from_view(&entry));
    render_with(
        &EntryPage {
            layout: page.layout(),
            held_on: day(entry.held_on),
            form_label: OutreachForm::label_of(&entry.form),
            status_label: OutreachStatus::parse(&entry.status).map_or("", OutreachStatus::label),
            recorded: posting.recorded,
            history: history_lines(&entry, &options.provinces, &options.campaigns),
            may_correct: may.correct,
            may_reject: may.reject,
            today: state.today().to_string(),
            choices: entry_choices(&options.provinces, &options.campaigns, &draft),
            draft,
            correct_errors: posting.correct_errors,
            reason: posting.reason,
            reject_errors: posting.reject_errors,
            entry,
        },
        status,
    )
}

#[derive(Deserialize)]
pub struct EntryQuery {
    pub recorded: Option<String>,
}

#[get("/outreach/{id}")]
pub async fn entry_page(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
    query: web::Query<EntryQuery>,
) -> Result<HttpResponse, PageError> {
    // the note after recording is a flag of the address, not state
    let posting = Posting {
        recorded: query.recorded.is_some(),
        ..Posting::default()
    };
    show_entry(&state, &page, id.into_inner(), posting, StatusCode::OK).await
}

#[post("/outreach/{id}")]
pub async fn change(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let posted = read_form(&req, payload, FORM_LIMIT).await?;
    let version = posted.filled("version").and_then(|v| v.parse::<i32>().ok());
    if posted.get("action") == Some("reject") {
        let reason = posted.get("reason").unwrap_or("").to_string();
        let result = if posted.get("confirm") != Some("yes") {
            Err(AppError::validation(
                "confirm",
                "Hãy đánh dấu ô xác nhận để từ chối hoạt động này.",
            ))
        } else {
            service::change_outreach(
                &state.db,
                &page.actor(),
                id,
                version,
                OutreachEdit::Reject {
                    reason: reason.clone(),
                },
                state.today(),
            )
            .await
        };
        return match result {
            Ok(_) => Ok(see_other(&format!("/outreach/{id}"))),
            Err(e) if shown_in_form(&e) => {
                let posting = Posting {
                    reason,
                    reject_errors: FormErrors::from_error(&e),
                    ..Posting::default()
                };
                show_entry(&state, &page, id, posting, status_of(&e)).await
            }
            Err(e) => Err(e.into()),
        };
    }
    let draft = EntryForm::from_posted(&posted);
    let result = match draft.parse() {
        Ok((fields, campaign_id)) => {
            let correction = OutreachCorrection {
                held_on: fields.held_on,
                province_code: Some(fields.province_code),
                commune: Some(fields.commune),
                form: Some(fields.form),
                audience: fields.audience,
                employers_reached: Some(fields.employers_reached),
                campaign_id: Some(campaign_id),
                note: Some(fields.note),
            };
            service::change_outreach(
                &state.db,
                &page.actor(),
                id,
                version,
                OutreachEdit::Correct(correction),
                state.today(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/outreach/{id}"))),
        Err(e) if shown_in_form(&e) => {
            let posting = Posting {
                draft: Some(draft),
                correct_errors: FormErrors::from_error(&e),
                ..Posting::default()
            };
            show_entry(&state, &page, id, posting, status_of(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "outreach_import.html")]
struct ImportPage {
    layout: Layout,
    imported: Option<String>,
    import_error: Option<String>,
    import_errors: Vec<crate::domain::user_import::ImportError>,
}

fn may_import(page: &PageUser) -> Result<(), PageError> {
    if service::may_import(&page.actor()) {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

#[get("/outreach/import")]
pub async fn import_page(page: PageUser) -> Result<HttpResponse, PageError> {
    may_import(&page)?;
    render(&ImportPage {
        layout: page.layout(),
        imported: None,
        import_error: None,
        import_errors: Vec::new(),
    })
}

#[post("/outreach/import")]
pub async fn import(
    state: web::Data<AppState>,
    page: PageUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    may_import(&page)?;
    let posted = read_form(&req, payload, FORM_LIMIT).await?;
    let mut shown = ImportPage {
        layout: page.layout(),
        imported: None,
        import_error: None,
        import_errors: Vec::new(),
    };
    let Some(bytes) = posted.file else {
        shown.import_error = Some("Chọn một tệp CSV để nhập.".into());
        return render_with(&shown, StatusCode::BAD_REQUEST);
    };
    let report = service::import_outreach(&state.db, &page.actor(), bytes, state.today()).await?;
    if report.errors.is_empty() {
        shown.imported = Some(format!("Đã nhập {} hoạt động.", report.created));
    } else {
        shown.import_errors = report.errors;
    }
    render(&shown)
}
