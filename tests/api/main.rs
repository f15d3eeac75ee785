//! Integration tests over HTTP against a real PostgreSQL. One binary: one build, one cluster.

mod harness;

mod authorization;
mod backup;
mod browser;
mod certificates;
mod conformance;
mod downstream;
mod foundation;
mod freshness;
mod identity;
mod import_properties;
mod large_cohorts;
mod outreach;
mod outreach_pages;
mod pages;
mod privacy_national_id;
mod privacy_reads;
mod privacy_retention;
mod races;
mod reliability;
mod reports;
mod reports_outreach;
mod reports_summary;
mod security;
mod seed_scale;
mod targets_campaigns;
mod training;
