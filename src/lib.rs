//! Cascade: the training chain of Vietnam's social-insurance outreach programme, as a web service.
//!
//! `main.rs` is a thin command line over this library; [`startup::Application`] builds the same
//! HTTP application for `cascade serve` and for the integration tests.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod auth;
pub mod backup;
pub mod certificates;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod privacy;
pub mod reports;
pub mod secrets;
pub mod seed_scale;
pub mod service;
pub mod startup;
pub mod telemetry;
pub mod web;

pub use config::Config;
pub use error::AppError;
