//! What a customer tells us when asking for help: name, company, company code, description and
//! the site's custom fields. Limits follow BeyondTrust's: 100 characters for name, company and
//! company code; 1,024 for each custom field; 10 KB for all custom fields together.

use crate::site::{FieldMode, Texts};
use crate::text::DisplayName;
use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_SHORT: usize = 100;
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_FIELD: usize = 1024;
pub const MAX_FIELDS_TOTAL: usize = 10 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Email,
    Number,
    Select,
    Checkbox,
}

impl FieldKind {
    pub const ALL: [FieldKind; 6] = [
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Email,
        FieldKind::Number,
        FieldKind::Select,
        FieldKind::Checkbox,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Email => "email",
            FieldKind::Number => "number",
            FieldKind::Select => "select",
            FieldKind::Checkbox => "checkbox",
        }
    }
    pub fn parse(s: &str) -> Result<FieldKind, FieldError> {
        FieldKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(FieldError::InvalidChoice)
    }
}

/// A custom field a site asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// Stable name in data and APIs: `[a-z][a-z0-9_]{0,39}`.
    pub key: String,
    pub kind: FieldKind,
    pub required: bool,
    pub labels: Texts,
    /// The choices of a select field.
    pub options: Vec<String>,
}

impl CustomField {
    /// The form field's name (and the key of its error).
    pub fn input_name(&self) -> String {
        format!("field_{}", self.key)
    }
}

pub fn parse_field_key(raw: &str) -> Result<String, FieldError> {
    let key = raw.trim().to_ascii_lowercase();
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match (key.is_empty(), ok) {
        (true, _) => Err(FieldError::Required),
        (_, true) => Ok(key),
        _ => Err(FieldError::InvalidSlug),
    }
}

/// Which of the standard questions the form asks.
#[derive(Debug, Clone, Copy)]
pub struct Questions {
    pub company: FieldMode,
    pub company_code: FieldMode,
    pub description: FieldMode,
}

impl Questions {
    /// Only the name (the contact button, a session key, a chosen rep on a site without form).
    pub const NAME_ONLY: Questions = Questions {
        company: FieldMode::Hidden,
        company_code: FieldMode::Hidden,
        description: FieldMode::Hidden,
    };
    /// A name and the question itself (the SmartBox).
    pub const QUESTION: Questions = Questions {
        company: FieldMode::Hidden,
        company_code: FieldMode::Hidden,
        description: FieldMode::Required,
    };
}

/// Answers as typed, by form field name.
pub type Answers = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Intake {
    pub name: DisplayName,
    pub company: Option<String>,
    pub company_code: Option<String>,
    pub description: Option<String>,
    /// Custom field values by key; checkboxes are "yes" or "no".
    pub fields: BTreeMap<String, String>,
}

/// Errors by form field name.
pub type IntakeErrors = Vec<(String, FieldError)>;

fn optional_text(
    raw: Option<&String>,
    mode: FieldMode,
    max: usize,
    single_line: bool,
) -> Result<Option<String>, FieldError> {
    if mode == FieldMode::Hidden {
        return Ok(None);
    }
    let value = raw.map(|s| s.trim()).unwrap_or("");
    if value.is_empty() {
        return if mode == FieldMode::Required {
            Err(FieldError::Required)
        } else {
            Ok(None)
        };
    }
    if value.chars().count() > max {
        return Err(FieldError::TooLong { max });
    }
    if single_line && value.chars().any(char::is_control) {
        return Err(FieldError::ControlCharacters);
    }
    Ok(Some(value.to_owned()))
}

