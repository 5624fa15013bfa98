//! The use-case error: what a use case (registry, payroll, clock) returns, and
//! every problem code the API can answer, each with its HTTP status.
//!
//! It holds no HTTP framework type, so use cases stay free of actix; `api::error`
//! renders it as problem+json. Because it converts from `diesel::result::Error`,
//! a business error returned inside `conn.transaction(..)` rolls the transaction back.

use std::fmt;

use crate::db::DbError;
use crate::tabular::{FieldError, TableError};

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:literal, $meaning:literal;)+) => {
        /// Every problem code the API answers, serialised SCREAMING_SNAKE_CASE.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the README's table (built from the
            /// same list as the enum, so it cannot miss one).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The stable text clients branch on.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }

            /// What the code means, in a line (the README's table says the same).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)+
                }
            }

            /// The code written as `text`, if there is one.
            pub fn from_code(text: &str) -> Option<ErrorCode> {
                match text {
                    $($code => Some(ErrorCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    // Requests that cannot be read.
    MalformedBody = "MALFORMED_BODY", 400, "the body cannot be read";
    MalformedJson = "MALFORMED_JSON", 400, "the body is not valid JSON";
    MalformedCsv = "MALFORMED_CSV", 400, "the CSV cannot be read";
    MalformedSpreadsheet = "MALFORMED_SPREADSHEET", 400, "the XLSX workbook cannot be read";
    BadEncoding = "BAD_ENCODING", 400, "the text is neither UTF-8 nor GBK/GB18030";
    MissingHeader = "MISSING_HEADER", 400, "the table has no header row";
    MissingColumn = "MISSING_COLUMN", 400, "a required column is missing";
    UnknownColumn = "UNKNOWN_COLUMN", 400, "a column is not one the upload knows";
    DuplicateColumn = "DUPLICATE_COLUMN", 400, "two columns mean the same field";
    InvalidQuery = "INVALID_QUERY", 400, "the query string cannot be read";
    InvalidPath = "INVALID_PATH", 400, "a path segment cannot be read";
    InvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY", 400, "Idempotency-Key is not 1–255 visible ASCII characters";
    BodyTooLarge = "BODY_TOO_LARGE", 413, "the body is larger than accepted";
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE", 415, "the body's content type is not accepted here";
    UploadTooManyRows = "UPLOAD_TOO_MANY_ROWS", 422, "an upload has more rows than one upload may hold (`max_rows`)";
    UploadTooManyColumns = "UPLOAD_TOO_MANY_COLUMNS", 422, "an upload's header row has more columns than accepted (`max_columns`)";
    UploadTooManyCells = "UPLOAD_TOO_MANY_CELLS", 422, "an upload has more cells than accepted (`max_cells`)";
    CellTooLong = "CELL_TOO_LONG", 422, "a cell holds more characters than accepted (`max_cell_chars`)";
    CsvLineTooLong = "CSV_LINE_TOO_LONG", 413, "a CSV line is longer than accepted (`max_line_bytes`)";
    SpreadsheetTooLarge = "SPREADSHEET_TOO_LARGE", 413, "an XLSX unpacks to more than accepted (422 for too many zip entries or XML attributes)";
    SharedStringsTooLarge = "SHARED_STRINGS_TOO_LARGE", 413, "an XLSX's shared strings hold more text than accepted (422 for too many strings)";
    // Who is calling.
    Unauthorized = "UNAUTHORIZED", 401, "no API key, or one not known or revoked";
    CredentialsDisagree = "CREDENTIALS_DISAGREE", 401, "the API key and the client certificate belong to different organisations";
    Forbidden = "FORBIDDEN", 403, "the caller may not do this";
    ClockNotSimulated = "CLOCK_NOT_SIMULATED", 403, "the business clock is real; start with --simulated-clock to set it";
    NotFound = "NOT_FOUND", 404, "the thing does not exist, or the caller may not learn that it does";
    NoSuchRoute = "NO_SUCH_ROUTE", 404, "no such method and path";
    TokenExpired = "TOKEN_EXPIRED", 410, "the confirmation link has expired; the general contractor can have a new one sent";
    RateLimited = "RATE_LIMITED", 429, "too many requests from this address; try again after Retry-After seconds";
    // Fields that cannot be accepted (`field` names them).
    InvalidField = "INVALID_FIELD", 422, "a field holds a value of the wrong type";
    MissingField = "MISSING_FIELD", 422, "a required field is missing or empty";
    UnknownField = "UNKNOWN_FIELD", 422, "a field the request does not know";
    Empty = "EMPTY", 422, "an identifier is empty";
    InvalidLength = "INVALID_LENGTH", 422, "an identifier has the wrong number of characters";
    InvalidCharacter = "INVALID_CHARACTER", 422, "an identifier has a character it may not have";
    InvalidCheckCharacter = "INVALID_CHECK_CHARACTER", 422, "an identifier's check character is wrong";
    InvalidBirthDate = "INVALID_BIRTH_DATE", 422, "an ID number's birth date does not exist or is in the future";
    InvalidFormat = "INVALID_FORMAT", 422, "a value is not written as expected (400 for an unknown ?format=)";
    OutOfRange = "OUT_OF_RANGE", 422, "a value or a sum is out of range";
    TooManyDecimals = "TOO_MANY_DECIMALS", 422, "an amount has more than two decimals";
    NotPositive = "NOT_POSITIVE", 422, "an amount must be greater than zero";
    Negative = "NEGATIVE", 422, "an amount must not be negative";
    UnknownRegion = "UNKNOWN_REGION", 422, "a region code is not in GB/T 2260";
    TooLong = "TOO_LONG", 422, "a text is longer than allowed";
    InvalidNumber = "INVALID_NUMBER", 422, "a number cannot be read";
    InvalidDate = "INVALID_DATE", 422, "a date cannot be read";
    DateInFuture = "DATE_IN_FUTURE", 422, "a date lies after today";
    InvalidPhone = "INVALID_PHONE", 422, "a phone number cannot be read";
    InvalidProjectCode = "INVALID_PROJECT_CODE", 422, "a project code is not 1–40 letters, digits, - or _";
    InvalidAccountNumber = "INVALID_ACCOUNT_NUMBER", 422, "a wage account number cannot be read";
    EndBeforeStart = "END_BEFORE_START", 422, "an end date lies before its start date";
    BankConnectionInvalid = "BANK_CONNECTION_INVALID", 422, "a bank connection cannot be used as given (a certificate or key file missing or unreadable, a directory that cannot be made)";
    UnknownOrganization = "UNKNOWN_ORGANIZATION", 422, "an organisation named by USCC is not registered";
    WrongOrganizationKind = "WRONG_ORGANIZATION_KIND", 422, "an organisation named is not of the kind the field needs";
    EmployerNotOnProject = "EMPLOYER_NOT_ON_PROJECT", 422, "the employer is not on this project";
    PeriodInFuture = "PERIOD_IN_FUTURE", 422, "the period has not begun yet";
    PeriodMismatch = "PERIOD_MISMATCH", 422, "the body and the query string name different periods";
    NoLines = "NO_LINES", 422, "the payroll has no lines";
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED", 422, "the Idempotency-Key was used for another request";
    // States that refuse the change.
    OrganizationExists = "ORGANIZATION_EXISTS", 409, "an organisation with this USCC is registered";
    ProjectCodeTaken = "PROJECT_CODE_TAKEN", 409, "the project code is taken";
    AccountInUse = "ACCOUNT_IN_USE", 409, "the wage account is another project's";
    PayrollApproved = "PAYROLL_APPROVED", 409, "the period's payroll is approved and frozen";
    NothingToApprove = "NOTHING_TO_APPROVE", 409, "no line can be approved";
    AlreadyAnswered = "ALREADY_ANSWERED", 409, "the worker has answered this line already";
    LineSuperseded = "LINE_SUPERSEDED", 409, "a later revision replaced this line";
    IdempotencyKeyInUse = "IDEMPOTENCY_KEY_IN_USE", 409, "the first request with this key is still running";
    ClockBackwards = "CLOCK_BACKWARDS", 409, "the business clock never moves backwards";
    LineNotAccepted = "LINE_NOT_ACCEPTED", 409, "the payroll line was rejected: it has no link to send and nothing to confirm";
    // The bank link.
    BankCodeTaken = "BANK_CODE_TAKEN", 409, "the bank code already names another bank's connection";
    NoWageAccount = "NO_WAGE_ACCOUNT", 409, "the project has no dedicated wage account yet";
    BankNotConnected = "BANK_NOT_CONNECTED", 409, "the wage account's bank has no connection: the payroll cannot be disbursed";
    NothingToDisburse = "NOTHING_TO_DISBURSE", 409, "no approved line is waiting to be paid";
    DisbursementNotHeld = "DISBURSEMENT_NOT_HELD", 409, "the batch is not held, so it cannot be released";
    OutboxEntryNotDead = "OUTBOX_ENTRY_NOT_DEAD", 409, "the bank outbox entry is not dead, so it cannot be retried";
    // Too much at once.
    TooManyUploads = "TOO_MANY_UPLOADS", 429, "too many uploads of this organisation (or in all) run at once; retry after Retry-After";
    // Our side.
    Internal = "INTERNAL", 500, "something went wrong on our side; it has been logged";
    DatabaseUnavailable = "DATABASE_UNAVAILABLE", 503, "the database cannot be reached; try again shortly";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for ErrorCode {
    /// For the upload readers, which name their codes as text: a code not in
    /// the enum is our bug, answered as INTERNAL and logged.
    fn from(text: &str) -> Self {
        ErrorCode::from_code(text).unwrap_or_else(|| {
            tracing::error!(code = text, "a problem code missing from ErrorCode");
            ErrorCode::Internal
        })
    }
}

/// A refusal a client can act on: a stable code, its status, the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ErrorCode,
    /// Usually `code.status()`; kept apart for the one code answered with two statuses.
    pub status: u16,
    pub detail: String,
    /// The request field at fault (`contract_amount`, `workers[3].id_number`).
    pub field: Option<String>,
}

/// What a use case fails with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A business refusal; inside a transaction it rolls the transaction back.
    #[error("{} {}: {}", .0.status, .0.code, .0.detail)]
    Problem(Problem),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    /// The database (or the pool in front of it) cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Something that must hold did not: a bug or corrupt data, never the caller's fault.
    #[error("broken invariant: {0}")]
    Invariant(&'static str),
}

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::Problem(Problem {
            code,
            status: code.status(),
            detail: detail.into(),
            field: None,
        })
    }

    /// A refusal naming the field at fault.
    pub fn field(field: impl Into<String>, code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::new(code, detail).with_field(field)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Forbidden, detail)
    }

    /// Also used when the caller may not learn that the thing exists.
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::new(
            ErrorCode::NotFound,
            format!("{} was not found", what.into()),
        )
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.field = Some(field.into());
        }
        self
    }

    /// Answers with `status` instead of the code's own (kept for INVALID_FORMAT of `?format=`).
    pub fn with_status(mut self, status: u16) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.status = status;
        }
        self
    }

    /// The problem, when this is a business refusal.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            AppError::Problem(p) => Some(p),
            _ => None,
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) => AppError::Db(e),
            DbError::Pool(e) => AppError::Unavailable(e.to_string()),
            DbError::Connection(e) => AppError::Unavailable(e.to_string()),
            DbError::Migration(e) => AppError::Unavailable(format!("migrations: {e}")),
            DbError::Cancelled => AppError::Invariant("the database task was cancelled"),
        }
    }
}

