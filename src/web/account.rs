//! Signing in and out, the home page for each role, changing one's password.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::labels;
use super::page::{
    render, render_with, safe_next, see_other, FormErrors, Layout, PageError, PageUser,
};
use super::session::{cleared_cookies, session_cookies};
use crate::auth::current_user::{client_address, same_origin};
use crate::domain::people::Role;
use crate::error::AppError;
use crate::service::accounts::{self, SignedIn};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

#[get("/login")]
pub async fn login_form(query: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    render(&LoginPage {
        layout: Layout::public("/login"),
        next: safe_next(query.next.as_deref()),
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: Option<String>,
}

/// The sentence for a failed sign-in: wrong credentials, or the wait after too many attempts.
fn sign_in_error(e: &AppError) -> String {
    match e {
        AppError::InvalidCredentials | AppError::Validation(_) => {
            "Tên đăng nhập hoặc mật khẩu không đúng".into()
        }
        AppError::RateLimited { retry_after_secs } => format!(
            "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau {} phút.",
            retry_after_secs.div_ceil(60).max(1)
        ),
        other => other.public_message(),
    }
}

#[post("/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    // a sign-in form posted from another site would sign the visitor into someone else's account
    if !same_origin(&req, &state.config.public_url) {
        return Err(AppError::Forbidden.into());
    }
    let address = client_address(&req);
    match accounts::sign_in(
        &state.db,
        &state.jwt_secret,
        &form.username,
        form.password,
        &address,
    )
    .await
    {
        Ok(pair) => {
            let secure = state.config.public_url.starts_with("https://");
            let mut res = see_other(&next);
            for c in session_cookies(&pair, secure) {
                res.add_cookie(&c).map_err(AppError::internal)?;
            }
            Ok(res)
        }
        Err(
            e @ (AppError::InvalidCredentials
            | AppError::Validation(_)
            | AppError::RateLimited { .. }),
        ) => {
            use actix_web::ResponseError;
            let mut res = render_with(
                &LoginPage {
                    layout: Layout::public("/login"),
                    next,
                    username: form.username,
                    error: Some(sign_in_error(&e)),
                },
                e.status_code(),
            )?;
            if let AppError::RateLimited { retry_after_secs } = e {
                res.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(retry_after_secs),
                );
            }
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

fn signed_in(page: &PageUser) -> SignedIn {
    SignedIn {
        id: page.user.id,
        username: page.user.username.clone(),
        session_id: page.user.session_id,
        address: page.user.address.clone(),
    }
}

#[post("/logout")]
pub async fn logout(state: web::Data<AppState>, page: PageUser) -> Result<HttpResponse, PageError> {
    accounts::sign_out(&state.db, &signed_in(&page)).await?;
    let mut res = see_other("/login");
    for c in cleared_cookies() {
        res.add_cookie(&c).map_err(AppError::internal)?;
    }
    Ok(res)
}

/// A link on the home page.
struct Card {
    href: &'static str,
    title: &'static str,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    name: String,
    roles: String,
    organization: String,
    cards: Vec<Card>,
}

#[get("/")]
pub async fn home(state: web::Data<AppState>, page: PageUser) -> Result<HttpResponse, PageError> {
    let has = |r| page.has(r);
    let staff = has(Role::Admin) || has(Role::Coordinator) || has(Role::Hr);
    let certified =
        crate::service::outreach::may_record(&state.db, &page.actor(), state.today()).await?;
    let all: Vec<(bool, Card)> = vec![
        (true, Card { href: "/me", title: "Hồ sơ của tôi", text: "Các lớp đã học, điểm danh, điểm và giấy chứng nhận của bạn; tải giấy chứng nhận dạng PDF." }),
        (has(Role::Admin) || has(Role::Coordinator), Card { href: "/cohorts", title: "Lịch lớp", text: "Xếp lớp, phân công giảng viên, ghi danh học viên, điểm danh, chấm điểm và kết thúc lớp." }),
        (true, Card { href: "/campaigns", title: "Chiến dịch", text: "Các chiến dịch của đơn vị bạn và cấp trên, Tháng vận động triển khai BHXH toàn dân; điều phối viên tạo chiến dịch mới." }),
        (has(Role::Admin) || has(Role::Coordinator), Card { href: "/targets", title: "Chỉ tiêu", text: "Đặt chỉ tiêu năm về giảng viên nguồn và tuyên truyền viên cho các đơn vị cấp dưới." }),
        (certified, Card { href: "/outreach/new", title: "Ghi nhận hoạt động tuyên truyền", text: "Ghi lại buổi tuyên truyền vừa thực hiện: ngày, địa bàn, hình thức, số người được tuyên truyền." }),
        (certified || staff, Card { href: "/outreach", title: "Hoạt động tuyên truyền", text: "Các hoạt động đã ghi nhận và lịch sử sửa đổi; điều phối viên sửa, từ chối hoặc nhập từ tệp CSV." }),
        (staff, Card { href: "/certificates", title: "Giấy chứng nhận", text: "Tìm, tải về, xuất danh sách; thu hồi hoặc cấp lại khi vai trò cho phép." }),
        (staff, Card { href: "/people", title: "Nhân sự", text: "Tìm người trong phạm vi của bạn, thêm người, nhập danh sách từ tệp CSV." }),
        (staff, Card { href: "/reports/coverage", title: "Báo cáo độ phủ", text: "Số giảng viên nguồn và tuyên truyền viên còn hiệu lực theo từng đơn vị, so với chỉ tiêu năm." }),
        (staff, Card { href: "/reports/outreach", title: "Báo cáo kết quả tuyên truyền", text: "Số hoạt động, số người được tuyên truyền theo hình thức và theo tháng, tuyên truyền viên có hoạt động." }),
        (has(Role::Admin), Card { href: "/audit", title: "Nhật ký truy cập", text: "Ai đã làm gì, ai đã xem hay tải dữ liệu cá nhân của ai, khi nào." }),
        (true, Card { href: "/account/password", title: "Đổi mật khẩu", text: "Đặt mật khẩu mới; các phiên đăng nhập khác sẽ kết thúc." }),
        (true, Card { href: "/help", title: "Hướng dẫn sử dụng", text: "Hướng dẫn ngắn cho từng vai trò." }),
    ];
    let roles: Vec<&str> = page.user.roles.iter().map(|r| labels::role(*r)).collect();
    render(&HomePage {
        layout: page.layout(),
        name: page.user.full_name.clone(),
        roles: if roles.is_empty() {
            "chưa có".into()
        } else {
            roles.join(", ")
        },
        organization: page.user.profile.organization.name.clone(),
        cards: all
            .into_iter()
            .filter(|(shown, _)| *shown)
            .map(|(_, c)| c)
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    errors: FormErrors,
    done: bool,
}

#[get("/account/password")]
pub async fn password_form(page: PageUser) -> Result<HttpResponse, PageError> {
    render(&PasswordPage {
        layout: page.layout(),
        errors: FormErrors::default(),
        done: false,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
}

#[post("/account/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    page: PageUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let result = accounts::change_own_password(
        &state.db,
        &signed_in(&page),
        form.current_password,
        form.new_password,
    )
    .await;
    match result {
        Ok(()) => render(&PasswordPage {
            layout: page.layout(),
            errors: FormErrors::default(),
            done: true,
        }),
        Err(e @ (AppError::Validation(_) | AppError::RateLimited { .. })) => {
            use actix_web::ResponseError;
            render_with(
                &PasswordPage {
                    layout: page.layout(),
                    errors: FormErrors::from_error(&e),
                    done: false,
                },
                e.status_code(),
            )
        }
        Err(e) => Err(e.into()),
    }
}
