//! Read models: the views the API and the pages answer with, each built in a few batched queries
//! for a whole page rather than a few per item.

pub mod certificates;
pub mod cohorts;
pub mod enrollments;
pub mod outreach;
pub mod personal_data;
