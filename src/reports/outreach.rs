//! The outreach report: per organisation (rolled up the tree), the activities that count
//! (rejected entries never do), the audience and employers reached, the audience by form,
//! the active propagandists (distinct authors of at least one counting entry in the period)
//! against the certified ones (holders of a propagandist certificate valid on the last day),
//! and the activities and audience by month — from the maintained summary
//! ([`crate::db::outreach_summary`]), as JSON, CSV or XLSX.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::coverage::nodes;
use super::spreadsheet::{self, Cell, Column, Table};
use crate::db::coverage_summary;
use crate::db::organizations::OrganizationRow;
use crate::db::outreach_summary as summary;
use crate::db::users::OrganizationRef;
use crate::domain::outreach::OutreachForm;
use crate::domain::reports::{cut_period, months, roll_up, roll_up_distinct, stretch};
use crate::error::AppError;

/// The forms of outreach, in the order reports show them.
pub const FORMS: [&str; 6] = [
    OutreachForm::DirectTalk.as_str(),
    OutreachForm::Conference.as_str(),
    OutreachForm::DoorToDoor.as_str(),
    OutreachForm::Online.as_str(),
    OutreachForm::SocialMedia.as_str(),
    OutreachForm::ShortVideo.as_str(),
];

/// The audience reached by each form (0 where none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ByForm {
    pub direct_talk: i64,
    pub conference: i64,
    pub door_to_door: i64,
    pub online: i64,
    pub social_media: i64,
    pub short_video: i64,
}

impl ByForm {
    fn from_map(m: &HashMap<&str, i64>) -> Self {
        let get = |f: &str| m.get(f).copied().unwrap_or(0);
        ByForm {
            direct_talk: get("direct_talk"),
            conference: get("conference"),
            door_to_door: get("door_to_door"),
            online: get("online"),
            social_media: get("social_media"),
            short_video: get("short_video"),
        }
    }

