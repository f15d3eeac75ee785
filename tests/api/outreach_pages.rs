//! The outreach log's pages: recording from a phone, a person without a certificate told why,
//! a broken rule shown in the form with the API's status, a coordinator's list, correction and
//! rejection, and the CSV upload.

use crate::harness::spawn_app;
use crate::outreach::{activity, Outreach};
use crate::pages::{get_page, post_file, post_form, sign_in};

fn entries(app: &crate::harness::TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM outreach_entries")
}

#[actix_rt::test]
async fn a_propagandist_records_an_activity_from_the_form_and_sees_it() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let lan = sign_in(&app, "lan.tt").await;
    let form = get_page(&app, "/outreach/new", &lan).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Ghi nhận hoạt động tuyên truyền"));
    // today by default, and the province of the person's organisation (Hà Nội, 01)
    assert!(form.body.contains("value=\"2027-06-01\""), "{}", form.body);
    assert!(form
        .body
        .contains("<option value=\"01\" selected>Hà Nội</option>"));
    assert!(form
        .body
        .contains("type=\"radio\" name=\"form\" value=\"door_to_door\""));
    assert!(form.body.contains("Video ngắn"));
    assert!(form.body.contains("Tháng vận động 2027"));

    let campaign = w.campaign.to_string();
    let posted = post_form(
        &app,
        "/outreach/new",
        &lan,
        &[
            ("held_on", "2027-05-20"),
            ("province_code", "01"),
            ("commune", "Phường Ba Đình"),
            ("form", "conference"),
            ("audience", "75"),
            ("employers_reached", ""),
            ("campaign_id", &campaign),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let location = posted.location.unwrap();
    assert!(location.starts_with("/outreach/"));
    let shown = get_page(&app, &location, &lan).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("Đã ghi nhận hoạt động."));
    assert!(shown.body.contains("Hội nghị, hội thảo"));
    assert!(shown.body.contains("Phường Ba Đình, Hà Nội"));
    assert_eq!(entries(&app), 1);
    let list = get_page(&app, "/outreach", &lan).await;
    assert!(list.body.contains("20/05/2027"), "{}", list.body);
    let mine = get_page(&app, "/me/data", &lan).await;
    assert!(mine.body.contains("Hội nghị, hội thảo"), "{}", mine.body);
    assert!(!mine
        .body
        .contains("Bạn chưa ghi nhận hoạt động tuyên truyền nào."));
}

#[actix_rt::test]
async fn a_broken_rule_shows_the_form_again_and_an_uncertified_person_sees_why() {
    let app = spawn_app().await;
    Outreach::build(&app).await;
    let lan = sign_in(&app, "lan.tt").await;
    let future = post_form(
        &app,
        "/outreach/new",
        &lan,
        &[
            ("held_on", "2027-07-01"),
            ("province_code", "01"),
            ("form", "online"),
            ("audience", "12"),
        ],
    )
    .await;
    assert_eq!(future.status, 400);
    assert!(
        future.body.contains("không được sau ngày hôm nay"),
        "{}",
        future.body
    );
    assert!(future.body.contains("value=\"12\""), "the draft stays");
    let before_certificate = post_form(
        &app,
        "/outreach/new",
        &lan,
        &[
            ("held_on", "2026-06-01"),
            ("province_code", "01"),
            ("form", "online"),
            ("audience", "12"),
        ],
    )
    .await;
    assert_eq!(before_certificate.status, 422);
    assert!(before_certificate
        .body
        .contains("thời gian hiệu lực giấy chứng nhận"));
    assert_eq!(entries(&app), 0);

    let coordinator = sign_in(&app, "dieuphoi.hn").await;
    let refused = get_page(&app, "/outreach/new", &coordinator).await;
    assert_eq!(refused.status, 200);
    assert!(refused
        .body
        .contains("giấy chứng nhận tuyên truyền viên hoặc giảng viên nguồn còn hiệu lực"));
    assert!(
        !refused.body.contains("name=\"audience\""),
        "no form to fill"
    );
    let posted = post_form(
        &app,
        "/outreach/new",
        &coordinator,
        &[
            ("held_on", "2027-05-20"),
            ("province_code", "01"),
            ("form", "online"),
            ("audience", "12"),
        ],
    )
    .await;
    assert_eq!(posted.status, 422);
    assert_eq!(entries(&app), 0);
}

