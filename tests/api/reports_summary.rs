//! The reports' maintained summaries: after a pseudo-random run of the operations that change
//! them (finalise, revoke, reissue, supersede a course, move a holder, record, correct and
//! reject outreach), the summaries kept step by step equal a rebuild from the base tables, and
//! every figure of the reports equals a direct count over those tables.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Uuid as SqlUuid};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, date, spawn_app, CertificateBuilder, TestApp};
use crate::training::{chain, newer_curriculum, Chain};

/// A small deterministic generator (xorshift): the same seed, the same run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

fn ids(app: &TestApp, sql: &str) -> Vec<Uuid> {
    diesel::sql_query(sql)
        .load::<Id>(&mut app.db())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn snapshot(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let mut conn = app.db();
    let coverage = cascade::db::coverage_summary::nonzero_deltas(&mut conn)
        .unwrap()
        .into_iter()
        .map(|d| format!("{d:?}"))
        .collect();
    let outreach = cascade::db::outreach_summary::nonzero_rows(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.row)
        .collect();
    (coverage, outreach)
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Each organisation's figures on `as_of`, straight from the base tables (every organisation
/// counting the people of those below it).
fn direct_coverage(app: &TestApp, as_of: NaiveDate) -> HashMap<(String, String), i64> {
    let rows: Vec<Counted> = diesel::sql_query(
        "WITH RECURSIVE anc(org, ancestor) AS (
             SELECT id, id FROM organizations
             UNION ALL
             SELECT anc.org, o.parent_id FROM anc JOIN organizations o ON o.id = anc.ancestor
             WHERE o.parent_id IS NOT NULL
         ),
         valid AS (
             SELECT c.*, k.superseded_on <= $1 AS old_course, a.ancestor
             FROM certificates c JOIN users u ON u.id = c.holder_id
             JOIN anc a ON a.org = u.organization_id JOIN courses k ON k.id = c.course_id
             WHERE c.issued_on <= $1 AND c.valid_until >= $1
               AND (c.ended_on IS NULL OR c.ended_on > $1)
         ),
         counted AS (
             SELECT ancestor, 'master_trainers_valid' AS measure, count(DISTINCT holder_id) AS n
             FROM valid WHERE tier = 'master_trainer' GROUP BY ancestor
             UNION ALL
             SELECT ancestor, 'propagandists_valid', count(DISTINCT holder_id)
             FROM valid WHERE tier = 'propagandist' GROUP BY ancestor
             UNION ALL
             SELECT ancestor, 'certificates_expiring_90d', count(*)
             FROM valid WHERE valid_until < $1 + 90 GROUP BY ancestor
             UNION ALL
             SELECT ancestor, 'needing_refresher', count(DISTINCT holder_id)
             FROM valid WHERE old_course GROUP BY ancestor
             UNION ALL
             SELECT a.ancestor, 'completions_this_year', count(*)
             FROM enrollments e JOIN cohorts h ON h.id = e.cohort_id
             JOIN users u ON u.id = e.user_id JOIN anc a ON a.org = u.organization_id
             WHERE e.status = 'completed' AND h.ends_on <= $1
               AND date_part('year', h.ends_on) = date_part('year', $1::date)
             GROUP BY a.ancestor
         )
         SELECT o.code, c.measure, c.n FROM counted c JOIN organizations o ON o.id = c.ancestor",
    )
    .bind::<Date, _>(as_of)
    .load(&mut app.db())
    .unwrap();
    rows.into_iter()
        .map(|r| ((r.code, r.measure), r.n))
        .collect()
}

/// The outreach figures of `[from, to]`, straight from the entries.
fn direct_outreach(
    app: &TestApp,
    from: NaiveDate,
    to: NaiveDate,
) -> HashMap<(String, String), i64> {
    let rows: Vec<Counted> = diesel::sql_query(
        "WITH RECURSIVE anc(org, ancestor) AS (
             SELECT id, id FROM organizations
             UNION ALL
             SELECT anc.org, o.parent_id FROM anc JOIN organizations o ON o.id = anc.ancestor
             WHERE o.parent_id IS NOT NULL
         ),
         counting AS (
             SELECT x.*, a.ancestor FROM outreach_entries x JOIN anc a ON a.org = x.organization_id
             WHERE x.status = 'recorded' AND x.held_on BETWEEN $1 AND $2
         ),
         counted AS (
             SELECT ancestor, 'activities' AS measure, count(*)::bigint AS n
             FROM counting GROUP BY ancestor
             UNION ALL
             SELECT ancestor, 'audience', sum(audience)::bigint FROM counting GROUP BY ancestor
             UNION ALL
             SELECT ancestor, 'employers_reached', sum(coalesce(employers_reached, 0))::bigint
             FROM counting GROUP BY ancestor
             UNION ALL
             SELECT ancestor, 'active_propagandists', count(DISTINCT author_id)
             FROM counting GROUP BY ancestor
         )
         SELECT o.code, c.measure, c.n FROM counted c JOIN organizations o ON o.id = c.ancestor",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(&mut app.db())
    .unwrap();
    rows.into_iter()
        .map(|r| ((r.code, r.measure), r.n))
        .collect()
}

fn assert_figures(
    report: &Value,
    direct: &HashMap<(String, String), i64>,
    fields: &[&str],
    what: &str,
) {
    for item in report["items"].as_array().unwrap() {
        let code = item["organization"]["code"].as_str().unwrap();
        for field in fields {
            let expected = direct
                .get(&(code.to_string(), field.to_string()))
                .copied()
                .unwrap_or(0);
            assert_eq!(item[*field], expected, "{what}: {code} {field}");
        }
    }
}

async fn run(seed: u64) {
    let app = spawn_app().await;
    let c: Chain = chain(&app).await;
    finished_cohort(&app, &c).await;
    let trainees = [
        (c.hang, c.hang_token.clone()),
        (c.tuan, app.login("tuan.lv").await),
        (c.ngoc, app.login("ngoc.bt").await),
    ];
    // certified since January too (a course of their own), so they record any day of the year
    for (who, _) in &trainees {
        CertificateBuilder::propagandist(*who).insert(&app);
    }
    let places = [app.org("HN-BADINH"), app.org("BHXH-HN")];
    let days = [
        "2027-02-14",
        "2027-03-31",
        "2027-04-01",
        "2027-05-12",
        "2027-05-31",
        "2027-06-01",
    ];
    let forms = [
        "direct_talk",
        "conference",
        "door_to_door",
        "online",
        "social_media",
        "short_video",
    ];
    let mut dice = Dice(seed);
    let mut superseded = false;
    let mut done: HashMap<&str, usize> = HashMap::new();
    for _ in 0..30 {
        let op = dice.below(10);
        match op {
            0 => {
                let valid = ids(&app, "SELECT id FROM certificates WHERE status = 'valid' AND cohort_id IS NOT NULL ORDER BY serial");
                if let Some(id) = valid.get(dice.below(valid.len().max(1))) {
                    let a = app
                        .post(
                            &format!("/api/v1/certificates/{id}/revoke"),
                            Some(&c.hn),
                            &json!({"reason": "sai sót"}),
                        )
                        .await;
                    assert_status(&a, 200);
                    *done.entry("revoke").or_default() += 1;
                }
            }
            1 => {
                let valid = ids(&app, "SELECT id FROM certificates WHERE status = 'valid' AND cohort_id IS NOT NULL ORDER BY serial");
                if let Some(id) = valid.get(dice.below(valid.len().max(1))) {
                    let a = app
                        .post(
                            &format!("/api/v1/certificates/{id}/reissue"),
                            Some(&c.hn),
                            &json!({"full_name": "Lê Thị Sửa"}),
                        )
                        .await;
                    assert_status(&a, 201);
                    *done.entry("reissue").or_default() += 1;
                }
            }
            2 | 3 => {
                let (who, _) = &trainees[dice.below(3)];
                let to = places[dice.below(2)];
                let a = app
                    .patch(
                        &format!("/api/v1/users/{who}"),
                        Some(&c.hn),
                        &json!({"organization_id": to}),
                    )
                    .await;
                assert_status(&a, 200);
                *done.entry("move").or_default() += 1;
            }
            4 if !superseded => {
                newer_curriculum(&app, &c).await;
                superseded = true;
                *done.entry("supersede").or_default() += 1;
            }
            4..=7 => {
                let (_, token) = &trainees[dice.below(3)];
                let a = app
                    .post(
                        "/api/v1/outreach",
                        Some(token),
                        &json!({"held_on": days[dice.below(days.len())], "province_code": "01",
                                "form": forms[dice.below(6)], "audience": 10 + dice.below(90),
                                "employers_reached": dice.below(4)}),
                    )
                    .await;
                // refused (422) once the author's certificate is revoked
                assert!(a.status == 201 || a.status == 422, "{:?}", a.json);
                if a.status == 201 {
                    *done.entry("record").or_default() += 1;
                }
            }
            8 | 9 => {
                let open = ids(&app, "SELECT id FROM outreach_entries WHERE status = 'recorded' ORDER BY created_at, id");
                if let Some(id) = open.get(dice.below(open.len().max(1))) {
                    let path = format!("/api/v1/outreach/{id}");
                    let seen = app.get(&path, Some(&c.hn)).await;
                    let version = seen.json["version"].clone();
                    let body = if op == 8 {
                        json!({"audience": 1 + dice.below(200), "form": forms[dice.below(6)],
                               "held_on": days[dice.below(days.len())], "version": version})
                    } else {
                        json!({"status": "rejected", "reason": "Không có minh chứng", "version": version})
                    };
                    let a = app.patch(&path, Some(&c.hn), &body).await;
                    assert_status(&a, 200);
                    *done
                        .entry(if op == 8 { "correct" } else { "reject" })
                        .or_default() += 1;
                }
            }
            _ => unreachable!(),
        }
    }
    assert!(
        done.len() >= 5,
        "seed {seed} tried too few kinds of change: {done:?}"
    );

    // kept step by step = recomputed from the base tables
    let kept = snapshot(&app);
    assert!(!kept.0.is_empty() && !kept.1.is_empty());
    cascade::reports::summaries::rebuild(&mut app.db()).unwrap();
    let rebuilt = snapshot(&app);
    assert_eq!(
        kept.0, rebuilt.0,
        "coverage summary, seed {seed} ({done:?})"
    );
    assert_eq!(
        kept.1, rebuilt.1,
        "outreach summary, seed {seed} ({done:?})"
    );

    // every figure = a direct count
    let admin = app.login("quantri").await;
    for day in [
        date(2027, 5, 10),
        date(2027, 5, 11),
        date(2027, 5, 31),
        date(2027, 6, 1),
        date(2028, 12, 31),
        date(2029, 3, 1),
        date(2029, 6, 1),
    ] {
        let report = app
            .get(
                &format!("/api/v1/reports/coverage?as_of={day}"),
                Some(&admin),
            )
            .await;
        assert_status(&report, 200);
        assert_figures(
            &report.json,
            &direct_coverage(&app, day),
            &[
                "master_trainers_valid",
                "propagandists_valid",
                "certificates_expiring_90d",
                "needing_refresher",
                "completions_this_year",
            ],
            &format!("coverage on {day}, seed {seed}"),
        );
    }
    for (from, to) in [
        (date(2027, 1, 1), date(2027, 6, 1)),
        (date(2027, 5, 13), date(2027, 5, 31)),
        (date(2027, 5, 20), date(2027, 5, 20)),
    ] {
        let report = app
            .get(
                &format!("/api/v1/reports/outreach?from={from}&to={to}"),
                Some(&admin),
            )
            .await;
        assert_status(&report, 200);
        assert_figures(
            &report.json,
            &direct_outreach(&app, from, to),
            &[
                "activities",
                "audience",
                "employers_reached",
                "active_propagandists",
            ],
            &format!("outreach {from}..{to}, seed {seed}"),
        );
    }
}

#[actix_web::test]
async fn summaries_kept_with_each_change_equal_a_rebuild_and_direct_counts_seed_1() {
    run(0x9E37_79B9_7F4A_7C15).await;
}

#[actix_web::test]
async fn summaries_kept_with_each_change_equal_a_rebuild_and_direct_counts_seed_2() {
    run(0xD1B5_4A32_D192_ED03).await;
}

#[actix_web::test]
async fn summaries_kept_with_each_change_equal_a_rebuild_and_direct_counts_seed_3() {
    run(0x2545_F491_4F6C_DD1D).await;
}
