//! Why a piece of input was refused. Codes are stable: templates and API clients translate them.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FieldError {
    #[error("required")]
    Required,
    #[error("too_long")]
    TooLong { max: usize },
    #[error("too_short")]
    TooShort { min: usize },
    #[error("invalid_email")]
    InvalidEmail,
    #[error("invalid_slug")]
    InvalidSlug,
    #[error("invalid_choice")]
    InvalidChoice,
    #[error("invalid_number")]
    InvalidNumber,
    #[error("out_of_range")]
    OutOfRange { min: i64, max: i64 },
    #[error("control_characters")]
    ControlCharacters,
    #[error("taken")]
    Taken,
    #[error("mismatch")]
    Mismatch,
    #[error("wrong_password")]
    WrongPassword,
    #[error("invalid_time_range")]
    InvalidTimeRange,
    #[error("invalid_date")]
    InvalidDate,
    #[error("invalid_time_zone")]
    InvalidTimeZone,
    #[error("invalid_datetime")]
    InvalidDateTime,
    #[error("invalid_colour")]
    InvalidColour,
    /// Not a six-digit code from an authenticator app.
    #[error("invalid_code")]
    InvalidCode,
    /// Not an http or https address.
    #[error("invalid_url")]
    InvalidUrl,
    #[error("too_many")]
    TooMany { max: usize },
    #[error("file_too_large")]
    FileTooLarge { max_mb: usize },
    #[error("file_type_blocked")]
    FileTypeBlocked,
}

impl FieldError {
    /// The stable code templates and API clients use to look up the message.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::Required => "required",
            FieldError::TooLong { .. } => "too_long",
            FieldError::TooShort { .. } => "too_short",
            FieldError::InvalidEmail => "invalid_email",
            FieldError::InvalidSlug => "invalid_slug",
            FieldError::InvalidChoice => "invalid_choice",
            FieldError::InvalidNumber => "invalid_number",
            FieldError::OutOfRange { .. } => "out_of_range",
            FieldError::ControlCharacters => "control_characters",
            FieldError::Taken => "taken",
            FieldError::Mismatch => "mismatch",
            FieldError::WrongPassword => "wrong_password",
            FieldError::InvalidTimeRange => "invalid_time_range",
            FieldError::InvalidDate => "invalid_date",
            FieldError::InvalidTimeZone => "invalid_time_zone",
            FieldError::InvalidDateTime => "invalid_datetime",
            FieldError::InvalidColour => "invalid_colour",
            FieldError::InvalidCode => "invalid_code",
            FieldError::InvalidUrl => "invalid_url",
            FieldError::TooMany { .. } => "too_many",
            FieldError::FileTooLarge { .. } => "file_too_large",
            FieldError::FileTypeBlocked => "file_type_blocked",
        }
    }

    /// A plain-English message; the web layer may translate by `code()` instead.
    pub fn message(&self) -> String {
        match self {
            FieldError::Required => "This field is required.".into(),
            FieldError::TooLong { max } => format!("At most {max} characters."),
            FieldError::TooShort { min } => format!("At least {min} characters."),
            FieldError::InvalidEmail => "Enter an email address like name@example.com.".into(),
            FieldError::InvalidSlug => {
                "Use 2–40 lowercase letters, digits and dashes, starting with a letter.".into()
            }
            FieldError::InvalidChoice => "Choose one of the offered options.".into(),
            FieldError::InvalidNumber => "Enter a whole number.".into(),
            FieldError::OutOfRange { min, max } => format!("Enter a number from {min} to {max}."),
            FieldError::ControlCharacters => "Remove the line breaks or control characters.".into(),
            FieldError::Taken => "This is already in use.".into(),
            FieldError::Mismatch => "The two entries do not match.".into(),
            FieldError::WrongPassword => "That is not your current password.".into(),
            FieldError::InvalidTimeRange => {
                "Write times like 09:00-17:00, several separated by commas.".into()
            }
            FieldError::InvalidDate => "Write dates like 2026-12-24.".into(),
            FieldError::InvalidTimeZone => {
                "Use a time zone name like Europe/Berlin or America/New_York.".into()
            }
            FieldError::InvalidDateTime => "Write a date and time like 2026-12-24 18:00.".into(),
            FieldError::InvalidColour => "Write a colour like #1d4ed8.".into(),
            FieldError::InvalidCode => "Type the six digits your authenticator app shows.".into(),
            FieldError::InvalidUrl => "Write an address that starts with https://.".into(),
            FieldError::TooMany { max } => format!("At most {max}."),
            FieldError::FileTooLarge { max_mb } => format!("Files can be at most {max_mb} MB."),
            FieldError::FileTypeBlocked => "Files of this type cannot be sent.".into(),
        }
    }
}
