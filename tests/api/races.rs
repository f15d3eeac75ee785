//! Races: requests that arrive at the same moment end as if they had come one after the other.

use futures_util::future::join_all;
use serde_json::json;
use uuid::Uuid;

use crate::harness::{assert_status, TestApp};
use crate::training::{chain, course, enrolled, running_tier2_cohort, score};

async fn withdraw(app: &TestApp, token: &str, cohort: Uuid, enrollment: Uuid) -> u16 {
    app.delete(
        &format!("/api/v1/cohorts/{cohort}/enrollments/{enrollment}"),
        Some(token),
    )
    .await
    .status
    .as_u16()
}

/// A score and a withdrawal of the same enrolment, sent together, end in one of the two orders:
/// scored then withdrawn (the score stays, as it would one after the other), or withdrawn then
/// refused (409 `conflict`, no score). Never a score recorded on an enrolment already withdrawn.
#[actix_web::test]
async fn a_withdrawn_enrolment_never_gets_a_score_even_when_both_arrive_together() {
    let app = crate::harness::spawn_app().await;
    let c = chain(&app).await;
    let (id, _) = running_tier2_cohort(&app, &c).await;
    let (rounds, pairs) = (10, 4);
    let (mut scored, mut refused) = (0, 0);
    for round in 0..rounds {
        let mut people = Vec::new();
        for pair in 0..pairs {
            let person = app.person(
                &format!("hv.{round}.{pair}"),
                "HN-BADINH",
                &["trainee"],
                "official",
            );
            people.push(enrolled(&app, &c.hn, id, person).await);
        }
        let scores = join_all(people.iter().map(|e| score(&app, &c.hn, *e, 80.0)));
        let withdrawals = join_all(people.iter().map(|e| withdraw(&app, &c.hn, id, *e)));
        let (scores, withdrawals) = futures_util::future::join(scores, withdrawals).await;
        for ((enrollment, answer), withdrawn) in people.iter().zip(&scores).zip(&withdrawals) {
            assert_eq!(
                *withdrawn, 204,
                "round {round}: the withdrawal of {enrollment}"
            );
            match answer.status.as_u16() {
                200 => {
                    // the answer is read in the scoring transaction: it must predate the withdrawal
                    assert_eq!(
                        answer.json["status"], "enrolled",
                        "round {round}: {enrollment} was scored after it had been withdrawn"
                    );
                    scored += 1;
                }
                409 => {
                    assert_eq!(answer.error_code(), "conflict");
                    refused += 1;
                }
                other => panic!("round {round}: scoring {enrollment} answered {other}"),
            }
        }
    }
    // the audit trail agrees: no score recorded after the withdrawal of the same enrolment
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_events s JOIN audit_events w \
             ON w.object_id = s.object_id AND w.action = 'withdrawn' \
             WHERE s.action = 'score_recorded' AND s.id > w.id"
        ),
        0
    );
    // and every refused score left none behind
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM enrollments WHERE status = 'withdrawn' AND score IS NOT NULL"
        ),
        scored
    );
    assert_eq!(scored + refused, rounds * pairs);
}

/// A course is superseded once: of several newer courses created at the same moment, each naming
/// the same old course, one is created and the others are refused as if they had come later.
#[actix_web::test]
async fn only_one_of_concurrent_newer_courses_supersedes_the_old_one() {
    let app = crate::harness::spawn_app().await;
    let c = chain(&app).await;
    let (rounds, n) = (10, 6);
    for round in 0..rounds {
        let old = course(&app, &c.bhxh, &format!("TTV-CU-{round}"), "propagandist").await;
        let bodies: Vec<_> = (0..n)
            .map(|i| {
                json!({
                    "code": format!("TTV-MOI-{round}-{i}"), "title": "Bồi dưỡng tuyên truyền viên",
                    "tier": "propagandist", "curriculum_version": "Luật BHXH 2024 (sửa đổi 2026)",
                    "required_hours": 8, "min_attendance_percent": 70, "pass_score": 50,
                    "certificate_validity_months": 24, "supersedes_id": old
                })
            })
            .collect();
        let answers = join_all(
            bodies
                .iter()
                .map(|body| app.post("/api/v1/courses", Some(&c.bhxh), body)),
        )
        .await;
        let created: Vec<_> = answers
            .iter()
            .filter(|a| a.status.as_u16() == 201)
            .collect();
        let refused: Vec<_> = answers
            .iter()
            .filter(|a| a.status.as_u16() == 409)
            .collect();
        assert_eq!(
            (created.len(), refused.len()),
            (1, n - 1),
            "round {round}: (created, refused)"
        );
        for answer in &refused {
            assert_eq!(answer.error_code(), "conflict");
            assert_eq!(
                answer.json["error"]["message"],
                "Khóa bồi dưỡng này đã được thay thế bằng một khóa khác."
            );
        }
        let old = app
            .get(&format!("/api/v1/courses/{old}"), Some(&c.bhxh))
            .await;
        assert_status(&old, 200);
        assert_eq!(old.json["superseded_by_id"], created[0].json["id"]);
        // the refused courses were not created
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) AS n FROM courses WHERE code LIKE 'TTV-MOI-{round}-%'"
            )),
            1
        );
    }
}
