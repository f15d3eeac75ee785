//! The national data set, drawn in memory from one seeded generator before a row is written:
//! units under each branch, people, cohorts of both tiers with their instructors, enrolments,
//! certificates with their fates (revoked, superseded by a reissue, expired) and targets. The
//! same seed, day and reference data always give the same plan.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use uuid::Uuid;

use super::vocabulary::{self as words, pick, weighted};
use crate::domain::people::FullName;
use crate::domain::training::{valid_until, vietnam_time};
use crate::error::AppError;

/// Organisations in the seeded country: the reference bodies plus units up to this many.
pub const ORGANIZATIONS: usize = 375;
/// Share of people who are master trainers.
pub const MASTER_SHARE: f64 = 0.01;
/// Cohorts per person.
pub const COHORTS_PER_PERSON: f64 = 0.03;
/// Outreach entries per person.
pub const OUTREACH_PER_PERSON: u64 = 2;
/// Share of certificates revoked, and of those superseded by a reissue.
pub const REVOKED_SHARE: f64 = 0.03;
pub const SUPERSEDED_SHARE: f64 = 0.02;
/// Share of outreach entries a coordinator rejected.
pub const REJECTED_SHARE: f64 = 0.02;
/// People per tier-1 cohort.
const MASTERS_PER_COHORT: usize = 30;
/// Every branch runs at least this many tier-2 cohorts, so people have classes to choose from.
const MIN_COHORTS_PER_BRANCH: usize = 3;

/// An organisation as the plan uses it.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub province_code: Option<String>,
    /// Where its certificates are signed.
    pub place: String,
    pub parent_name: Option<String>,
    pub parent_id: Option<Uuid>,
    pub signer_name: String,
    pub signer_title: String,
    /// Index of its branch in `Plan::branches` (the branch itself, or the branch above a unit).
    pub branch: Option<usize>,
    /// A unit this seed adds (false: it was there already).
    pub new: bool,
}

/// A course the seed teaches.
#[derive(Debug, Clone)]
pub struct Course {
    pub id: Uuid,
    pub title: String,
    pub curriculum_version: String,
    pub tier: &'static str,
    pub validity_months: i32,
}

/// What the plan starts from: the reference data, the courses, the May campaigns.
pub struct Reference {
    /// The state agency, the implementing agency, then the branches by province code.
    pub state_agency: Org,
    pub implementing_agency: Org,
    pub branches: Vec<Org>,
    /// Short codes of the branches' provinces (`HN`), in the same order.
    pub shorts: Vec<String>,
    /// Units already present, by code, with their name (a second seeding reuses them).
    pub existing_units: BTreeMap<String, (Uuid, String)>,
    pub master_course: Course,
    /// The propagandist course of the previous curriculum (superseded) and of the current one.
    pub old_course: Course,
    pub course: Course,
    /// The May campaign of each year.
    pub campaigns: BTreeMap<i32, Uuid>,
}

pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub name_search: String,
    pub date_of_birth: NaiveDate,
    pub org: usize,
    pub category: &'static str,
    pub master: bool,
}

pub struct Cohort {
    pub id: Uuid,
    /// 0: the master course, 1: the old propagandist course, 2: the current one.
    pub course: u8,
    pub org: usize,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: String,
    pub online: bool,
    pub status: &'static str,
    pub finalized_at: Option<DateTime<Utc>>,
    pub campaign_id: Option<Uuid>,
    pub capacity: i32,
    /// The instructors (people) and the master-trainer certificates they taught on.
    pub instructors: Vec<(usize, usize)>,
}

