//! Form handling: values come back as typed, errors sit beside their fields.

use domain::FieldError;
use serde::Serialize;
use std::collections::BTreeMap;

/// Messages by field name, for the template's `errors` map.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// Keep a parsed value, or record why `field` was refused.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, FieldError>) -> Option<T> {
        parsed.map_err(|err| self.add(field, err)).ok()
    }

    pub fn add(&mut self, field: &str, err: FieldError) {
        self.add_message(field, crate::i18n::field_error_text(err));
    }

    pub fn add_message(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same messages under other field names (`(from, to)` pairs), for a page with two
    /// forms that parse the same questions under different names.
    pub fn renamed(mut self, names: &[(&str, &str)]) -> FieldErrors {
        for (from, to) in names {
            if let Some(message) = self.0.remove(*from) {
                self.0.insert((*to).to_owned(), message);
            }
        }
        self
    }
}

/// How a form page is shown: first view, refused input (422, errors beside fields), or saved.
pub struct Outcome {
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub status: axum::http::StatusCode,
}

impl Outcome {
    pub fn fresh() -> Self {
        Outcome {
            errors: FieldErrors::default(),
            notice: None,
            status: axum::http::StatusCode::OK,
        }
    }

    pub fn invalid(errors: FieldErrors) -> Self {
        Outcome {
            errors,
            notice: None,
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn done(notice: impl Into<String>) -> Self {
        Outcome {
            notice: Some(notice.into()),
            ..Outcome::fresh()
        }
    }

    /// The page with this outcome's status.
    pub fn respond(&self, html: axum::response::Html<String>) -> axum::response::Response {
        use axum::response::IntoResponse;
        (self.status, html).into_response()
    }
}