fn custom_value(field: &CustomField, raw: Option<&String>) -> Result<Option<String>, FieldError> {
    let value = raw.map(|s| s.trim()).unwrap_or("");
    if field.kind == FieldKind::Checkbox {
        let checked = !value.is_empty();
        if field.required && !checked {
            return Err(FieldError::Required);
        }
        return Ok(Some(if checked { "yes" } else { "no" }.into()));
    }
    if value.is_empty() {
        return if field.required {
            Err(FieldError::Required)
        } else {
            Ok(None)
        };
    }
    if value.chars().count() > MAX_FIELD {
        return Err(FieldError::TooLong { max: MAX_FIELD });
    }
    match field.kind {
        FieldKind::Email => crate::text::Email::parse(value).map(|e| Some(e.as_str().to_owned())),
        FieldKind::Number => value
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|_| Some(value.to_owned()))
            .ok_or(FieldError::InvalidNumber),
        FieldKind::Select if !field.options.iter().any(|o| o == value) => {
            Err(FieldError::InvalidChoice)
        }
        FieldKind::Text if value.chars().any(char::is_control) => {
            Err(FieldError::ControlCharacters)
        }
        _ => Ok(Some(value.to_owned())),
    }
}

/// Under this key a session's fields keep the address of the page that embedded the help
/// button the customer came from (a site's own field of that name wins).
pub const EMBEDDED_FROM: &str = "embedded_from";

/// The embedding page's address as the portal received it (`page_url`): an http(s) address of
/// at most 500 characters, else nothing (it is a hint for the rep, never a refusal).
pub fn embedding_page(raw: Option<&String>) -> Option<String> {
    let raw = raw?.trim();
    let scheme_ok = raw.starts_with("https://") || raw.starts_with("http://");
    (scheme_ok && raw.chars().count() <= 500 && !raw.chars().any(char::is_control))
        .then(|| raw.to_owned())
}