pub struct Enrolment {
    pub id: Uuid,
    pub cohort: u32,
    pub person: u32,
    pub status: &'static str,
    pub score: Option<u8>,
    pub attendance: Option<u8>,
    pub enrolled_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct Certificate {
    pub id: Uuid,
    pub enrolment: u32,
    pub cohort: u32,
    pub person: u32,
    pub verification_code: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: &'static str,
    pub revocation_reason: Option<&'static str>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub ended_on: Option<NaiveDate>,
    /// The certificate this reissue supersedes.
    pub supersedes: Option<u32>,
    /// Given when serial numbers are taken from the counters.
    pub serial_number: i32,
}

impl Certificate {
    /// The last day it counts: its validity, cut by revocation or supersession.
    pub fn last_day(&self) -> NaiveDate {
        match self.ended_on {
            Some(end) => (end - Duration::days(1)).min(self.valid_until),
            None => self.valid_until,
        }
    }
}

pub struct Target {
    pub org: usize,
    pub year: i32,
    pub master_trainers: i32,
    pub propagandists: i32,
}

pub struct Plan {
    pub today: NaiveDate,
    pub orgs: Vec<Org>,
    pub people: Vec<Person>,
    pub courses: [Course; 3],
    pub cohorts: Vec<Cohort>,
    pub enrolments: Vec<Enrolment>,
    pub certificates: Vec<Certificate>,
    pub targets: Vec<Target>,
}

/// Index of the state agency and the implementing agency in `Plan::orgs`; branches follow.
pub const STATE_AGENCY: usize = 0;
pub const FIRST_BRANCH: usize = 2;

/// The username of the `i`-th person of a seeding (`s1.0000042`): no two seeds share one.
pub fn username(seed: u64, i: u64) -> String {
    format!("s{seed}.{i:07}")
}

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

/// 160 bits in base32, like every verification code (drawn from the seed, so reproducible).
fn verification_code(rng: &mut StdRng) -> String {
    let bytes: [u8; 20] = rng.gen();
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// An instant on a day in Vietnam, at this hour.
pub fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, 0, 0).unwrap_or_default();
    vietnam_time()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

impl Plan {
    pub fn draw(
        rng: &mut StdRng,
        reference: Reference,
        people: u64,
        seed: u64,
        today: NaiveDate,
    ) -> Result<Plan, AppError> {
        let courses = [
            reference.master_course.clone(),
            reference.old_course.clone(),
            reference.course.clone(),
        ];
        let mut plan = Plan {
            today,
            orgs: Vec::new(),
            people: Vec::new(),
            courses,
            cohorts: Vec::new(),
            enrolments: Vec::new(),
            certificates: Vec::new(),
            targets: Vec::new(),
        };
        let branch_units = plan.draw_units(rng, &reference);
        plan.draw_people(rng, people, seed, &branch_units)?;
        let masters: Vec<usize> = (0..plan.people.len())
            .filter(|p| plan.people[*p].master)
            .collect();
        plan.draw_master_cohorts(rng, &masters)?;
        plan.draw_propagandist_cohorts(rng, &reference.campaigns, branch_units.len())?;
        plan.draw_enrolments(rng, branch_units.len())?;
        plan.draw_targets(rng);
        Ok(plan)
    }

    /// The reference bodies, the branches, and units under each branch to reach
    /// [`ORGANIZATIONS`]; the units of each branch, by index.
    fn draw_units(&mut self, rng: &mut StdRng, reference: &Reference) -> Vec<Vec<usize>> {
        self.orgs.push(reference.state_agency.clone());
        self.orgs.push(reference.implementing_agency.clone());
        self.orgs.extend(reference.branches.iter().cloned());
        let branches = reference.branches.len();
        let units = ORGANIZATIONS.saturating_sub(self.orgs.len());
        let mut branch_units = vec![Vec::new(); branches];
        for (b, branch) in reference.branches.iter().enumerate() {
            let count = units / branches + usize::from(b < units % branches);
            let mut names: Vec<&str> = words::COMMUNES.to_vec();
            names.shuffle(rng);
            for (j, commune) in names.into_iter().take(count).enumerate() {
                let kind = if rng.gen_bool(0.5) {
                    "xã"
                } else {
                    "phường"
                };
                let code = format!("{}-DV{:02}", reference.shorts[b], j + 1);
                let fresh = (uuid(rng), format!("Ủy ban nhân dân {kind} {commune}"));
                let ((id, name), new) = match reference.existing_units.get(&code) {
                    Some(unit) => (unit.clone(), false),
                    None => (fresh, true),
                };
                branch_units[b].push(self.orgs.len());
                self.orgs.push(Org {
                    id,
                    code,
                    name,
                    province_code: branch.province_code.clone(),
                    place: branch.place.clone(),
                    parent_name: Some(branch.name.clone()),
                    parent_id: Some(branch.id),
                    signer_name: String::new(),
                    signer_title: String::new(),
                    branch: Some(b),
                    new,
                });
            }
        }
        branch_units
    }