#[actix_rt::test]
async fn a_coordinator_lists_corrects_and_rejects_an_entry_through_the_pages() {
    let app = spawn_app().await;
    let w = Outreach::build(&app).await;
    let answer = app
        .post("/api/v1/outreach", Some(&w.lan_token), &activity())
        .await;
    let id = answer.json["id"].as_str().unwrap().to_string();
    let hn = sign_in(&app, "dieuphoi.hn").await;
    let list = get_page(&app, "/outreach", &hn).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!("/outreach/{id}")));
    assert!(list.body.contains("Nguyễn Văn lan tt"));
    let path = format!("/outreach/{id}");
    let page = get_page(&app, &path, &hn).await;
    assert!(page.body.contains("Sửa hoạt động") && page.body.contains("Từ chối hoạt động"));
    // the author may correct but not reject
    let lan = sign_in(&app, "lan.tt").await;
    let own = get_page(&app, &path, &lan).await;
    assert!(own.body.contains("Sửa hoạt động") && !own.body.contains("Lý do từ chối"));

    let corrected = post_form(
        &app,
        &path,
        &hn,
        &[
            ("action", "correct"),
            ("version", "1"),
            ("held_on", "2027-05-20"),
            ("province_code", "01"),
            ("commune", "Phường Ba Đình"),
            ("form", "door_to_door"),
            ("audience", "45"),
            ("employers_reached", "3"),
            ("campaign_id", ""),
            ("note", "Tuyên truyền BHXH tự nguyện cho hộ kinh doanh"),
        ],
    )
    .await;
    assert_eq!(corrected.status, 303, "{}", corrected.body);
    let page = get_page(&app, &path, &hn).await;
    assert!(page.body.contains("(phiên bản 1)"), "{}", page.body);
    assert!(page.body.contains("40 người"));

    let unconfirmed = post_form(
        &app,
        &path,
        &hn,
        &[("action", "reject"), ("reason", "Trùng lặp")],
    )
    .await;
    assert_eq!(unconfirmed.status, 400);
    assert!(unconfirmed.body.contains("ô xác nhận"));
    let rejected = post_form(
        &app,
        &path,
        &hn,
        &[
            ("action", "reject"),
            ("reason", "Trùng lặp"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(rejected.status, 303);
    let page = get_page(&app, &path, &hn).await;
    assert!(page.body.contains("Bị từ chối") && page.body.contains("lý do: Trùng lặp"));
    // the rejection keeps version 2 in the history, told as a change, not as a correction
    assert!(page.body.contains("thay đổi lúc") && page.body.contains("(phiên bản 2)"));
    assert!(!page.body.contains("sửa lúc"));
    assert!(
        !page.body.contains("Lưu thay đổi"),
        "no further change is offered"
    );
    let again = post_form(
        &app,
        &path,
        &hn,
        &[
            ("action", "reject"),
            ("reason", "Lần nữa"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(again.status, 409);
    // another branch's coordinator does not find it
    let hcm = sign_in(&app, "dieuphoi.hcm").await;
    assert_eq!(get_page(&app, &path, &hcm).await.status, 404);
}

#[actix_rt::test]
async fn a_coordinator_uploads_a_csv_file_and_sees_its_line_errors() {
    let app = spawn_app().await;
    Outreach::build(&app).await;
    let hn = sign_in(&app, "dieuphoi.hn").await;
    assert_eq!(get_page(&app, "/outreach/import", &hn).await.status, 200);
    let bad =
        "username,held_on,province_code,commune,form,audience,employers_reached,campaign,note\n\
               lan.tt,2027-05-20,01,,online,10,,,\n\
               lan.tt,2027-05-21,01,,podcast,10,,,\n";
    let page = post_file(&app, "/outreach/import", &hn, "file", bad.as_bytes()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Dòng 3"), "{}", page.body);
    assert_eq!(entries(&app), 0);
    let good =
        "username,held_on,province_code,commune,form,audience,employers_reached,campaign,note\n\
                lan.tt,2027-05-20,01,,online,10,,,\n\
                minh.gv,2027-05-21,01,,social_media,500,,,\n";
    let page = post_file(&app, "/outreach/import", &hn, "file", good.as_bytes()).await;
    assert!(page.body.contains("Đã nhập 2 hoạt động."), "{}", page.body);
    assert_eq!(entries(&app), 2);
    let lan = sign_in(&app, "lan.tt").await;
    assert_eq!(get_page(&app, "/outreach/import", &lan).await.status, 403);
}