/// Parse what the customer typed, or say beside which fields what is wrong.
pub fn parse(
    answers: &Answers,
    questions: Questions,
    fields: &[CustomField],
) -> Result<Intake, IntakeErrors> {
    let mut errors = IntakeErrors::new();
    let keep =
        |field: &str, result: Result<Option<String>, FieldError>, errors: &mut IntakeErrors| {
            result
                .map_err(|e| errors.push((field.to_owned(), e)))
                .ok()
                .flatten()
        };
    let name = DisplayName::parse(
        answers
            .get("customer_name")
            .map(String::as_str)
            .unwrap_or(""),
    );
    let company = keep(
        "company",
        optional_text(answers.get("company"), questions.company, MAX_SHORT, true),
        &mut errors,
    );
    let company_code = keep(
        "company_code",
        optional_text(
            answers.get("company_code"),
            questions.company_code,
            MAX_SHORT,
            true,
        ),
        &mut errors,
    );
    let description = keep(
        "description",
        optional_text(
            answers.get("description"),
            questions.description,
            MAX_DESCRIPTION,
            false,
        ),
        &mut errors,
    );
    let mut values = BTreeMap::new();
    let mut total = 0;
    for field in fields {
        let input = field.input_name();
        if let Some(value) = keep(
            &input,
            custom_value(field, answers.get(&input)),
            &mut errors,
        ) {
            total += value.len();
            if total > MAX_FIELDS_TOTAL {
                errors.push((
                    input,
                    FieldError::TooLong {
                        max: MAX_FIELDS_TOTAL,
                    },
                ));
            }
            values.insert(field.key.clone(), value);
        }
    }
    if let Some(page) = embedding_page(answers.get("page_url")) {
        values.entry(EMBEDDED_FROM.to_owned()).or_insert(page);
    }
    match name {
        Ok(name) if errors.is_empty() => Ok(Intake {
            name,
            company,
            company_code,
            description,
            fields: values,
        }),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.insert(0, ("customer_name".into(), e));
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedding_page_is_kept_when_it_is_a_web_address() {
        let answers = |page: &str| -> Answers {
            [("customer_name", "Ann"), ("page_url", page)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let kept = parse(
            &answers("https://shop.example/cart?x=1"),
            Questions::NAME_ONLY,
            &[],
        );
        assert_eq!(
            kept.unwrap().fields.get(EMBEDDED_FROM).map(String::as_str),
            Some("https://shop.example/cart?x=1")
        );
        for not_one in [
            "javascript:alert(1)",
            "shop.example",
            &format!("https://{}", "a".repeat(500)),
        ] {
            let intake = parse(&answers(not_one), Questions::NAME_ONLY, &[]).unwrap();
            assert!(intake.fields.is_empty(), "{not_one}");
        }
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field(key: &str, kind: FieldKind, required: bool) -> CustomField {
        CustomField {
            key: key.into(),
            kind,
            required,
            labels: Texts::new(),
            options: vec!["Windows".into(), "macOS".into()],
        }
    }

    const FORM: Questions = Questions {
        company: FieldMode::Optional,
        company_code: FieldMode::Required,
        description: FieldMode::Optional,
    };

    #[test]
    fn a_complete_form_parses() {
        let fields = [
            field("os", FieldKind::Select, true),
            field("agree", FieldKind::Checkbox, false),
            field("seats", FieldKind::Number, false),
        ];
        let intake = parse(
            &answers(&[
                ("customer_name", " Ada "),
                ("company_code", "ACME-7"),
                ("field_os", "macOS"),
                ("field_seats", "12"),
            ]),
            FORM,
            &fields,
        )
        .unwrap();
        assert_eq!(intake.name.as_str(), "Ada");
        assert_eq!(
            (intake.company, intake.company_code.as_deref()),
            (None, Some("ACME-7"))
        );
        assert_eq!(intake.fields["os"], "macOS");
        assert_eq!(intake.fields["agree"], "no");
        assert_eq!(intake.fields["seats"], "12");
    }

    #[test]
    fn every_problem_is_reported_beside_its_field() {
        let fields = [
            field("os", FieldKind::Select, true),
            field("mail", FieldKind::Email, false),
            field("must", FieldKind::Checkbox, true),
        ];
        let errors = parse(
            &answers(&[
                ("company", &"x".repeat(101)),
                ("field_os", "Linux"),
                ("field_mail", "nope"),
            ]),
            FORM,
            &fields,
        )
        .unwrap_err();
        let by_field: BTreeMap<_, _> = errors.into_iter().collect();
        assert_eq!(by_field["customer_name"], FieldError::Required);
        assert_eq!(by_field["company"], FieldError::TooLong { max: 100 });
        assert_eq!(by_field["company_code"], FieldError::Required);
        assert_eq!(by_field["field_os"], FieldError::InvalidChoice);
        assert_eq!(by_field["field_mail"], FieldError::InvalidEmail);
        assert_eq!(by_field["field_must"], FieldError::Required);
    }

    #[test]
    fn custom_fields_are_limited_one_by_one_and_together() {
        let fields: Vec<_> = (0..11)
            .map(|i| field(&format!("f{i}"), FieldKind::LongText, false))
            .collect();
        let mut typed: Vec<(String, String)> = (0..11)
            .map(|i| (format!("field_f{i}"), "x".repeat(1000)))
            .collect();
        typed.push(("customer_name".into(), "Ada".into()));
        let errors = parse(
            &typed.iter().cloned().collect(),
            Questions::NAME_ONLY,
            &fields,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![(
                "field_f10".into(),
                FieldError::TooLong {
                    max: MAX_FIELDS_TOTAL
                }
            )]
        );
        let too_long = answers(&[("customer_name", "Ada"), ("field_f0", &"y".repeat(1025))]);
        assert_eq!(
            parse(&too_long, Questions::NAME_ONLY, &fields[..1]).unwrap_err()[0].1,
            FieldError::TooLong { max: 1024 }
        );
    }

    #[test]
    fn hidden_questions_are_ignored_even_if_sent() {
        let intake = parse(
            &answers(&[("customer_name", "Ada"), ("company", "Sneaky")]),
            Questions::NAME_ONLY,
            &[],
        )
        .unwrap();
        assert_eq!(intake.company, None);
        assert_eq!(parse_field_key("Order_No").unwrap(), "order_no");
        assert_eq!(parse_field_key("1x"), Err(FieldError::InvalidSlug));
    }
}