    /// `people` people: 1 % master trainers at the branches (one at least in each), the rest in
    /// the branches and, mostly, their units; the big cities weigh more.
    fn draw_people(
        &mut self,
        rng: &mut StdRng,
        people: u64,
        seed: u64,
        branch_units: &[Vec<usize>],
    ) -> Result<(), AppError> {
        let branches = branch_units.len();
        let weights: Vec<(usize, u32)> = (0..branches)
            .map(|b| {
                let w = match self.orgs[FIRST_BRANCH + b].province_code.as_deref() {
                    Some("01") => 30,
                    Some("79") => 35,
                    _ => 10,
                };
                (b, w)
            })
            .collect();
        let masters = ((people as f64 * MASTER_SHARE).round() as u64).max(branches as u64);
        let masters = masters.min(people);
        let born_from = NaiveDate::from_ymd_opt(1965, 1, 1).unwrap_or_default();
        self.people.reserve(people as usize);
        for i in 0..people {
            let master = i < masters;
            let branch = if master && (i as usize) < branches {
                i as usize
            } else {
                *weighted(rng, &weights)
            };
            let org = if master || rng.gen_bool(0.15) || branch_units[branch].is_empty() {
                FIRST_BRANCH + branch
            } else {
                *pick(rng, &branch_units[branch])
            };
            let raw = words::full_name(rng);
            let name = FullName::parse(&raw).map_err(|e| AppError::internal(e.message))?;
            let category = if master {
                if rng.gen_bool(0.5) {
                    "civil_servant"
                } else {
                    "public_employee"
                }
            } else {
                weighted(rng, words::CATEGORIES)
            };
            self.people.push(Person {
                id: uuid(rng),
                username: username(seed, i),
                name_search: name.search_key(),
                full_name: name.as_str().to_string(),
                date_of_birth: born_from + days(rng.gen_range(0..13_000)),
                org,
                category,
                master,
            });
        }
        Ok(())
    }

    fn branch_of(&self, person: usize) -> usize {
        self.orgs[self.people[person].org].branch.unwrap_or(0)
    }

    /// A new certificate for a completed enrolment, with its fate: most stay valid, some are
    /// revoked, some corrected by a reissue that supersedes them.
    fn certify(&mut self, rng: &mut StdRng, enrolment: usize) -> Result<(), AppError> {
        let (cohort, person) = {
            let e = &self.enrolments[enrolment];
            (e.cohort as usize, e.person)
        };
        let course = &self.courses[usize::from(self.cohorts[cohort].course)];
        let issued_on = (self.cohorts[cohort].ends_on + days(rng.gen_range(0..=3)))
            .min(self.today)
            .max(self.cohorts[cohort].ends_on);
        let until = valid_until(issued_on, course.validity_months)
            .ok_or_else(|| AppError::internal("validity out of range"))?;
        let index = self.certificates.len() as u32;
        let mut certificate = Certificate {
            id: uuid(rng),
            enrolment: enrolment as u32,
            cohort: cohort as u32,
            person,
            verification_code: verification_code(rng),
            issued_on,
            valid_until: until,
            status: "valid",
            revocation_reason: None,
            revoked_at: None,
            ended_on: None,
            supersedes: None,
            serial_number: 0,
        };
        let roll: f64 = rng.gen();
        let room = (self.today - issued_on).num_days();
        let mut reissue = None;
        if roll < REVOKED_SHARE && room >= 1 {
            let on = issued_on + days(rng.gen_range(1..=room));
            certificate.status = "revoked";
            certificate.revocation_reason = Some(*pick(rng, words::REVOCATION_REASONS));
            certificate.revoked_at = Some(at(on, 10));
            certificate.ended_on = Some(on);
        } else if roll < REVOKED_SHARE + SUPERSEDED_SHARE && room >= 7 {
            // a correction keeps the validity of the certificate it corrects
            let latest = room.min((until - issued_on).num_days() - 1);
            let on = issued_on + days(rng.gen_range(7..=latest.max(7)));
            certificate.status = "superseded";
            certificate.ended_on = Some(on);
            reissue = Some(Certificate {
                id: uuid(rng),
                enrolment: enrolment as u32,
                cohort: cohort as u32,
                person,
                verification_code: verification_code(rng),
                issued_on: on,
                valid_until: until,
                status: "valid",
                revocation_reason: None,
                revoked_at: None,
                ended_on: None,
                supersedes: Some(index),
                serial_number: 0,
            });
        }
        self.certificates.push(certificate);
        if let Some(r) = reissue {
            self.certificates.push(r);
        }
        Ok(())
    }

