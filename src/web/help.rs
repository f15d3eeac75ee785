//! The user guide, one short section per role.

use actix_web::{get, HttpResponse};
use askama::Template;

use super::page::{render, Layout, PageError};
use crate::auth::current_user::CurrentUser;

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    layout: Layout,
}

#[get("/help")]
pub async fn page(user: Option<CurrentUser>) -> Result<HttpResponse, PageError> {
    let layout = match &user {
        Some(u) => Layout::for_user(u, "/help"),
        None => Layout::public("/help"),
    };
    render(&HelpPage { layout })
}