/// An upload that cannot be read as a whole: the problem it names, with its
/// own status (a size limit is 413, a count limit 422).
impl From<TableError> for AppError {
    fn from(e: TableError) -> Self {
        AppError::Problem(Problem {
            code: ErrorCode::from(e.code),
            status: e.status,
            detail: e.detail,
            field: e.field,
        })
    }
}

/// A request field that cannot be accepted (422, the field named).
impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::field(e.field, ErrorCode::from(e.code), e.reason)
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
    fn codes_are_unique_upper_snake_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(text.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            assert_eq!(ErrorCode::from_code(text), Some(code));
            assert!((400..600).contains(&code.status()), "{text}");
        }
    }

    #[test]
    fn domain_parse_error_codes_are_field_level_problem_codes() {
        use crate::domain::{BirthDateProblem, ParseError};
        let errors = [
            ParseError::Empty { what: "x" },
            ParseError::InvalidLength {
                what: "x",
                expected: "18",
                actual: 3,
            },
            ParseError::InvalidCharacter {
                what: "x",
                position: 1,
                found: '?',
                allowed: "digits",
            },
            ParseError::InvalidCheckCharacter { what: "x" },
            ParseError::InvalidBirthDate(BirthDateProblem::InTheFuture),
            ParseError::InvalidFormat {
                what: "x",
                expected: "y",
            },
            ParseError::OutOfRange {
                what: "x",
                allowed: "y",
            },
            ParseError::TooManyDecimals,
            ParseError::NotPositive,
            ParseError::Negative,
        ];
        for e in errors {
            let code = ErrorCode::from_code(e.code());
            assert_eq!(code.map(ErrorCode::status), Some(422), "{}", e.code());
        }
    }
}

#[cfg(test)]
mod readme {
    use super::ErrorCode;

    /// The `| `CODE` | status | meaning |` rows of the README's error table.
    fn readme_codes() -> Vec<(String, u16)> {
        let readme = include_str!("../README.md");
        let errors = readme.split("\n## Errors\n").nth(1).unwrap_or("");
        let section = errors.split("\n## ").next().unwrap_or("");
        section
            .lines()
            .filter_map(|line| {
                let mut cells = line.strip_prefix("| `")?.split(" | ");
                let code = cells.next()?.strip_suffix('`')?.to_owned();
                let status = cells.next()?.trim().parse().ok()?;
                Some((code, status))
            })
            .collect()
    }

    #[test]
    fn the_readme_error_table_lists_exactly_the_enum_codes_with_their_status() {
        let table = readme_codes();
        let enum_codes: Vec<(String, u16)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.status()))
            .collect();
        assert_eq!(table, enum_codes);
    }
}