    fn enrol(
        &mut self,
        rng: &mut StdRng,
        cohort: usize,
        person: usize,
        status: &'static str,
    ) -> usize {
        let c = &self.cohorts[cohort];
        let enrolled_at = at(c.starts_on - days(rng.gen_range(3..=30)), 9);
        let (score, attendance) = match status {
            "completed" => (Some(rng.gen_range(50..=100)), Some(rng.gen_range(80..=100))),
            "failed" if rng.gen_bool(0.5) => {
                (Some(rng.gen_range(10..=49)), Some(rng.gen_range(80..=100)))
            }
            "failed" => (Some(rng.gen_range(40..=95)), Some(rng.gen_range(30..=79))),
            _ => (None, None),
        };
        let updated_at = c.finalized_at.unwrap_or(enrolled_at);
        self.enrolments.push(Enrolment {
            id: uuid(rng),
            cohort: cohort as u32,
            person: person as u32,
            status,
            score,
            attendance,
            enrolled_at,
            updated_at,
        });
        self.enrolments.len() - 1
    }

    fn status_on(&self, starts_on: NaiveDate, ends_on: NaiveDate) -> &'static str {
        if ends_on < self.today {
            "completed"
        } else if starts_on <= self.today {
            "in_progress"
        } else if starts_on <= self.today + days(30) {
            "open"
        } else {
            "planned"
        }
    }

    /// Tier 1: the state agency's classes of about thirty master trainers each, spread over the
    /// last four years, and their certificates.
    fn draw_master_cohorts(&mut self, rng: &mut StdRng, masters: &[usize]) -> Result<(), AppError> {
        let count = masters.len().div_ceil(MASTERS_PER_COHORT).max(2);
        let from = self.today - days(1460);
        let span = 1400;
        let mut order = masters.to_vec();
        order.shuffle(rng);
        let per = order.len().div_ceil(count).max(1);
        for j in 0..count {
            let starts_on = from + days(span * j as i64 / (count as i64 - 1).max(1))
                - days(rng.gen_range(0..=7));
            let starts_on = starts_on.max(from);
            let ends_on = starts_on + days(3);
            let online = rng.gen_bool(0.1);
            let status = self.status_on(starts_on, ends_on);
            self.cohorts.push(Cohort {
                id: uuid(rng),
                course: 0,
                org: STATE_AGENCY,
                title: format!(
                    "Bồi dưỡng giảng viên nguồn chính sách BHXH, khóa {} năm {}",
                    j + 1,
                    starts_on.year()
                ),
                starts_on,
                ends_on,
                location: if online {
                    "Trực tuyến".to_string()
                } else {
                    "Học viện Hành chính Quốc gia, Hà Nội".to_string()
                },
                online,
                status,
                finalized_at: (status == "completed").then(|| at(ends_on + days(1), 10)),
                campaign_id: None,
                capacity: 0,
                instructors: Vec::new(),
            });
        }
        let first = self.cohorts.len() - count;
        for (j, chunk) in order.chunks(per).enumerate() {
            let cohort = first + j.min(count - 1);
            for &person in chunk {
                if j > 0 && rng.gen_bool(0.25) {
                    self.enrol(rng, cohort - 1, person, "failed");
                }
                let e = self.enrol(rng, cohort, person, "completed");
                self.certify(rng, e)?;
            }
        }
        Ok(())
    }

