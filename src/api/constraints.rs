//! The limits the server enforces on text and choices, stated in the OpenAPI document: enum
//! values, and a `pattern` for every free-text field built from the very rules that check it
//! ([`crate::domain::text::is_forbidden`] and, for text printed on certificates, what the
//! certificate font can draw), so the document and the server cannot drift apart.

use std::sync::OnceLock;

use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ArrayItems, Object, Schema, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::people::{Category, Role};
use crate::domain::text::is_forbidden;

const TIERS: &[&str] = &["master_trainer", "propagandist"];
const MODES: &[&str] = &["in_person", "online"];
const KINDS: &[&str] = &["state_agency", "implementing_agency", "branch", "unit"];
const COHORT_STATUSES: &[&str] = &["planned", "open", "in_progress", "completed", "cancelled"];
const CERTIFICATE_STATUSES: &[&str] = &["valid", "expired", "revoked", "superseded"];
const REPORT_FORMATS: &[&str] = &["json", "csv", "xlsx"];
const OUTREACH_STATUSES: &[&str] = &["recorded", "rejected"];

/// What a field must match.
enum Rule {
    Choice(Vec<&'static str>),
    Pattern(String),
}

/// Which characters a text field takes.
#[derive(Clone, Copy)]
enum Text {
    /// Anything but the forbidden characters.
    Plain,
    /// Printed on a certificate: also drawable by its font.
    Printed,
    /// A person's name: printed, and without digits.
    Name,
}

/// The request bodies the rules apply to (a response may carry a masked or stored form).
const REQUEST_SCHEMAS: &[&str] = &[
    "CreateUser",
    "UpdateUser",
    "CreateOrganization",
    "UpdateOrganization",
    "CreateCourse",
    "CreateCohort",
    "CreateOutreach",
    "UpdateOutreach",
    "CreateCampaign",
    "UpdateCohort",
    "CreateSession",
    "RevokeBody",
    "ReissueBody",
    "RetireBody",
    "LoginRequest",
    "RefreshRequest",
    "PasswordChange",
];

/// A date the service takes: 1900 to 2200 ([`crate::domain::training::check_date`]); the
/// document promises days 1 to 28, which every month has.
const DATE: &str = "^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$";

/// A class of characters as a regex: `[...]` of `\uXXXX` ranges (the BMP; the server takes more,
/// the document promises what is surely taken).
fn class(keep: impl Fn(char) -> bool) -> String {
    let mut out = String::from("[");
    let mut start: Option<u32> = None;
    let flush = |out: &mut String, from: u32, to: u32| {
        if from == to {
            out.push_str(&format!("\\u{from:04x}"));
        } else {
            out.push_str(&format!("\\u{from:04x}-\\u{to:04x}"));
        }
    };
    let mut last = 0;
    for cp in 0x20u32..=0xFFFF {
        let taken = char::from_u32(cp).is_some_and(&keep);
        match (taken, start) {
            (true, None) => start = Some(cp),
            (false, Some(from)) => {
                flush(&mut out, from, cp - 1);
                start = None;
            }
            _ => {}
        }
        last = cp;
    }
    if let Some(from) = start {
        flush(&mut out, from, last);
    }
    out.push(']');
    out
}

fn taken(kind: Text, c: char) -> bool {
    !is_forbidden(c, false)
        && match kind {
            Text::Plain => true,
            Text::Printed => crate::certificates::pdf::can_draw(c),
            Text::Name => crate::certificates::pdf::can_draw(c) && !c.is_ascii_digit(),
        }
}

/// The text in the form the server keeps it: no space at either end (the server trims, and a
/// length is counted after trimming, so the document promises the trimmed form), and for a name
/// single spaces between words (the server collapses them). `required`: not empty.
fn text_pattern(kind: Text, required: bool) -> String {
    static CACHE: OnceLock<[String; 6]> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        let make = |kind: Text, required: bool| {
            let any = class(|c| taken(kind, c));
            let solid = class(|c| taken(kind, c) && !c.is_whitespace());
            let body = match kind {
                Text::Name => format!("{solid}+( {solid}+)*"),
                Text::Plain | Text::Printed => format!("{solid}({any}*{solid})?"),
            };
            if required {
                format!("^{body}$")
            } else {
                format!("^({body})?$")
            }
        };
        [
            make(Text::Plain, false),
            make(Text::Plain, true),
            make(Text::Printed, false),
            make(Text::Printed, true),
            make(Text::Name, false),
            make(Text::Name, true),
        ]
    });
    let i = match kind {
        Text::Plain => 0,
        Text::Printed => 2,
        Text::Name => 4,
    } + usize::from(required);
    cache[i].clone()
}

