//! The outreach log of a seeding: activities by certified propagandists, a few rejected with
//! their revision.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::Rng;
use uuid::Uuid;

use super::copy::{pipelined, Rows};
use super::plan::{self, Plan};
use super::vocabulary::{self as words, pick, weighted};
use crate::copy_rows;
use crate::db::schema::{campaigns, outreach_entries, outreach_revisions};
use crate::error::AppError;

/// `count` outreach activities, each by the holder of a propagandist certificate on a day it
/// was valid (in force, not yet revoked or superseded, not after today); a few rejected by
/// the branch coordinator, with the revision that keeps what they were.
pub(super) fn write_outreach(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    plan: &Plan,
    reviewers: &[Uuid],
    count: u64,
    bar: &ProgressBar,
) -> Result<usize, AppError> {
    let authors = plan.propagandist_certificates();
    if authors.is_empty() {
        return Ok(0);
    }
    let campaigns = may_campaigns(conn)?;
    let mut written = 0;
    pipelined(
        |send| outreach_rows(rng, plan, &authors, &campaigns, reviewers, count, send),
        |(mut rows, mut revisions): (Rows, Rows)| {
            bar.inc(rows.count as u64);
            written += rows.count;
            Ok(flush_outreach(conn, &mut rows, &mut revisions)?)
        },
    )?;
    Ok(written)
}

/// The rows of `count` outreach entries and the revisions of those rejected, a few megabytes
/// at a time.
fn outreach_rows(
    rng: &mut StdRng,
    plan: &Plan,
    authors: &[usize],
    campaigns: &BTreeMap<i32, Uuid>,
    reviewers: &[Uuid],
    count: u64,
    send: std::sync::mpsc::SyncSender<(Rows, Rows)>,
) {
    let mut rows = Rows::new();
    let mut revisions = Rows::new();
    for _ in 0..count {
        let (cert, last) = loop {
            let c = &plan.certificates[*pick(rng, authors)];
            let last = c.last_day().min(plan.today);
            if last >= c.issued_on {
                break (c, last);
            }
        };
        let span = (last - cert.issued_on).num_days();
        let held_on = cert.issued_on + chrono::Duration::days(rng.gen_range(0..=span));
        let author = &plan.people[cert.person as usize];
        let org = &plan.orgs[author.org];
        let form = *weighted(rng, words::FORMS);
        let (least, most) = words::audience_range(form);
        let audience = rng.gen_range(least..=most);
        let employers = rng.gen_bool(0.4).then(|| rng.gen_range(0..=20));
        let commune = if rng.gen_bool(0.5) {
            format!("Phường {}", pick(rng, words::COMMUNES))
        } else {
            format!("Xã {}", pick(rng, words::COMMUNES))
        };
        let campaign = if held_on.month() == 5 && rng.gen_bool(0.8) {
            campaigns.get(&held_on.year()).copied()
        } else {
            None
        };
        let note = rng.gen_bool(0.2).then(|| *pick(rng, words::OUTREACH_NOTES));
        let rejected = rng.gen_bool(plan::REJECTED_SHARE);
        let id = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
        let recorded_at = plan::at(held_on, 20);
        let reason = rejected.then(|| *pick(rng, words::REJECTION_REASONS));
        let rejected_at = plan::at((held_on + chrono::Duration::days(3)).min(plan.today), 15);
        let province = org.province_code.clone().unwrap_or_else(|| "01".into());
        rows.uuid(id)
            .uuid(author.id)
            .uuid(org.id)
            .date(held_on)
            .text(&province)
            .text(&commune)
            .text(form)
            .plain(audience)
            .opt_plain(employers)
            .opt_uuid(campaign)
            .opt_text(note)
            .text(if rejected { "rejected" } else { "recorded" })
            .opt_text(reason)
            .plain(if rejected { 2 } else { 1 })
            .instant(recorded_at)
            .instant(if rejected { rejected_at } else { recorded_at })
            .end();
        if rejected {
            let previous = serde_json::json!({
                "held_on": held_on,
                "province_code": province,
                "commune": commune,
                "form": form,
                "audience": audience,
                "employers_reached": employers,
                "campaign_id": campaign,
                "note": note,
                "status": "recorded",
                "rejection_reason": null,
            });
            // rejected by the coordinator of the author's branch
            let reviewer = org.branch.and_then(|b| reviewers.get(b)).copied();
            revisions
                .uuid(id)
                .plain(1)
                .instant(rejected_at)
                .opt_uuid(reviewer)
                .text(&previous.to_string())
                .end();
        }
        if rows.is_full() {
            let full = (std::mem::take(&mut rows), std::mem::take(&mut revisions));
            if send.send(full).is_err() {
                return;
            }
        }
    }
    let _ = send.send((rows, revisions));
}

fn may_campaigns(conn: &mut PgConnection) -> QueryResult<BTreeMap<i32, Uuid>> {
    let mut found = BTreeMap::new();
    let list: Vec<(Uuid, String, NaiveDate)> = campaigns::table
        .order(campaigns::created_at.asc())
        .select((campaigns::id, campaigns::name, campaigns::starts_on))
        .load(conn)?;
    for (id, name, starts_on) in list {
        let year = starts_on.year();
        if name == crate::domain::campaigns::may_campaign_name(year) {
            found.entry(year).or_insert(id);
        }
    }
    Ok(found)
}

fn flush_outreach(
    conn: &mut PgConnection,
    rows: &mut Rows,
    revisions: &mut Rows,
) -> QueryResult<()> {
    copy_rows!(
        conn,
        outreach_entries::table,
        (
            outreach_entries::id,
            outreach_entries::author_id,
            outreach_entries::organization_id,
            outreach_entries::held_on,
            outreach_entries::province_code,
            outreach_entries::commune,
            outreach_entries::form,
            outreach_entries::audience,
            outreach_entries::employers_reached,
            outreach_entries::campaign_id,
            outreach_entries::note,
            outreach_entries::status,
            outreach_entries::rejection_reason,
            outreach_entries::version,
            outreach_entries::created_at,
            outreach_entries::updated_at,
        ),
        rows
    );
    copy_rows!(
        conn,
        outreach_revisions::table,
        (
            outreach_revisions::entry_id,
            outreach_revisions::version,
            outreach_revisions::revised_at,
            outreach_revisions::revised_by,
            outreach_revisions::previous,
        ),
        revisions
    );
    Ok(())
}