    /// Master-trainer certificates that let their holder teach over `from..=to`, as
    /// (instructor, certificate), those of one branch first.
    fn instructors_for(
        &self,
        masters: &[(usize, usize)],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<(usize, usize)> {
        masters
            .iter()
            .filter(|(_, c)| {
                let c = &self.certificates[*c];
                c.issued_on <= from && c.last_day() >= to
            })
            .copied()
            .collect()
    }

    /// Tier 2: the branches' classes over the last three years (a few still to come), each
    /// taught by master trainers whose certificate is valid on every day of it.
    fn draw_propagandist_cohorts(
        &mut self,
        rng: &mut StdRng,
        campaigns: &BTreeMap<i32, Uuid>,
        branches: usize,
    ) -> Result<(), AppError> {
        let people = self.people.len();
        let total = ((people as f64 * COHORTS_PER_PERSON).round() as usize)
            .max(self.cohorts.len() + branches * MIN_COHORTS_PER_BRANCH);
        let wanted = total - self.cohorts.len();
        // every master-trainer certificate, by the branch of its holder
        let mut by_branch: Vec<Vec<(usize, usize)>> = vec![Vec::new(); branches];
        let mut national = Vec::new();
        for (c, cert) in self.certificates.iter().enumerate() {
            let person = cert.person as usize;
            if self.people[person].master {
                by_branch[self.branch_of(person)].push((person, c));
                national.push((person, c));
            }
        }
        let mut sequence = vec![0usize; branches];
        for k in 0..wanted {
            let branch = if k < branches * MIN_COHORTS_PER_BRANCH {
                k % branches
            } else {
                // as many classes as people: the branch of someone drawn at random
                self.branch_of(rng.gen_range(0..people))
            };
            let mut starts_on = self.today - days(rng.gen_range(-60..=1095));
            let mut ends_on = starts_on + days(rng.gen_range(1..=2));
            let mut candidates = self.instructors_for(&by_branch[branch], starts_on, ends_on);
            if candidates.is_empty() {
                candidates = self.instructors_for(&national, starts_on, ends_on);
            }
            if candidates.is_empty() {
                // no master trainer certified then: hold the class while one is
                let usable: Vec<(usize, usize)> = national
                    .iter()
                    .filter(|(_, c)| {
                        let c = &self.certificates[*c];
                        c.last_day() - c.issued_on >= days(3) && c.issued_on < self.today
                    })
                    .copied()
                    .collect();
                let Some(&(person, c)) = usable.get(rng.gen_range(0..usable.len().max(1))) else {
                    return Err(AppError::internal("no master trainer to teach a class"));
                };
                let cert = &self.certificates[c];
                let room = (cert.last_day() - cert.issued_on).num_days() - 2;
                starts_on = cert.issued_on + days(rng.gen_range(1..=room.clamp(1, 400)));
                starts_on = starts_on.min(self.today + days(60));
                ends_on = starts_on + days(1);
                candidates = vec![(person, c)];
            }
            candidates.shuffle(rng);
            let teachers = if rng.gen_bool(0.3) { 2 } else { 1 };
            let mut instructors: Vec<(usize, usize)> = Vec::new();
            for candidate in candidates {
                if instructors.len() == teachers {
                    break;
                }
                if instructors.iter().all(|(p, _)| *p != candidate.0) {
                    instructors.push(candidate);
                }
            }
            let org = FIRST_BRANCH + branch;
            let status = self.status_on(starts_on, ends_on);
            let online = rng.gen_bool(0.15);
            sequence[branch] += 1;
            let campaign_id = if starts_on.month() == 5 {
                campaigns.get(&starts_on.year()).copied()
            } else {
                None
            };
            let location = if online {
                "Trực tuyến".to_string()
            } else {
                format!("Hội trường {}", self.orgs[org].name)
            };
            self.cohorts.push(Cohort {
                id: uuid(rng),
                // classes older than a year and a half taught the previous curriculum
                course: if starts_on < self.today - days(540) {
                    1
                } else {
                    2
                },
                org,
                title: format!(
                    "Bồi dưỡng tuyên truyền viên BHXH, lớp {} năm {} ({})",
                    sequence[branch],
                    starts_on.year(),
                    self.orgs[org].place
                ),
                starts_on,
                ends_on,
                location,
                online,
                status,
                finalized_at: (status == "completed").then(|| at(ends_on + days(1), 10)),
                campaign_id,
                capacity: 0,
                instructors,
            });
        }
        Ok(())
    }

    /// About three enrolments a propagandist: one completed (most people), the others failed,
    /// withdrawn, or waiting for a class still to come.
    fn draw_enrolments(&mut self, rng: &mut StdRng, branches: usize) -> Result<(), AppError> {
        let mut all: Vec<Vec<usize>> = vec![Vec::new(); branches];
        let mut past: Vec<Vec<usize>> = vec![Vec::new(); branches];
        for (i, c) in self.cohorts.iter().enumerate() {
            if c.course == 0 {
                continue;
            }
            let b = self.orgs[c.org].branch.unwrap_or(0);
            all[b].push(i);
            if c.status == "completed" {
                past[b].push(i);
            }
        }
        for person in 0..self.people.len() {
            if self.people[person].master {
                continue;
            }
            let b = self.branch_of(person);
            let wanted = rng.gen_range(2..=4usize).min(all[b].len());
            let mut taken: Vec<usize> = Vec::with_capacity(wanted);
            let mut done = None;
            if !past[b].is_empty() && rng.gen_bool(0.96) {
                let c = *pick(rng, &past[b]);
                taken.push(c);
                done = Some(c);
            }
            let mut attempts = 0;
            while taken.len() < wanted && attempts < 20 {
                attempts += 1;
                let c = *pick(rng, &all[b]);
                if !taken.contains(&c) {
                    taken.push(c);
                }
            }
            for c in taken {
                let status = if Some(c) == done {
                    "completed"
                } else if self.cohorts[c].status != "completed" {
                    "enrolled"
                } else {
                    match done {
                        Some(d) if self.cohorts[c].starts_on > self.cohorts[d].starts_on => {
                            "withdrawn"
                        }
                        _ => "failed",
                    }
                };
                let e = self.enrol(rng, c, person, status);
                if status == "completed" {
                    self.certify(rng, e)?;
                }
            }
        }
        let mut sizes = vec![0i32; self.cohorts.len()];
        for e in &self.enrolments {
            sizes[e.cohort as usize] += 1;
        }
        for (c, size) in self.cohorts.iter_mut().zip(sizes) {
            // room for everyone enrolled, rounded up to a ten, and never under thirty
            c.capacity = ((size + 9) / 10 * 10).max(30);
        }
        Ok(())
    }

    /// Yearly targets of every organisation with people, for this year and the two before: a
    /// little above or below what it has.
    fn draw_targets(&mut self, rng: &mut StdRng) {
        let mut own = vec![(0i64, 0i64); self.orgs.len()];
        for p in &self.people {
            if p.master {
                own[p.org].0 += 1;
            } else {
                own[p.org].1 += 1;
            }
        }
        for year in self.today.year() - 2..=self.today.year() {
            for (org, (masters, propagandists)) in own.iter().enumerate() {
                if masters + propagandists == 0 {
                    continue;
                }
                let m = (*masters as f64 * rng.gen_range(1.0..1.4)).round() as i32;
                let p = (*propagandists as f64 * rng.gen_range(0.85..1.3)).round() as i32;
                self.targets.push(Target {
                    org,
                    year,
                    master_trainers: m,
                    propagandists: p,
                });
            }
        }
    }

    /// The certificates of each issuer and year, in the order they were issued: the serial
    /// numbers are taken per group.
    pub fn serial_groups(&self) -> BTreeMap<(usize, i32), Vec<usize>> {
        let mut groups: BTreeMap<(usize, i32), Vec<usize>> = BTreeMap::new();
        for (i, c) in self.certificates.iter().enumerate() {
            let issuer = self.cohorts[c.cohort as usize].org;
            groups
                .entry((issuer, c.issued_on.year()))
                .or_default()
                .push(i);
        }
        for list in groups.values_mut() {
            list.sort_by_key(|i| (self.certificates[*i].issued_on, *i));
        }
        groups
    }

    /// Certificates of the propagandist tier: outreach authors are drawn from their holders.
    pub fn propagandist_certificates(&self) -> Vec<usize> {
        (0..self.certificates.len())
            .filter(|c| self.cohorts[self.certificates[*c].cohort as usize].course != 0)
            .collect()
    }
}
