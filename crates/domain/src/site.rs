//! A support site (portal): how customers may start, what the issue form asks, how it looks,
//! and what it says when nobody can help right now.

use crate::{FieldError, IssueTypeId, Language, TeamId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The doors a site offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    RepList,
    IssueForm,
    ContactButton,
    /// GoToAssist's SmartBox: the customer types a question, which waits in the general queue
    /// and alerts every available rep.
    SmartBox,
    SessionKey,
    Presentation,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::RepList,
        Method::IssueForm,
        Method::ContactButton,
        Method::SmartBox,
        Method::SessionKey,
        Method::Presentation,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Method::RepList => "rep_list",
            Method::IssueForm => "issue_form",
            Method::ContactButton => "contact_button",
            Method::SmartBox => "smartbox",
            Method::SessionKey => "session_key",
            Method::Presentation => "presentation",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
    /// Keys still work when a site is closed or nobody is available: the rep who issued one is waiting.
    pub fn works_while_closed(self) -> bool {
        matches!(self, Method::SessionKey | Method::Presentation)
    }
}

/// One-click configurations named after the modes of GoToAssist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Pick a rep (SmartMatch), type a question (SmartBox), fill the issue form, or press the
    /// button (SmartButton).
    Web,
    /// The customer types the key the rep reads out.
    Phone,
    /// Everyone fills the issue form and waits in a team queue.
    Queue,
}

