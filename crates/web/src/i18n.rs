//! Translations. What customers read is keyed (`t("key", name=value)`, `locales/en.toml` and
//! `de.toml`); what staff read is written in English in the templates and looked up by that
//! English text (`tr("Save")`, `locales/staff.de.toml`), so the templates stay readable.
//! The language: `?lang=` (remembered in a cookie, which a rep's profile setting also sets),
//! else the cookie, else Accept-Language. Staff see times in their time zone: the `supportal_tz`
//! cookie (their profile setting, else what their browser reported).

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::Language;
use std::collections::HashMap;

pub const COOKIE: &str = "supportal_lang";
/// The staff member's time zone (an IANA name), set by their profile or their browser.
pub const ZONE_COOKIE: &str = "supportal_tz";

/// English texts of staff pages and their German, by the English text.
const STAFF_GERMAN: &str = include_str!("../locales/staff.de.toml");

const SOURCES: [(Language, &str); 2] = [
    (Language::En, include_str!("../locales/en.toml")),
    (Language::De, include_str!("../locales/de.toml")),
];

pub struct Catalog {
    texts: HashMap<(Language, String), String>,
    staff_german: HashMap<String, String>,
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(text) => out.push((full, text.clone())),
            other => out.push((full, other.to_string())),
        }
    }
}

impl Catalog {
    pub fn load() -> anyhow::Result<Catalog> {
        let mut texts = HashMap::new();
        for (language, source) in SOURCES {
            let table: toml::Table = toml::from_str(source)
                .map_err(|e| anyhow::anyhow!("locale {}: {e}", language.code()))?;
            let mut pairs = Vec::new();
            flatten("", &table, &mut pairs);
            for (key, text) in pairs {
                texts.insert((language, key), text);
            }
        }
        let staff: toml::Table =
            toml::from_str(STAFF_GERMAN).map_err(|e| anyhow::anyhow!("locale staff.de: {e}"))?;
        let staff_german = staff
            .into_iter()
            .filter_map(|(english, german)| Some((english, german.as_str()?.to_owned())))
            .collect();
        Ok(Catalog {
            texts,
            staff_german,
        })
    }

    /// A staff page's `english` text in `language`; None when German lacks it.
    pub fn staff_text(&self, language: Language, english: &str) -> Option<String> {
        match language {
            Language::En => Some(english.to_owned()),
            Language::De => self.staff_german.get(english).cloned(),
        }
    }

    /// The text for `key` in `language` with `{name}` placeholders filled; None if the key is unknown.
    pub fn text(&self, language: Language, key: &str, args: &[(&str, String)]) -> Option<String> {
        let template = self.texts.get(&(language, key.to_owned()))?;
        Some(domain::text::fill(template, args))
    }

    pub fn keys(&self, language: Language) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .texts
            .keys()
            .filter(|(l, _)| *l == language)
            .map(|(_, k)| k.as_str())
            .collect();
        keys.sort();
        keys
    }
}

/// Every offered language as (code, own name), for switchers and per-language form fields.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    Language::ALL
        .iter()
        .map(|l| (l.code(), l.native_name()))
        .collect()
}

/// The language and time zone a page is shown in: the request's, for templates rendered while
/// it is handled (staff pages do not pass them around; customer pages pass `lang` too).
#[derive(Clone)]
pub struct PageLocale {
    pub lang: Language,
    pub zone: jiff::tz::TimeZone,
}

tokio::task_local! {
    static PAGE: PageLocale;
}

/// The page being rendered's language and zone (English and UTC outside a request).
pub fn page_locale() -> PageLocale {
    PAGE.try_with(Clone::clone).unwrap_or(PageLocale {
        lang: Language::DEFAULT,
        zone: jiff::tz::TimeZone::UTC,
    })
}

/// The catalogues, for messages made outside a template (a field's error).
static SHARED: std::sync::LazyLock<Option<Catalog>> =
    std::sync::LazyLock::new(|| Catalog::load().ok());

/// Why a field was refused, in the page's language.
pub fn field_error_text(err: domain::FieldError) -> String {
    match (page_locale().lang, SHARED.as_ref()) {
        // The domain's own words in English; the customers' catalogue has the others.
        (Language::En, _) | (_, None) => err.message(),
        (language, Some(catalog)) => crate::portal::error_text(catalog, language, err),
    }
}

/// Run `work` (a socket's task, outlasting its request) in `locale`, so that what it renders
/// is in the language its page was.
pub async fn in_locale<F: std::future::Future>(locale: PageLocale, work: F) -> F::Output {
    PAGE.scope(locale, work).await
}

/// Run `f` as if rendering for `locale` (pages rendered outside a request, and tests).
pub fn with_locale<R>(locale: PageLocale, f: impl FnOnce() -> R) -> R {
    PAGE.sync_scope(locale, f)
}

