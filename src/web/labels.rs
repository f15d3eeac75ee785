//! How the pages say the machine's words: statuses, tiers, categories, in Vietnamese.

/// An enrolment's status (and so the result of a course).
pub fn enrollment_status(status: &str) -> &'static str {
    match status {
        "enrolled" => "đang học",
        "withdrawn" => "đã rút",
        "completed" => "hoàn thành",
        "failed" => "không đạt",
        _ => "không rõ",
    }
}

/// A certificate's status as the public sees it.
pub fn certificate_status(status: &str) -> &'static str {
    match status {
        "valid" => "còn hiệu lực",
        "expired" => "đã hết hạn",
        "revoked" => "đã thu hồi",
        "superseded" => "đã được thay thế",
        _ => "không rõ",
    }
}

/// A cohort's status.
pub fn cohort_status(status: &str) -> &'static str {
    match status {
        "planned" => "dự kiến",
        "open" => "đang nhận học viên",
        "in_progress" => "đang học",
        "completed" => "đã kết thúc",
        "cancelled" => "đã hủy",
        _ => "không rõ",
    }
}

/// The programme tier a course or certificate belongs to.
pub fn tier(tier: &str) -> &'static str {
    match tier {
        "master_trainer" => "giảng viên nguồn",
        _ => "tuyên truyền viên",
    }
}

/// A person's category.
pub fn category(category: &str) -> &'static str {
    match category {
        "official" => "cán bộ",
        "civil_servant" => "công chức",
        "public_employee" => "viên chức",
        "reputable_person" => "người có uy tín",
        _ => "khác",
    }
}

/// A number as Vietnamese writes it: a comma before the decimals ("87,5").
pub fn decimal(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_use_a_comma() {
        assert_eq!(decimal(87.5), "87,5");
        assert_eq!(decimal(100.0), "100");
        assert_eq!(decimal(66.666), "66,7");
    }
}
