//! One application error: every failure becomes an HTTP status and the JSON body of API.md.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Declares [`ErrorCode`] from one table of variant and JSON string, so the two cannot drift.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// Every `code` the service answers, in one place. The JSON carries
        /// [`ErrorCode::as_str`], the snake_case string clients match on; a person reads the
        /// `message` instead.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// The string in the JSON body (API.md): stable, snake_case, never translated.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            #[cfg(test)]
            const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];
        }
    };
}

error_codes! {
    // 400
    InvalidJson = "invalid_json",
    ValidationFailed = "validation_failed",
    BadRequest = "bad_request",
    // 401, 403, 404, 405
    Unauthenticated = "unauthenticated",
    InvalidCredentials = "invalid_credentials",
    Forbidden = "forbidden",
    NotFound = "not_found",
    MethodNotAllowed = "method_not_allowed",
    // 409: conflicts with the current state
    Conflict = "conflict",
    AlreadyAssigned = "already_assigned",
    AlreadyEnrolled = "already_enrolled",
    CohortClosed = "cohort_closed",
    CohortFull = "cohort_full",
    CohortNotEnded = "cohort_not_ended",
    CohortStarted = "cohort_started",
    InvalidStatusTransition = "invalid_status_transition",
    NoSessions = "no_sessions",
    SessionOverlap = "session_overlap",
    SessionsOutsideDates = "sessions_outside_dates",
    TooManyInstructors = "too_many_instructors",
    // 413, 415
    PayloadTooLarge = "payload_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    // 422: well-formed, but breaks a domain rule
    /// The campaign is not one of the organisation's (or above it), or its dates miss the day.
    CampaignNotApplicable = "campaign_not_applicable",
    CertificateDoesNotFit = "certificate_does_not_fit",
    CourseSuperseded = "course_superseded",
    InactivePerson = "inactive_person",
    Ineligible = "ineligible",
    InstructorNotCertified = "instructor_not_certified",
    /// Recording outreach needs a valid propagandist or master-trainer certificate today.
    NotCertified = "not_certified",
    SignerMissing = "signer_missing",
    WrongTierOrganizer = "wrong_tier_organizer",
    // 429, 503, 500
    RateLimited = "rate_limited",
    Unavailable = "unavailable",
    InternalError = "internal_error",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialised as its string, so the JSON keeps the codes clients already match on.
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict {code}: {message}")]
    Conflict { code: ErrorCode, message: String },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Well-formed, but breaks a domain rule (422).
    #[error("rule {code}: {message}")]
    Rule { code: ErrorCode, message: String },
    #[error("rate limited for {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Something went wrong on our side; the cause goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON error body: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    #[schema(value_type = String)]
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

impl AppError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            code: ErrorCode::Conflict,
            message: message.into(),
        }
    }

    /// The one mapping of a UNIQUE violation: a 409 `conflict` whose message says what is taken,
    /// from the first `(fragment, message)` whose fragment is part of the constraint's name, else
    /// `otherwise`. Any other database error converts as [`From`] does.
    pub fn unique(
        e: diesel::result::Error,
        messages: &[(&str, &str)],
        otherwise: &str,
    ) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let constraint = info.constraint_name().unwrap_or_default();
                let message = messages
                    .iter()
                    .find(|(fragment, _)| constraint.contains(fragment))
                    .map_or(otherwise, |(_, message)| message);
                AppError::conflict(message)
            }
            _ => e.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::InvalidJson(_) => ErrorCode::InvalidJson,
            AppError::Validation(_) => ErrorCode::ValidationFailed,
            AppError::BadRequest(_) => ErrorCode::BadRequest,
            AppError::Unauthenticated => ErrorCode::Unauthenticated,
            AppError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AppError::Forbidden => ErrorCode::Forbidden,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::Conflict { code, .. } | AppError::Rule { code, .. } => *code,
            AppError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            AppError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Unavailable(_) => ErrorCode::Unavailable,
            AppError::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The sentence a person reads; never an internal cause.
    pub fn public_message(&self) -> String {
        match self {
            AppError::InvalidJson(m) => m.clone(),
            AppError::Validation(_) => "Một số trường chưa hợp lệ.".into(),
            AppError::BadRequest(m) => m.clone(),
            AppError::Unauthenticated => "Bạn cần đăng nhập để tiếp tục.".into(),
            AppError::InvalidCredentials => "Tên đăng nhập hoặc mật khẩu không đúng.".into(),
            AppError::Forbidden => "Vai trò của bạn không được phép thực hiện việc này.".into(),
            AppError::NotFound => "Không tìm thấy.".into(),
            AppError::Conflict { message, .. } | AppError::Rule { message, .. } => message.clone(),
            AppError::PayloadTooLarge => "Dữ liệu gửi lên vượt quá dung lượng cho phép.".into(),
            AppError::UnsupportedMediaType => {
                "Định dạng dữ liệu gửi lên không được chấp nhận ở đây.".into()
            }
            AppError::RateLimited { .. } => {
                "Bạn đã thử quá nhiều lần; vui lòng thử lại sau.".into()
            }
            AppError::Unavailable(_) => {
                "Dịch vụ tạm thời không kết nối được cơ sở dữ liệu; vui lòng thử lại sau.".into()
            }
            AppError::Internal(_) => "Đã có lỗi phía hệ thống.".into(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
                details: match self {
                    AppError::Validation(details) => Some(details.clone()),
                    _ => None,
                },
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::InvalidJson(_) | AppError::Validation(_) | AppError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Rule { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(self.body())
    }
}

impl AppError {
    /// The `Retry-After` of the answer: a throttle's wait, or a second while the database is
    /// unreachable (the breaker lets a probe through every quarter of a second).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable(_) => Some(1),
            _ => None,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            e @ Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::unique(e, &[], "Dữ liệu này đã có trong hệ thống.")
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::Unavailable(info.message().to_string())
            }
            // the query never reached the server, or its answer never came back (the async
            // driver's "connection closed" while PostgreSQL stops)
            Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                AppError::Unavailable(info.message().to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::conflict("Có một thay đổi khác diễn ra cùng lúc; vui lòng thử lại.")
            }
            // A NUL byte that got past the checks of the input: the client's mistake, never a 500.
            Error::DatabaseError(_, ref info)
                if info
                    .message()
                    .contains("invalid byte sequence for encoding") =>
            {
                AppError::BadRequest("Văn bản không được chứa ký tự NUL (U+0000).".into())
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().contains("server closed the connection")
                    || info.message().contains("terminating connection") =>
            {
                AppError::Unavailable(info.message().to_string())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_error_carries_field_details() {
        let e = AppError::validation("national_id", "Số CCCD phải gồm đúng 12 chữ số.");
        let body = serde_json::to_value(e.body()).unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"][0]["field"], "national_id");
        assert_eq!(e.status_code(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn internal_error_hides_its_cause() {
        let e = AppError::internal("relation \"users\" does not exist");
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("relation"));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn every_code_is_serialised_as_its_own_snake_case_string() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
        let body = serde_json::to_value(AppError::NotFound.body()).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }

    #[test]
    fn every_default_message_is_a_vietnamese_sentence() {
        for e in [
            AppError::Validation(Vec::new()),
            AppError::Unauthenticated,
            AppError::InvalidCredentials,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::PayloadTooLarge,
            AppError::UnsupportedMediaType,
            AppError::RateLimited {
                retry_after_secs: 60,
            },
            AppError::Unavailable("connection refused".into()),
            AppError::Internal("boom".into()),
        ] {
            let message = e.public_message();
            assert!(
                message.ends_with('.') && !message.is_ascii(),
                "{}: {message}",
                e.code()
            );
        }
    }

    /// A unique violation as PostgreSQL reports it, naming its constraint.
    struct Violation(&'static str);

    impl diesel::result::DatabaseErrorInformation for Violation {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some(self.0)
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn violation(constraint: &'static str) -> diesel::result::Error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new(Violation(constraint)),
        )
    }

    #[test]
    fn a_unique_violation_names_what_is_taken_by_its_constraint() {
        let taken = [
            ("national_id", "national id taken"),
            ("username", "username taken"),
        ];
        let e = AppError::unique(violation("users_username_key"), &taken, "exists");
        assert_eq!(e.code(), ErrorCode::Conflict);
        assert_eq!(e.status_code(), StatusCode::CONFLICT);
        assert_eq!(e.public_message(), "username taken");
        let e = AppError::unique(violation("users_email_key"), &taken, "exists");
        assert_eq!(e.public_message(), "exists");
        let e = AppError::unique(diesel::result::Error::NotFound, &taken, "exists");
        assert_eq!(e.code(), ErrorCode::NotFound);
        let e: AppError = violation("courses_code_key").into();
        assert_eq!(e.code(), ErrorCode::Conflict);
    }

    #[test]
    fn diesel_not_found_is_404() {
        let e: AppError = diesel::result::Error::NotFound.into();
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_query_that_cannot_reach_the_server_answers_503_with_retry_after() {
        let lost = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UnableToSendCommand,
            Box::new("connection closed".to_string()),
        );
        let e = AppError::from(lost);
        assert!(matches!(e, AppError::Unavailable(_)), "{e:?}");
        let response = e.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }
}