/// No control character (passwords, tokens: [`crate::domain::text::check_plain`]).
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// A signer's title: one or two lines of at most 40 printable characters
/// ([`crate::domain::organizations::check_signer_title`]).
fn signer_title_pattern() -> String {
    let solid = class(|c| taken(Text::Printed, c) && !c.is_whitespace());
    let line = format!("{solid}([ ]?{solid}){{0,19}}");
    format!("^{line}(\\n{line})?$")
}

fn rule(schema: &str, field: &str) -> Option<Rule> {
    use Text::*;
    let text = |k, r| Some(Rule::Pattern(text_pattern(k, r)));
    let choice = |v: &[&'static str]| Some(Rule::Choice(v.to_vec()));
    match (schema, field) {
        (_, "category") => Some(Rule::Choice(
            Category::ALL.iter().map(|c| c.as_str()).collect(),
        )),
        (_, "roles") => Some(Rule::Choice(Role::ALL.iter().map(|r| r.as_str()).collect())),
        (_, "tier") => choice(TIERS),
        (_, "mode") => choice(MODES),
        (_, "kind") => choice(KINDS),
        ("UpdateCohort" | "cohorts_list", "status") => choice(COHORT_STATUSES),
        ("certificates_list", "status") => choice(CERTIFICATE_STATUSES),
        ("reports_coverage" | "reports_outreach", "format") => choice(REPORT_FORMATS),
        ("CreateUser", "username") => Some(Rule::Pattern("^[a-z0-9][a-z0-9._-]{2,63}$".into())),
        // an empty CCCD, birth date or e-mail is read as none
        (_, "national_id") => Some(Rule::Pattern(
            "^((00[1-9]|0[1-8][0-9]|09[0-6])[0-3][0-9]{8})?$".into(),
        )),
        ("ReissueBody", "date_of_birth") => Some(Rule::Pattern(
            "^(190[1-9]|19[1-9][0-9]|20[01][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$".into(),
        )),
        (_, "date_of_birth") => Some(Rule::Pattern(
            "^((190[1-9]|19[1-9][0-9]|20[01][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$"
                .into(),
        )),
        (_, "email") => Some(Rule::Pattern(
            "^([^@\\s\\u0000-\\u001f\\u007f-\\u009f]+@[^@\\s.\\u0000-\\u001f\\u007f-\\u009f]\
             [^@\\s\\u0000-\\u001f\\u007f-\\u009f]*\\.[^@\\s\\u0000-\\u001f\\u007f-\\u009f]*\
             [^@\\s.\\u0000-\\u001f\\u007f-\\u009f])?$"
                .into(),
        )),
        ("CreateUser" | "UpdateUser", "password") | ("PasswordChange", "new_password") => Some(
            Rule::Pattern("^[^\\u0000-\\u001f\\u007f-\\u009f]{10,128}$".into()),
        ),
        ("CreateCourse", "code") => Some(Rule::Pattern("^[A-Z0-9._-]{2,32}$".into())),
        ("CreateOrganization", "code") => Some(Rule::Pattern("^[A-Z0-9][A-Z0-9-]{1,31}$".into())),
        ("CreateOrganization", "province") => Some(Rule::Pattern("^[0-9]{2}$".into())),
        (_, "full_name") => text(Name, true),
        ("CreateOrganization" | "UpdateOrganization", "name") => text(Printed, true),
        ("CreateCampaign", "name") => text(Plain, true),
        (_, "starts_on" | "ends_on" | "issued_from" | "issued_to" | "as_of")
        | ("cohorts_list" | "reports_outreach", "from" | "to") => Some(Rule::Pattern(DATE.into())),
        // the audit trail reads an empty bound as none
        ("privacy_list", "from" | "to") => {
            Some(Rule::Pattern(format!("^({})?$", &DATE[1..DATE.len() - 1])))
        }
        ("LoginRequest", "username" | "password")
        | ("RefreshRequest", "refresh_token")
        | ("PasswordChange", "current_password") => Some(Rule::Pattern(NO_CONTROL.into())),
        (_, "signer_title") => Some(Rule::Pattern(signer_title_pattern())),
        (_, "signer_name") => text(Printed, true),
        ("CreateCourse", "title" | "curriculum_version") => text(Printed, true),
        (_, "location") => text(Printed, false),
        (_, "title" | "topic") | ("RevokeBody" | "RetireBody", "reason") => text(Plain, true),
        // an action's name: certificate_downloaded, user_created, ...
        ("privacy_list", "action") => Some(Rule::Pattern("^[a-z_]*$".into())),
        ("CreateOutreach" | "UpdateOutreach", "commune" | "note") => text(Plain, false),
        ("CreateOutreach" | "UpdateOutreach", "province_code") => {
            Some(Rule::Pattern("^[0-9]{2}$".into()))
        }
        ("CreateOutreach" | "UpdateOutreach" | "outreach_list", "form") => Some(Rule::Choice(
            crate::domain::outreach::OutreachForm::ALL
                .iter()
                .map(|f| f.as_str())
                .collect(),
        )),
        ("UpdateOutreach", "status") => choice(&["rejected"]),
        ("outreach_list", "status") => choice(OUTREACH_STATUSES),
        ("UpdateOutreach", "reason") => text(Plain, true),
        (_, "held_on") | ("outreach_list", "from" | "to") => Some(Rule::Pattern(DATE.into())),
        (_, "campaign" | "q") => text(Plain, false),
        _ => None,
    }
}

fn apply_to_object(o: &mut Object, rule: &Rule) {
    let nullable = matches!(&o.schema_type, utoipa::openapi::schema::SchemaType::Array(types) if types.contains(&Type::Null));
    match rule {
        Rule::Choice(values) => {
            let mut all: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
            if nullable {
                all.push(Value::Null);
            }
            o.enum_values = Some(all);
        }
        Rule::Pattern(p) => o.pattern = Some(p.clone()),
    }
}

fn apply(schema: &mut RefOr<Schema>, rule: &Rule) {
    match schema {
        RefOr::T(Schema::Object(o)) => apply_to_object(o, rule),
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                apply(items, rule);
            }
        }
        RefOr::T(Schema::OneOf(one)) => {
            for s in one.items.iter_mut() {
                apply(s, rule);
            }
        }
        _ => {}
    }
}

/// Puts every rule of [`rule`] into the document: the request schemas' properties and the
/// operations' query parameters.
pub fn state_limits(openapi: &mut OpenApi) {
    if let Some(components) = openapi.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if !REQUEST_SCHEMAS.contains(&name.as_str()) {
                continue;
            }
            if let RefOr::T(Schema::Object(o)) = schema {
                for (field, property) in o.properties.iter_mut() {
                    if let Some(r) = rule(name, field) {
                        apply(property, &r);
                    }
                }
            }
        }
    }
    for item in openapi.paths.paths.values_mut() {
        for op in [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            state_parameter_limits(op);
        }
    }
}

fn state_parameter_limits(op: &mut Operation) {
    let id = op.operation_id.clone().unwrap_or_default();
    for p in op.parameters.iter_mut().flatten() {
        if let (Some(r), Some(schema)) = (rule(&id, &p.name), p.schema.as_mut()) {
            apply(schema, &r);
        }
    }
}