/// The time zone named by the cookie, if it names one.
fn zone_from(headers: &axum::http::HeaderMap) -> Option<jiff::tz::TimeZone> {
    // Browsers write it URL-encoded ("Europe%2FBerlin").
    let raw = crate::cookies::value(headers, ZONE_COOKIE)?;
    let name: String = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, _)| k)
        .next()?
        .into_owned();
    jiff::tz::TimeZone::get(&name).ok()
}

/// A long-lived cookie for the whole site, or its removal when `value` is None.
fn remembered(jar: CookieJar, name: &'static str, value: Option<String>) -> CookieJar {
    match value {
        Some(value) => jar.add(
            Cookie::build((name, value))
                .path("/")
                .same_site(SameSite::Lax)
                .permanent()
                .build(),
        ),
        None => jar.remove(Cookie::build(name).path("/").build()),
    }
}

/// The cookies that show a staff member's pages in their language and time zone, as chosen on
/// their account page; a setting left to the browser removes its cookie (the browser's
/// Accept-Language decides, and the staff pages' script reports the browser's time zone).
pub fn page_settings_cookies(jar: CookieJar, user: &store::users::User) -> CookieJar {
    let language = user.ui_language.as_deref().and_then(Language::parse);
    let zone = user
        .time_zone
        .as_deref()
        .filter(|z| jiff::tz::TimeZone::get(z).is_ok());
    // The jar writes values URL-encoded ("Europe%2FBerlin"), as the browser's script does.
    let jar = remembered(jar, COOKIE, language.map(|l| l.code().to_owned()));
    remembered(jar, ZONE_COOKIE, zone.map(str::to_owned))
}

/// The locale a staff member's settings give, where they set them (else `fallback`'s).
pub fn locale_of(user: &store::users::User, fallback: PageLocale) -> PageLocale {
    PageLocale {
        lang: user
            .ui_language
            .as_deref()
            .and_then(Language::parse)
            .unwrap_or(fallback.lang),
        zone: user
            .time_zone
            .as_deref()
            .and_then(|z| jiff::tz::TimeZone::get(z).ok())
            .unwrap_or(fallback.zone),
    }
}

/// The language chosen for this request (in the request's extensions).
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Language);

fn from_query(query: Option<&str>) -> Option<Language> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Language::parse(&v))
}

/// Middleware: decide the language, and remember an explicit choice in a cookie.
pub async fn choose_language(mut req: Request, next: Next) -> Response {
    let chosen = from_query(req.uri().query());
    let language = chosen
        .or_else(|| crate::cookies::value(req.headers(), COOKIE).and_then(Language::parse))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::negotiate)
        })
        .unwrap_or(Language::DEFAULT);
    req.extensions_mut().insert(Lang(language));
    let zone = zone_from(req.headers()).unwrap_or(jiff::tz::TimeZone::UTC);
    let locale = PageLocale {
        lang: language,
        zone,
    };
    let mut response = PAGE.scope(locale, next.run(req)).await;
    if let Some(chosen) = chosen {
        let cookie = Cookie::build((COOKIE, chosen.code()))
            .path("/")
            .same_site(SameSite::Lax)
            .permanent()
            .build();
        if let Ok(value) = cookie.to_string().parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Lang>()
            .copied()
            .unwrap_or(Lang(Language::DEFAULT)))
    }
}

/// For tests of German pages: the page's visible texts and labels that read as English (they
/// hold words German never uses: a text someone forgot to translate). Scripts are skipped.
pub fn english_left(html: &str) -> Vec<String> {
    const ENGLISH: [&str; 12] = [
        "the", "and", "your", "you", "with", "is", "are", "not", "this", "of", "to", "for",
    ];
    let without_scripts = html.split("<script").map(|part| {
        part.split_once("</script>")
            .map_or(part, |(_, after)| after)
    });
    let mut left = Vec::new();
    for part in without_scripts {
        // Text between tags, and the values of attributes people read.
        let mut texts: Vec<&str> = part.split(['<', '>']).step_by(2).collect();
        for attribute in ["aria-label=\"", "title=\"", "placeholder=\"", "-text=\""] {
            texts.extend(
                part.split(attribute)
                    .skip(1)
                    .filter_map(|s| s.split('"').next()),
            );
        }
        // A single token is a name or a code (a time zone like America/Port_of_Spain), not prose.
        for text in texts.into_iter().filter(|t| t.trim().contains(' ')) {
            let words = text
                .split(|c: char| !c.is_alphabetic())
                .map(str::to_lowercase);
            if words.into_iter().any(|w| ENGLISH.contains(&w.as_str())) {
                left.push(text.trim().to_owned());
            }
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key() {
        let catalog = Catalog::load().unwrap();
        let english = catalog.keys(Language::En);
        assert!(english.len() > 50);
        for language in Language::ALL {
            assert_eq!(
                catalog.keys(language),
                english,
                "{} has the same keys as en",
                language.code()
            );
        }
        let text = catalog
            .text(
                Language::De,
                "waiting.position",
                &[("position", "3".into())],
            )
            .unwrap();
        assert!(text.contains('3'), "{text}");
    }
}
