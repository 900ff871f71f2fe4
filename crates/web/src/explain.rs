//! Sentences the server stores in English (why a session was routed, offered, moved, sent
//! back), shown to staff in their language. Each is made from a template with `{placeholders}`
//! (`fill`); showing one matches the stored sentence against the templates, translates the
//! template and fills in what the placeholders held, themselves translated where they are
//! such sentences ("team Support", "the general queue"). Old rows need no migration, and a
//! sentence that matches nothing is shown as it was stored.

use crate::i18n::Catalog;
use domain::routing::reasons;
use domain::Language;

pub use reasons::fill;

pub const AUTO_ASSIGN: &str = "Automatic assignment: {rep} is available and the least busy.";
pub const OVERDUE: &str = "Waiting over {minutes} min in team {team}.";
pub const OVERDUE_RAISED: &str = "Waiting over {minutes} min in team {team}: priority raised.";
pub const OVERFLOW: &str = "Waited over {minutes} min in team {team}: moved to {target}.";
pub const TRANSFERRED: &str = "Transferred by {rep} to {to}.";
/// How every transfer's reason begins (webhooks tell a transfer from other requeues by it).
pub const TRANSFERRED_PREFIX: &str = "Transferred by ";
pub const TRANSFERRED_NOTE: &str = "Transferred by {rep} to {to}: {note}";
pub const DISCONNECTED: &str = "{rep} was disconnected: back to the queue it came from.";
/// Where something went: a team, or the general queue.
pub const TO_TEAM: &str = "team {team}";
pub const TO_GENERAL: &str = "the general queue";
pub const NO_ANSWER: &str = "no answer in time";
pub const NO_LONGER_WAITING: &str = "the session is no longer waiting";

const OWN: [&str; 11] = [
    AUTO_ASSIGN,
    OVERDUE_RAISED,
    OVERDUE,
    OVERFLOW,
    TRANSFERRED_NOTE,
    TRANSFERRED,
    DISCONNECTED,
    TO_TEAM,
    TO_GENERAL,
    NO_ANSWER,
    NO_LONGER_WAITING,
];

/// Every template, most specific first where one could also match another's sentence.
pub fn templates() -> impl Iterator<Item = &'static str> {
    reasons::ALL.into_iter().chain(OWN)
}

/// What each placeholder held, if `text` was made from `template`.
fn matches(template: &str, text: &str) -> Option<Vec<(String, String)>> {
    // Literal pieces and the placeholders between them: "a {x} b" -> ["a ", " b"], ["x"].
    let mut literals = Vec::new();
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        literals.push(&rest[..open]);
        names.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    literals.push(rest);
    let mut remaining = text.strip_prefix(literals[0])?;
    let mut held: Vec<(String, String)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let next = literals[i + 1];
        let end = match next.is_empty() {
            true if i + 1 == names.len() => remaining.len(),
            true => return None,
            false => remaining.find(next)?,
        };
        let value = &remaining[..end];
        if value.is_empty() {
            return None;
        }
        match held.iter().find(|(n, _)| n == name) {
            Some((_, earlier)) if earlier != value => return None,
            Some(_) => {}
            None => held.push(((*name).to_owned(), value.to_owned())),
        }
        remaining = &remaining[end + next.len()..];
    }
    remaining.is_empty().then_some(held)
}

/// `text` in `language`, when it is one of the stored sentences (else as it is).
pub fn explain(catalog: &Catalog, language: Language, text: &str) -> String {
    if language == Language::En {
        return text.to_owned();
    }
    for template in templates() {
        let Some(held) = matches(template, text) else {
            continue;
        };
        let Some(translated) = catalog.staff_text(language, template) else {
            return text.to_owned();
        };
        let values: Vec<(String, String)> = held
            .into_iter()
            .map(|(name, value)| {
                let value = explain(catalog, language, &value);
                (name, value)
            })
            .collect();
        let args: Vec<(&str, &str)> = values
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        return fill(&translated, &args);
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_sentences_read_in_german_and_every_template_has_its_german() {
        let catalog = Catalog::load().unwrap();
        for template in templates() {
            assert!(
                catalog.staff_text(Language::De, template).is_some(),
                "German for {template:?}"
            );
        }
        let routed = fill(reasons::CHOSE_REP, &[("rep", "Riley: the {best}")]);
        let german = explain(&catalog, Language::De, &routed);
        assert!(
            german.contains("Riley: the {best}") && german.contains("Mitarbeiterliste"),
            "{german}"
        );
        let moved = fill(
            OVERFLOW,
            &[
                ("minutes", "5"),
                ("team", "Support"),
                ("target", TO_GENERAL),
            ],
        );
        let german = explain(&catalog, Language::De, &moved);
        assert!(
            german.contains("allgemeine Warteschlange") && german.contains("Support"),
            "{german}"
        );
        let note = fill(
            TRANSFERRED_NOTE,
            &[
                ("rep", "Ada"),
                ("to", &fill(TO_TEAM, &[("team", "Billing")])),
                ("note", "invoice"),
            ],
        );
        assert_eq!(
            explain(&catalog, Language::De, &note),
            "Übergeben von Ada an Team Billing: invoice"
        );
        assert_eq!(
            explain(&catalog, Language::De, "typed by someone"),
            "typed by someone"
        );
        assert_eq!(explain(&catalog, Language::En, &note), note);
    }
}
