//! "Rút khỏi hệ thống": an administrator's confirmation page for retiring a person, and the form
//! that does it (the same use case as `POST /api/v1/users/{id}/retire`).

use actix_web::{get, post, web, HttpResponse, ResponseError};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::labels;
use super::page::{render, render_with, FormErrors, Layout, PageError, PageUser};
use crate::db::users::UserView;
use crate::error::AppError;
use crate::service::retirement;
use crate::startup::AppState;

/// The person as the confirmation shows them: enough to be sure it is the right one.
struct Who {
    full_name: String,
    username: String,
    organization: String,
    category: &'static str,
}

impl From<&UserView> for Who {
    fn from(v: &UserView) -> Self {
        Who {
            full_name: v.full_name.clone(),
            username: v.username.clone(),
            organization: v.organization.name.clone(),
            category: labels::category(&v.category),
        }
    }
}

#[derive(Template)]
#[template(path = "retire.html")]
struct RetirePage {
    layout: Layout,
    id: Uuid,
    who: Who,
    /// Already retired (before this visit, or by the form just posted).
    retired: bool,
    /// The form was just carried out.
    done: bool,
    reason: String,
    errors: FormErrors,
}

#[get("/people/{id}/retire")]
pub async fn confirm_page(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let found = retirement::candidate(&state.db, &page.actor(), id).await?;
    render(&RetirePage {
        layout: page.layout(),
        id,
        who: Who::from(&found.person),
        retired: found.retired,
        done: false,
        reason: String::new(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct RetireForm {
    #[serde(default)]
    pub reason: String,
    /// The confirmation check box: `yes` when ticked.
    pub confirm: Option<String>,
}

#[post("/people/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    page: PageUser,
    id: web::Path<Uuid>,
    form: web::Form<RetireForm>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let actor = page.actor();
    let result = if form.confirm.as_deref() == Some("yes") {
        retirement::retire_person(&state.db, &actor, id, &form.reason).await
    } else {
        Err(AppError::validation(
            "confirm",
            "Hãy đánh dấu xác nhận trước khi rút người này khỏi hệ thống.",
        ))
    };
    match result {
        Ok(view) => render(&RetirePage {
            layout: page.layout(),
            id,
            who: Who::from(&view),
            retired: true,
            done: true,
            reason: String::new(),
            errors: FormErrors::default(),
        }),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            // the form again, with the person as they are now and what went wrong
            let found = retirement::candidate(&state.db, &actor, id).await?;
            render_with(
                &RetirePage {
                    layout: page.layout(),
                    id,
                    who: Who::from(&found.person),
                    retired: found.retired,
                    done: false,
                    reason: form.reason,
                    errors: FormErrors::from_error(&e),
                },
                e.status_code(),
            )
        }
        Err(e) => Err(e.into()),
    }
}
