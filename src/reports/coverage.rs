//! Coverage: how many valid master trainers and propagandists each organisation has (its own
//! people and those of every organisation below it) against its yearly targets, what expires
//! soon, who needs a refresher, completions this year and cohorts planned — from the maintained
//! summary ([`crate::db::coverage_summary`]), as JSON, CSV or XLSX.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::spreadsheet::{self, Cell, Column, Table};
use crate::db::coverage_summary as summary;
use crate::db::organizations::OrganizationRow;
use crate::db::users::OrganizationRef;
use crate::domain::reports::{roll_up, share, Node};
use crate::error::AppError;

/// An organisation's own targets for a year: how many certified people of each tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Targets {
    pub master_trainers: Option<i64>,
    pub propagandists: Option<i64>,
}

/// The share of each target reached, as a fraction (1.0 = reached), four decimals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Shares {
    pub master_trainers: Option<f64>,
    pub propagandists: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageItem {
    pub organization: OrganizationRef,
    pub master_trainers_valid: i64,
    pub propagandists_valid: i64,
    pub certificates_expiring_90d: i64,
    pub needing_refresher: i64,
    pub completions_this_year: i64,
    pub cohorts_planned: i64,
    /// The organisation's own targets for the year of `as_of` (null where none is set).
    pub targets: Targets,
    /// The count over the target, as a fraction (1.0 = reached); null without a target.
    pub share: Shares,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub as_of: NaiveDate,
    /// Completions and cohorts planned count only this campaign's cohorts when set.
    pub campaign_id: Option<Uuid>,
    pub items: Vec<CoverageItem>,
}

/// The organisations as the roll-up needs them.
pub fn nodes(organizations: &[OrganizationRow]) -> Vec<Node> {
    organizations.iter().map(|o| (o.id, o.parent_id)).collect()
}

/// Rolled-up counts of one measure, from the summary's own counts.
fn measure(nodes: &[Node], own: &HashMap<(Uuid, String), i64>, name: &str) -> HashMap<Uuid, i64> {
    let mine: HashMap<Uuid, i64> = own
        .iter()
        .filter(|((_, m), _)| m == name)
        .map(|((o, _), n)| (*o, *n))
        .collect();
    roll_up(nodes, &mine)
}

/// The coverage of these organisations (whole subtrees, in tree order) as of a day, of one
/// campaign's cohorts when given.
pub fn coverage(
    conn: &mut PgConnection,
    organizations: &[OrganizationRow],
    as_of: NaiveDate,
    campaign_id: Option<Uuid>,
) -> Result<Coverage, AppError> {
    let nodes = nodes(organizations);
    let ids: Vec<Uuid> = nodes.iter().map(|n| n.0).collect();
    let own = summary::counts_on(conn, &ids, as_of, None)?;
    let masters = measure(&nodes, &own, summary::MASTER_TRAINER);
    let propagandists = measure(&nodes, &own, summary::PROPAGANDIST);
    let expiring = measure(&nodes, &own, summary::EXPIRING);
    let refresher = measure(&nodes, &own, summary::REFRESHER);
    let completions = match campaign_id {
        Some(c) => roll_up(
            &nodes,
            &summary::campaign_completions(conn, &ids, as_of, c)?,
        ),
        None => measure(&nodes, &own, summary::COMPLETION),
    };
    let planned = roll_up(
        &nodes,
        &summary::cohorts_planned(conn, &ids, as_of, campaign_id)?,
    );
    let targets = crate::db::targets::for_year(conn, as_of.year())?;
    let get = |m: &HashMap<Uuid, i64>, id: &Uuid| m.get(id).copied().unwrap_or(0);
    let items = organizations
        .iter()
        .map(|o| {
            let target = targets.get(&o.id).copied();
            let (m, p) = (get(&masters, &o.id), get(&propagandists, &o.id));
            let tm = target.map(|t| i64::from(t.0));
            let tp = target.map(|t| i64::from(t.1));
            CoverageItem {
                organization: OrganizationRef {
                    id: o.id,
                    code: o.code.clone(),
                    name: o.name.clone(),
                },
                master_trainers_valid: m,
                propagandists_valid: p,
                certificates_expiring_90d: get(&expiring, &o.id),
                needing_refresher: get(&refresher, &o.id),
                completions_this_year: get(&completions, &o.id),
                cohorts_planned: get(&planned, &o.id),
                targets: Targets {
                    master_trainers: tm,
                    propagandists: tp,
                },
                share: Shares {
                    master_trainers: share(m, tm),
                    propagandists: share(p, tp),
                },
            }
        })
        .collect();
    Ok(Coverage {
        as_of,
        campaign_id,
        items,
    })
}

const COLUMNS: [Column; 14] = [
    ("organization_code", "Mã đơn vị"),
    ("organization_name", "Đơn vị"),
    ("master_trainers_valid", "Giảng viên nguồn còn hiệu lực"),
    ("propagandists_valid", "Tuyên truyền viên còn hiệu lực"),
    ("certificates_expiring_90d", "Sắp hết hạn (90 ngày)"),
    ("needing_refresher", "Cần bồi dưỡng lại"),
    ("completions_this_year", "Hoàn thành trong năm"),
    ("cohorts_planned", "Lớp dự kiến, đang mở"),
    ("as_of", "Tính đến ngày"),
    ("target_master_trainers", "Chỉ tiêu giảng viên nguồn"),
    ("target_propagandists", "Chỉ tiêu tuyên truyền viên"),
    (
        "share_master_trainers",
        "Tỷ lệ đạt chỉ tiêu giảng viên nguồn",
    ),
    (
        "share_propagandists",
        "Tỷ lệ đạt chỉ tiêu tuyên truyền viên",
    ),
    ("campaign_id", "Mã chiến dịch"),
];

fn table(report: &Coverage) -> Table {
    let opt = |n: Option<i64>| match n {
        Some(n) => Cell::Number(n),
        None => Cell::Text(String::new()),
    };
    Table {
        sheet: "Độ phủ",
        columns: COLUMNS.to_vec(),
        rows: report
            .items
            .iter()
            .map(|i| {
                vec![
                    Cell::Text(i.organization.code.clone()),
                    Cell::Text(i.organization.name.clone()),
                    Cell::Number(i.master_trainers_valid),
                    Cell::Number(i.propagandists_valid),
                    Cell::Number(i.certificates_expiring_90d),
                    Cell::Number(i.needing_refresher),
                    Cell::Number(i.completions_this_year),
                    Cell::Number(i.cohorts_planned),
                    Cell::Date(report.as_of),
                    opt(i.targets.master_trainers),
                    opt(i.targets.propagandists),
                    Cell::Share(i.share.master_trainers),
                    Cell::Share(i.share.propagandists),
                    Cell::Text(
                        report
                            .campaign_id
                            .map(|c| c.to_string())
                            .unwrap_or_default(),
                    ),
                ]
            })
            .collect(),
    }
}

/// CSV, UTF-8 with a byte-order mark so spreadsheet programs read the Vietnamese names right.
pub fn to_csv(report: &Coverage) -> Result<Vec<u8>, AppError> {
    spreadsheet::to_csv(&table(report))
}

pub fn to_xlsx(report: &Coverage) -> Result<Vec<u8>, AppError> {
    spreadsheet::to_xlsx(&[table(report)])
}

/// The file name of a report, without its extension.
pub fn file_stem(as_of: NaiveDate) -> String {
    format!(
        "coverage-{}-{:02}-{:02}",
        as_of.year(),
        as_of.month(),
        as_of.day()
    )
}