impl Preset {
    pub fn parse(s: &str) -> Option<Preset> {
        match s {
            "web" => Some(Preset::Web),
            "phone" => Some(Preset::Phone),
            "queue" => Some(Preset::Queue),
            _ => None,
        }
    }
    pub fn apply(self, settings: &mut SiteSettings) {
        settings.methods = match self {
            Preset::Web => BTreeSet::from([
                Method::RepList,
                Method::IssueForm,
                Method::ContactButton,
                Method::SmartBox,
            ]),
            Preset::Phone => BTreeSet::from([Method::SessionKey]),
            Preset::Queue => BTreeSet::from([Method::IssueForm]),
        };
        if self == Preset::Queue {
            settings.issue_form.ask_for = AskFor::IssueType;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StartAs {
    /// Chat in the browser; screen sharing on request.
    #[default]
    WebChat,
    /// Ask the customer to share their screen as soon as a rep takes the session.
    FullSession,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FieldMode {
    Hidden,
    #[default]
    Optional,
    Required,
}

impl FieldMode {
    pub fn parse(s: &str) -> Result<FieldMode, FieldError> {
        match s {
            "hidden" => Ok(FieldMode::Hidden),
            "optional" => Ok(FieldMode::Optional),
            "required" => Ok(FieldMode::Required),
            _ => Err(FieldError::InvalidChoice),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AskFor {
    /// The customer chooses what the issue is about; it is routed to that issue type's team.
    #[default]
    IssueType,
    /// The customer chooses a rep by name.
    Rep,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueFormSettings {
    pub ask_for: AskFor,
    /// Offered issue types; empty means all of the organization's.
    pub issue_types: Vec<IssueTypeId>,
    pub company: FieldMode,
    pub company_code: FieldMode,
    pub description: FieldMode,
}

impl Default for IssueFormSettings {
    fn default() -> Self {
        IssueFormSettings {
            ask_for: AskFor::IssueType,
            issue_types: Vec::new(),
            company: FieldMode::Optional,
            company_code: FieldMode::Hidden,
            description: FieldMode::Optional,
        }
    }
}

/// Per-language texts; shown in the visitor's language, else English, else any.
pub type Texts = BTreeMap<Language, String>;

pub fn text_in(texts: &Texts, language: Language) -> Option<&str> {
    crate::notice::text_for(texts, language)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteSettings {
    pub methods: BTreeSet<Method>,
    pub start_as: StartAs,
    /// Teams whose reps serve this site; empty means every team.
    pub teams: Vec<TeamId>,
    pub issue_form: IssueFormSettings,
    /// Whether the contact button asks for a name first.
    pub contact_asks_name: bool,
    /// Shown when no rep of the site is available.
    pub no_rep_message: Texts,
    /// Take requests into the queue even when nobody is available.
    pub accept_when_unavailable: bool,
    /// Shown outside the schedule's hours.
    pub closed_message: Texts,
    pub welcome: Texts,
    /// `#rrggbb`, the site's accent colour.
    pub accent_colour: String,
    /// Ask the customer for a rating (1–5) and a comment when a session ends.
    pub survey: bool,
    /// Translate chat messages between the customer's language and the rep's.
    pub translation: bool,
    /// Customers may share their screen with the rep (`start_as` says whether they are asked
    /// at once).
    pub screen_sharing: bool,
    /// The portal lists the organization's running presentations (with a join link each).
    pub list_presentations: bool,
    /// The identity provider customers sign in at, if any.
    pub sso: Option<crate::portal_sign_in::SsoSettings>,
    /// Origins whose pages may show the portal in a frame (the help button's panel); see
    /// `framing`.
    pub framing_origins: Vec<String>,
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            methods: Method::ALL.into_iter().collect(),
            start_as: StartAs::WebChat,
            teams: Vec::new(),
            issue_form: IssueFormSettings::default(),
            contact_asks_name: true,
            no_rep_message: Texts::new(),
            accept_when_unavailable: true,
            closed_message: Texts::new(),
            welcome: Texts::new(),
            accent_colour: "#1d4ed8".into(),
            survey: true,
            translation: false,
            screen_sharing: true,
            list_presentations: false,
            sso: None,
            framing_origins: Vec::new(),
        }
    }
}

impl SiteSettings {
    pub fn offers(&self, method: Method) -> bool {
        self.methods.contains(&method)
    }
}

/// Whether a rep in `rep_teams` serves a site served by `site_teams` (none listed: every team).
/// A rep in no team serves no site.
pub fn serves(rep_teams: &[TeamId], site_teams: &[TeamId]) -> bool {
    !rep_teams.is_empty()
        && (site_teams.is_empty() || rep_teams.iter().any(|t| site_teams.contains(t)))
}

/// `#rgb` or `#rrggbb`, lower-cased and expanded.
pub fn parse_colour(raw: &str) -> Result<String, FieldError> {
    let hex = raw
        .trim()
        .strip_prefix('#')
        .ok_or(FieldError::InvalidColour)?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(FieldError::InvalidColour);
    }
    match hex.len() {
        6 => Ok(format!("#{}", hex.to_ascii_lowercase())),
        3 => Ok(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => Err(FieldError::InvalidColour),
    }
}

/// Hostnames a site answers on at `/`: lower-case DNS names, one per line or comma.
pub fn parse_hostnames(raw: &str) -> Result<Vec<String>, FieldError> {
    let mut names = Vec::new();
    for name in raw
        .split([',', '\n', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let name = name.to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if name.len() > 253 || !name.contains('.') || !name.split('.').all(label_ok) {
            return Err(FieldError::InvalidChoice);
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_set_methods_in_one_click() {
        let mut s = SiteSettings::default();
        Preset::Phone.apply(&mut s);
        assert_eq!(s.methods, BTreeSet::from([Method::SessionKey]));
        Preset::Web.apply(&mut s);
        assert!(
            s.offers(Method::RepList)
                && s.offers(Method::IssueForm)
                && s.offers(Method::ContactButton)
                && s.offers(Method::SmartBox)
        );
        assert!(!s.offers(Method::SessionKey));
        s.issue_form.ask_for = AskFor::Rep;
        Preset::Queue.apply(&mut s);
        assert_eq!(
            (s.methods.len(), s.issue_form.ask_for),
            (1, AskFor::IssueType)
        );
    }

    #[test]
    fn old_settings_json_gains_new_defaults() {
        let s: SiteSettings = serde_json::from_str(r#"{"methods":["session_key"]}"#).unwrap();
        assert_eq!(s.methods.len(), 1);
        assert_eq!(s.accent_colour, "#1d4ed8");
    }

    #[test]
    fn which_reps_serve_a_site() {
        let (a, b) = (TeamId(1), TeamId(2));
        assert!(
            serves(&[a], &[]),
            "a site without teams listed is served by every team"
        );
        assert!(serves(&[a, b], &[b]));
        assert!(!serves(&[a], &[b]));
        assert!(!serves(&[], &[]), "a rep in no team serves no site");
    }

    #[test]
    fn colours_and_hostnames() {
        assert_eq!(parse_colour("#1D4ED8").unwrap(), "#1d4ed8");
        assert_eq!(parse_colour("#abc").unwrap(), "#aabbcc");
        assert_eq!(parse_colour("red"), Err(FieldError::InvalidColour));
        assert_eq!(parse_colour("#12345g"), Err(FieldError::InvalidColour));
        assert_eq!(
            parse_hostnames("Help.Example.com, help.example.com\nsupport.acme.test").unwrap(),
            vec!["help.example.com", "support.acme.test"]
        );
        assert!(parse_hostnames("localhost").is_err() && parse_hostnames("a_b.test").is_err());
    }
}