    /// The six figures in the order of [`FORMS`].
    pub fn values(&self) -> [i64; 6] {
        [
            self.direct_talk,
            self.conference,
            self.door_to_door,
            self.online,
            self.social_media,
            self.short_video,
        ]
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutreachItem {
    pub organization: OrganizationRef,
    pub activities: i64,
    pub audience: i64,
    pub employers_reached: i64,
    pub by_form: ByForm,
    pub active_propagandists: i64,
    pub certified_propagandists: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// `YYYY-MM`
    pub month: String,
    pub activities: i64,
    pub audience: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutreachReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub campaign_id: Option<Uuid>,
    pub items: Vec<OutreachItem>,
    /// The whole report's scope (the organisations asked for and those below them) by month.
    pub by_month: Vec<MonthFigures>,
}

/// The outreach of these organisations (whole subtrees, in tree order) in `[from, to]`, of one
/// campaign when given.
pub fn outreach(
    conn: &mut PgConnection,
    organizations: &[OrganizationRow],
    from: NaiveDate,
    to: NaiveDate,
    campaign_id: Option<Uuid>,
) -> Result<OutreachReport, AppError> {
    let nodes = nodes(organizations);
    let ids: Vec<Uuid> = nodes.iter().map(|n| n.0).collect();
    // widened over days on which nothing counts, the period reads whole years and months
    let (last_before, next_after) = match campaign_id {
        Some(_) => (None, None),
        None => summary::counting_days_around(conn, from, to)?,
    };
    let (start, end) = stretch(from, to, last_before, next_after);
    let cut = cut_period(start, end);
    let rows = summary::totals(conn, &ids, &cut, (from, to), campaign_id)?;
    let active = summary::active_authors(conn, &ids, &cut, (from, to), campaign_id)?;
    let certified =
        coverage_summary::counts_on(conn, &ids, to, Some(coverage_summary::PROPAGANDIST))?;

    let mut activities: HashMap<Uuid, i64> = HashMap::new();
    let mut audience: HashMap<Uuid, i64> = HashMap::new();
    let mut employers: HashMap<Uuid, i64> = HashMap::new();
    let mut by_form: HashMap<&str, HashMap<Uuid, i64>> = HashMap::new();
    let mut by_month: HashMap<NaiveDate, (i64, i64)> = HashMap::new();
    for r in &rows {
        *activities.entry(r.organization_id).or_default() += r.activities;
        *audience.entry(r.organization_id).or_default() += r.audience;
        *employers.entry(r.organization_id).or_default() += r.employers;
        if let Some(form) = FORMS.iter().find(|f| **f == r.form) {
            *by_form
                .entry(form)
                .or_default()
                .entry(r.organization_id)
                .or_default() += r.audience;
        }
        if campaign_id.is_some() {
            let month = by_month.entry(r.month).or_default();
            month.0 += r.activities;
            month.1 += r.audience;
        }
    }
    if campaign_id.is_none() {
        for (month, activities, audience) in summary::by_month(conn, &ids, &cut)? {
            by_month.insert(month, (activities, audience));
        }
    }
    let activities = roll_up(&nodes, &activities);
    let audience = roll_up(&nodes, &audience);
    let employers = roll_up(&nodes, &employers);
    let by_form: HashMap<&str, HashMap<Uuid, i64>> = by_form
        .into_iter()
        .map(|(f, own)| (f, roll_up(&nodes, &own)))
        .collect();
    let active = roll_up_distinct(&nodes, &active.per_organization, &active.at_several);
    let certified: HashMap<Uuid, i64> = certified
        .into_iter()
        .filter(|((_, m), _)| m == coverage_summary::PROPAGANDIST)
        .map(|((o, _), n)| (o, n))
        .collect();
    let certified = roll_up(&nodes, &certified);

    let get = |m: &HashMap<Uuid, i64>, id: &Uuid| m.get(id).copied().unwrap_or(0);
    let items = organizations
        .iter()
        .map(|o| {
            let forms: HashMap<&str, i64> =
                by_form.iter().map(|(f, m)| (*f, get(m, &o.id))).collect();
            OutreachItem {
                organization: OrganizationRef {
                    id: o.id,
                    code: o.code.clone(),
                    name: o.name.clone(),
                },
                activities: get(&activities, &o.id),
                audience: get(&audience, &o.id),
                employers_reached: get(&employers, &o.id),
                by_form: ByForm::from_map(&forms),
                active_propagandists: get(&active, &o.id),
                certified_propagandists: get(&certified, &o.id),
            }
        })
        .collect();
    let by_month = months(from, to)
        .into_iter()
        .map(|m| {
            let (activities, audience) = by_month.get(&m).copied().unwrap_or_default();
            MonthFigures {
                month: m.format("%Y-%m").to_string(),
                activities,
                audience,
            }
        })
        .collect();
    Ok(OutreachReport {
        from,
        to,
        campaign_id,
        items,
        by_month,
    })
}

const ITEM_COLUMNS: [Column; 15] = [
    ("organization_code", "Mã đơn vị"),
    ("organization_name", "Đơn vị"),
    ("activities", "Số hoạt động"),
    ("audience", "Số người được tuyên truyền"),
    ("employers_reached", "Số đơn vị, nhóm được tiếp cận"),
    ("direct_talk", "Nói chuyện trực tiếp"),
    ("conference", "Hội nghị, hội thảo"),
    ("door_to_door", "Đến từng nhà"),
    ("online", "Trực tuyến"),
    ("social_media", "Mạng xã hội"),
    ("short_video", "Video ngắn"),
    ("active_propagandists", "Tuyên truyền viên có hoạt động"),
    ("certified_propagandists", "Tuyên truyền viên còn hiệu lực"),
    ("from", "Từ ngày"),
    ("to", "Đến ngày"),
];

fn org_cells(i: &OutreachItem) -> Vec<Cell> {
    vec![
        Cell::Text(i.organization.code.clone()),
        Cell::Text(i.organization.name.clone()),
    ]
}

fn items_table(report: &OutreachReport) -> Table {
    Table {
        sheet: "Theo đơn vị",
        columns: ITEM_COLUMNS.to_vec(),
        rows: report
            .items
            .iter()
            .map(|i| {
                let mut row = org_cells(i);
                row.extend([
                    Cell::Number(i.activities),
                    Cell::Number(i.audience),
                    Cell::Number(i.employers_reached),
                ]);
                row.extend(i.by_form.values().map(Cell::Number));
                row.extend([
                    Cell::Number(i.active_propagandists),
                    Cell::Number(i.certified_propagandists),
                    Cell::Date(report.from),
                    Cell::Date(report.to),
                ]);
                row
            })
            .collect(),
    }
}

fn forms_table(report: &OutreachReport) -> Table {
    let mut columns: Vec<Column> = ITEM_COLUMNS[..2].to_vec();
    columns.extend_from_slice(&ITEM_COLUMNS[5..11]);
    Table {
        sheet: "Theo hình thức",
        columns,
        rows: report
            .items
            .iter()
            .map(|i| {
                let mut row = org_cells(i);
                row.extend(i.by_form.values().map(Cell::Number));
                row
            })
            .collect(),
    }
}

fn months_table(report: &OutreachReport) -> Table {
    Table {
        sheet: "Theo tháng",
        columns: vec![
            ("month", "Tháng"),
            ("activities", "Số hoạt động"),
            ("audience", "Số người được tuyên truyền"),
        ],
        rows: report
            .by_month
            .iter()
            .map(|m| {
                vec![
                    Cell::Text(m.month.clone()),
                    Cell::Number(m.activities),
                    Cell::Number(m.audience),
                ]
            })
            .collect(),
    }
}

/// CSV: the per-organisation table (the audience by form as six columns).
pub fn to_csv(report: &OutreachReport) -> Result<Vec<u8>, AppError> {
    spreadsheet::to_csv(&items_table(report))
}

/// XLSX: a sheet per table (per organisation, by form, by month).
pub fn to_xlsx(report: &OutreachReport) -> Result<Vec<u8>, AppError> {
    spreadsheet::to_xlsx(&[
        items_table(report),
        forms_table(report),
        months_table(report),
    ])
}

pub fn file_stem(from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "outreach-{}-{}",
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d")
    )
}
