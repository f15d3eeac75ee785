//! Integration tests over HTTP against a real PostgreSQL. One binary: one build, one cluster.

mod harness;

mod authorization;
mod browser;
mod certificates;
mod foundation;
mod freshness;
mod identity;
mod large_cohorts;
mod pages;
mod privacy_national_id;
mod privacy_reads;
mod privacy_retention;
mod races;
mod reports;
mod security;
mod training;
