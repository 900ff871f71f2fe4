//! Server-rendered pages. Templates are embedded in the binary and auto-escaped:
//! whatever a person typed is shown as text, never as markup.

use minijinja::{Environment, Value};

macro_rules! embedded_templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// Every template, by name. The template test renders each with sample data.
pub const TEMPLATES: &[(&str, &str)] = embedded_templates!(
    "base.html",
    "components/forms.html",
    "components/keys.html",
    "components/chat.html",
    "components/sso.html",
    "login.html",
    "login_sso.html",
    "setup.html",
    "account.html",
    "two_factor_code.html",
    "two_factor_enrol.html",
    "two_factor_codes.html",
    "errors/error.html",
    "admin/layout.html",
    "admin/index.html",
    "admin/organization.html",
    "admin/reps.html",
    "admin/rep.html",
    "admin/teams.html",
    "admin/team.html",
    "admin/audit.html",
    "admin/organizations.html",
    "admin/site_nav.html",
    "admin/sites.html",
    "admin/site.html",
    "admin/site_fields.html",
    "admin/site_notices.html",
    "admin/site_schedule.html",
    "admin/site_profiles.html",
    "admin/issue_types.html",
    "admin/api_tokens.html",
    "admin/webhooks.html",
    "admin/reports.html",
    "admin/webhook.html",
    "api/docs.html",
    "portal/layout.html",
    "portal/fields.html",
    "portal/home.html",
    "portal/request.html",
    "portal/waiting.html",
    "console/history.html",
    "console/session_details.html",
    "console/canned.html",
    "console/history_session.html",
    "portal/global.html",
    "portal/global_confirm.html",
    "portal/presentation.html",
    "portal/attend.html",
    "portal/sign_in.html",
    "portal/sign_in_refused.html",
    "console/presentations.html",
    "console/presentation.html",
    "console/index.html",
    "console/queue.html",
    "console/session.html",
);

pub struct Templates {
    env: Environment<'static>,
}

/// `{{ created_at | datetime }}`: milliseconds since the epoch as a date and time in the page's
/// time zone (the staff member's; UTC for a page without one), with the zone's abbreviation.
pub fn datetime(ms: i64) -> String {
    let zone = crate::i18n::page_locale().zone;
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// The page's language: the template's `lang` when it sets one (customer pages), else the
/// request's.
fn language_of(state: &minijinja::State) -> domain::Language {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(domain::Language::parse))
        .unwrap_or_else(|| crate::i18n::page_locale().lang)
}

/// A template call's keyword arguments as (name, value) pairs, every one used.
fn args_of(kwargs: &minijinja::value::Kwargs) -> Result<Vec<(&str, String)>, minijinja::Error> {
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        args.push((name, value.to_string()));
    }
    kwargs.assert_all_used()?;
    Ok(args)
}

/// `{name}` placeholders of `text` filled from the call's keyword arguments.
fn fill(text: &str, kwargs: &minijinja::value::Kwargs) -> Result<String, minijinja::Error> {
    Ok(domain::text::fill(text, &args_of(kwargs)?))
}

/// A staff text in the page's language. A German text missing from the catalogue is an error
/// in debug builds (so the template test and the German page walk fail on it) and English
/// in release builds (a page shows, half translated, rather than an error).
fn staff_text(
    catalog: &crate::i18n::Catalog,
    language: domain::Language,
    english: &str,
) -> Result<String, minijinja::Error> {
    match catalog.staff_text(language, english) {
        Some(text) => Ok(text),
        None if cfg!(debug_assertions) => Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            format!("no {} translation for {english:?}", language.code()),
        )),
        None => Ok(english.to_owned()),
    }
}

/// A span of minutes in its largest whole unit: (how many, English singular, plural).
fn duration_unit(minutes: i64) -> (i64, &'static str, &'static str) {
    match minutes {
        m if m < 60 => (m, "{n} minute", "{n} minutes"),
        m if m < 1440 => (m / 60, "{n} hour", "{n} hours"),
        m => (m / 1440, "{n} day", "{n} days"),
    }
}

/// The plural form of `n` in `language` (CLDR's cardinal rules, as Fluent uses them).
pub fn plural_is_one(language: domain::Language, n: i64) -> bool {
    use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
    let Ok(tag) = language.code().parse::<unic_langid::LanguageIdentifier>() else {
        return n == 1;
    };
    match PluralRules::create(tag, PluralRuleType::CARDINAL) {
        Ok(rules) => rules.select(n) == Ok(PluralCategory::ONE),
        Err(_) => n == 1,
    }
}

impl Templates {
    pub fn load(
        catalog: std::sync::Arc<crate::i18n::Catalog>,
    ) -> Result<Templates, minijinja::Error> {
        let mut env = Environment::new();
        let keyed = catalog.clone();
        // `t("key", name=value)`: the text in the page's `lang` (English when a page sets none).
        env.add_function(
            "t",
            move |state: &minijinja::State, key: &str, kwargs: minijinja::value::Kwargs| {
                let language = language_of(state);
                let args = args_of(&kwargs)?;
                keyed.text(language, key, &args).ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::UndefinedError,
                        format!("no translation for {key}"),
                    )
                })
            },
        );
        // `tr("English text {name}", name=value)`: a staff page's text in its language.
        let staff = catalog.clone();
        env.add_function(
            "tr",
            move |state: &minijinja::State, english: &str, kwargs: minijinja::value::Kwargs| {
                let text = staff_text(&staff, language_of(state), english)?;
                fill(&text, &kwargs)
            },
        );
        // `trn(n, "{n} minute", "{n} minutes")`: the form `n` takes in the page's language.
        let plural = catalog.clone();
        env.add_function(
            "trn",
            move |state: &minijinja::State,
                  n: i64,
                  one: &str,
                  other: &str,
                  kwargs: minijinja::value::Kwargs| {
                let language = language_of(state);
                let english = if plural_is_one(language, n) {
                    one
                } else {
                    other
                };
                let text = staff_text(&plural, language, english)?;
                let text = fill(&text, &kwargs)?;
                Ok::<_, minijinja::Error>(text.replace("{n}", &n.to_string()))
            },
        );
        // `page_lang()`: the page's language code, for `<html lang>`.
        env.add_function("page_lang", |state: &minijinja::State| {
            language_of(state).code().to_owned()
        });
        // `duration(minutes)`: "15 minutes", "1 hour", "2 days", in the page's language.
        let durations = catalog.clone();
        env.add_function("duration", move |state: &minijinja::State, minutes: i64| {
            let language = language_of(state);
            if minutes < 1 {
                return staff_text(&durations, language, "less than a minute");
            }
            let (n, one, other) = duration_unit(minutes);
            let english = if plural_is_one(language, n) {
                one
            } else {
                other
            };
            let text = staff_text(&durations, language, english)?;
            Ok::<_, minijinja::Error>(text.replace("{n}", &n.to_string()))
        });
        // `{{ reason | explain }}`: a sentence the server stored in English, in the page's language.
        let explained = catalog.clone();
        env.add_filter("explain", move |state: &minijinja::State, text: &str| {
            crate::explain::explain(&explained, language_of(state), text)
        });
        // `{{ message | tr }}`: a message the server made in English (a refusal, a notice),
        // in the page's language where the catalogue has it.
        let messages = catalog.clone();
        env.add_filter("tr", move |state: &minijinja::State, english: &str| {
            messages
                .staff_text(language_of(state), english)
                .unwrap_or_else(|| english.to_owned())
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        env.add_filter("datetime", datetime);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }

    /// Render a page for a handler: HTML on success, a logged server error otherwise.
    pub fn page(
        &self,
        name: &str,
        ctx: Value,
    ) -> crate::error::AppResult<axum::response::Html<String>> {
        Ok(axum::response::Html(self.render(name, ctx)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Sample data covering every variable any template prints. SemiStrict undefined
    /// behaviour makes printing a missing one an error, so this catches typos in templates.
    fn sample(lang: &str) -> Value {
        let user = json!({
            "id": 7, "org_id": 1, "email": "ada@example.test", "display_name": "Ada <script>",
            "title": "Tier 2", "role": "admin", "is_instance_admin": true, "active": true,
            "session_limit": 3, "presence": "available", "language": "en", "created_at": 1_700_000_000_000_i64,
            "ui_language": "de", "time_zone": "Europe/Berlin",
        });
        let team = json!({ "id": 3, "name": "Support", "member_count": 2 });
        let site =
            json!({ "id": 1, "org_id": 1, "name": "Demo <b>", "slug": "demo", "org_name": "Acme" });
        let field = json!({ "key": "device", "input": "field_device", "kind": "select", "required": true, "label": "Device",
            "labels": { "en": "Device" }, "choices": [{ "value": "PC", "label": "PC" }], "options": ["PC"] });
        let notice = json!({ "id": 1, "name": "Mail", "severity": "outage", "text": "Mail is down <script>",
            "texts": { "en": "Mail is down" }, "starts": "", "ends": "", "shown_now": true });
        // The lines as the server makes them: a translated message whose original is typed
        // HTML, a file, and a system line.
        let item = |seq: i64, body: &str, file_id: Option<i64>| store::chat::ChatItem {
            seq,
            kind: "message".into(),
            client_id: Some(format!("c{seq}")),
            sender_kind: Some("customer".into()),
            sender_user_id: None,
            sender_name: Some("Cleo <script>".into()),
            body: body.into(),
            created_at: 0,
            language: Some("de".into()),
            translations: Some(r#"{"en":"<img src=x onerror=alert(1)> https://x.test"}"#.into()),
            file_id,
            file_size: file_id.map(|_| 12_288),
        };
        let english = crate::chat::Reader {
            lang: domain::Language::En,
            reads: domain::Language::En,
            translating: true,
        };
        let translated =
            crate::chat::message_line(item(2, "<b onmouseover=alert(2)>Original</b>", None));
        let mut untranslated = translated.clone();
        untranslated.translations.clear();
        let file = crate::chat::message_line(item(4, "<script>.pdf", Some(9)));
        let system = json!({ "seq": 3, "kind": "system", "id": "e3", "from": "system", "name": "", "text": "Riley joined",
            "segments": [{ "text": "Riley joined", "href": null }], "at": 0, "original": null, "not_translated": false, "lang": null, "file": null });
        let lines = json!([
            translated.for_reader(&english),
            untranslated.for_reader(&english),
            file.for_reader(&english),
            system
        ]);
        let canned = json!([{ "id": 1, "shortcut": "restart", "body": "<script>canned</script>", "team_id": null, "team_name": null, "user_id": 7 }]);
        let invitations = json!([{ "session_id": 7, "customer_name": "Xia <script>", "description": "Help <script>", "invited_by": "Ada <script>", "created_at": 0 }]);
        let zones = json!(["Europe/Berlin", "UTC"]);
        let invitable = json!([{ "id": 8, "display_name": "Bob <script>" }]);
        let current = json!({ "session": { "id": 5, "customer_name": "Zed <script>", "verified": false, "customer_company": null, "company_code": null,
                       "description": "Broken <script>", "language": "en", "customer_seen_at": 1000, "customer_gone_at": 2000 }, "fields": [["Device <script>", "PC <script>"]], "owner": "Ada", "participants": [],
                       "events": [{ "seq": 1, "kind": "queued", "reason": "Because <script>", "at": 0 }], "is_owner": true,
                       "teams": [{ "id": 3, "name": "Support" }], "colleagues": [{ "id": 8, "display_name": "Bob" }], "invitable": invitable,
                       "lines": lines,
        "last_seq": 3, "client_id": "abc", "chat_open": true, "files_max_bytes": 10485760, "files_max_mb": 10,
                       "canned": canned, "sharing": true, "verified_attributes": { "email": "q@example.test <script>" }, "survey": { "rating": 4, "comment": "Good <script>", "created_at": 0 } });
        let issue = json!({ "id": 1, "team_id": 3, "name": "Printers", "name_de": "Drucker", "code_name": "printers", "value": "1", "label": "Printers" });
        Value::from_serialize(json!({
            "lang": lang, "me": user, "user": user, "csrf": "token", "section": "reps", "slug": "acme", "token": "t",
            "org": { "id": 1, "name": "Acme", "slug": "acme", "default_session_limit": 3, "created_at": 0 },
            "org_name": "Acme",
            "organizations": [{ "id": 1, "name": "Acme", "slug": "acme", "default_session_limit": 3, "created_at": 0 }],
            "users": [user], "members": [user], "reps": [user], "teams": [team], "team": team, "goes_with": ["Printers <script>"], "member_of": [3],
            "site": site, "sites": [site], "has_logo": true,
            "issue_types": [issue], "rep_choices": [], "fields": [field], "notices": [notice], "kinds": ["text", "select"],
            "severities": ["info"], "zone": "UTC", "max": 10, "weekdays": ["monday"], "open_now": true, "next_change": 0,
            "profiles": [{ "id": 1, "name": "Wi-Fi", "description": "Office", "visibility": "private", "size": 10, "name_de": "WLAN", "description_de": "Büro" }],
            "profiles_first": false, "carry": "?name=Ann&from=https%3A%2F%2Fshop.example%2F",
            "rules": { "auto_assign": "on", "offer_timeout_secs": "30", "rule": "overflow", "rule_minutes": "5", "overflow_to": "general" },
            "other_teams": [{ "id": 4, "name": "Billing", "member_count": 1 }],
            "presences": [["available", "Available"]], "last_seq": 3, "now": 100000,
            "queue": [{ "id": 5, "customer_name": "Zed <script>", "customer_company": "Acme", "start_method": "rep_list", "queue_kind": "team",
                "team_name": "Support", "issue_name": "Printers", "language": "en", "verified": true, "queued_at": 0, "requeue_reason": "Transferred by Ada <script>" }], "queue_total": 3,
            "sessions": [{ "id": 5, "customer_name": "Zed" }], "offers": [{ "session_id": 6, "customer_name": "Yan <script>", "expires_at": 130000 }], "invitations": invitations, "zones": zones,
            "current": current,
            "lines": lines, "client_id": "abc", "typed": { "body": "<script>typed</script>" },
            "survey_state": "ask", "survey": { "rating": "4", "comment": "<script>c</script>" },
            "files_max_bytes": 10485760, "files_max_mb": 10, "q": "<script>q", "admin": true,
            "own": canned,
            "team_canned": [{ "id": 2, "shortcut": "hi", "body": "<script>team</script>", "team_id": 3, "team_name": "<script>T", "user_id": null }], "q_param": "%3Cscript%3Eq", "older": 4, "paged": true, "searched": true, "owner": "Ada <script>",
            "rows": [{ "id": 5, "customer_name": "Zed <script>", "customer_company": "<script>Co", "state": "ended", "outcome": "resolved",
                "queued_at": 0, "owner_name": "Ada <script>", "excerpt": "<script>alert(1)</script>" }],
            "session": { "id": 5, "customer_name": "Zed <script>", "verified": true, "customer_company": "<script>", "description": "<script>",
                "queued_at": 0, "state": "ended", "outcome": "resolved", "language": "de", "notes": "<script>n" }, "validities": [[15, "15 minutes"]], "keys_return_to": "account",
            "keys": [{ "id": 1, "spaced": "123 456 789", "purpose": "Session key", "link": "http://x/join/123456789", "message": "Open <script>", "expires_at": 0 }],
            "entries": [{ "id": 1, "actor_name": "Ada", "action": "login", "detail": "", "created_at": 0 }],
            "roles": [["rep", "Representative"], ["admin", "Organization admin"]],
            "languages": [["en", "English"], ["de", "Deutsch"]],
            "method_choices": [["rep_list", "Representative list"]], "checked_methods": ["rep_list"],
            "checked_teams": [3], "checked_issue_types": [1], "text_fields": ["welcome"],
            "modes": [["hidden", "Hidden"]],
            "methods": { "rep_list": true, "issue_form": true, "contact_button": true, "smartbox": true, "session_key": true, "presentation": true },
            "contact_asks_name": true, "closed": true, "closed_message": "Closed <script>", "nobody_available": false,
            "no_rep_message": "", "welcome": "Welcome <script>",
            "mode": "key", "action": "/p/demo/key/confirm", "rep": { "name": "Riley <script>", "title": "Tier 1", "org_name": "Acme" },
            "hidden": [["key", "123456789"]], "company": "optional", "company_code": "required", "description": "optional",
            "wait": { "state": "waiting", "position": 2, "estimated_minutes": 3, "rep_name": null, "outcome": null, "notices": [] },
            "capability": "cap", "customer_name": "Cleo <script>", "cancelled": false, "sharing": true, "share_at_start": true,
            "presentation": { "id": 1, "title": "Demo <script>", "presenter_name": "Riley", "org_name": "Acme", "state": "live" },
            "two_factor": { "on": true, "left": 9 }, "qr": "data:image/svg+xml;base64,AA==", "codes": ["abcde-fghij"],
            "onward": "/console", "sso_callback": "http://x/p/demo/sign-in/callback", "sp_metadata": "http://x/p/demo/saml/metadata", "sp_acs": "http://x/p/demo/saml/acs", "staff_sign_in": "http://x/login/sso/acme", "key": "123456789<script>", "sso_link": "/login/sso", "org_name": "Acme <script>", "next": "/p/demo", "keys_without_sign_in": true, "message": "Refused <script>",
            "back": "/p/demo", "signed_in": true, "verified_name": "Quinn <script>",
            "live": [{ "id": 1, "title": "Demo <script>" }], "spaced": "123 456 789", "link": "http://x/presentations/123456789",
            "limit": 10, "full": true, "standing": "in", "token": "tok", "attendee": { "id": 2, "name": "Ann <script>" },
            "presentations": [{ "title": "Demo <script>", "presenter_name": "Riley <script>", "link": "/presentations/123456789" }],
            "form": {
                "name": "Acme", "shortcut": "<script>s", "body": "<script>b", "owner": "me", "default_session_limit": "3", "key_digits": "9", "display_name": "Ada", "email": "ada@example.test",
                "role": "rep", "session_limit": "3", "title": "", "active": "on", "org_name": "Acme",
                "org_slug": "acme", "admin_name": "Ada", "admin_email": "ada@example.test", "slug": "demo",
                "hostnames": "", "start_as": "web_chat", "ask_for": "issue_type", "company": "optional",
                "company_code": "hidden", "description": "optional", "contact_asks_name": "on",
                "accept_when_unavailable": "on", "accent_colour": "#1d4ed8", "framing_origins": "https://shop.example.com", "welcome_en": "", "key": "",
                "customer_name": "", "enabled": "on", "time_zone": "UTC", "holidays": "", "days": { "monday": "" },
                "code_name": "x", "team": "3", "visibility": "public",
                "sso_mode": "required", "sso_protocol": "saml", "sso_saml_metadata_url": "https://idp.example/md<script>", "sso_saml_metadata": "<EntityDescriptor/>", "sso_saml_entity_id": "", "sso_issuer": "https://idp.example/<script>", "sso_client_id": "c<script>",
                "from": "2026-12-01", "to": "2026-12-07", "group": "day", "site": "1",
                "scopes": ["sessions:read"], "url": "https://hooks.example/<script>", "events": ["session.queued"],
                "sso_scopes": "profile email", "sso_map": "name=<script>", "sso_keys_without": "on", "staff_create_accounts": "on", "staff_default_team": "3",
            },
            "errors": { "name": "This field is required." }, "notice": "Saved.",
            "email": "ada@example.test", "next": "/admin", "error": "Email or password is wrong.",
            "status": 404, "title": "Page not found", "text": "Nothing here.", "reference": "abcd1234",
            "user_count": 1, "active_reps": 1,
            "tokens": [{ "id": 1, "name": "CRM <script>", "scopes": ["sessions:read"], "shown_part": "spt_abcdef", "created_by_name": "Ada <script>",
                "created_at": 0, "last_used_at": null, "revoked_at": null }, { "id": 2, "name": "Old", "scopes": ["reports:read"], "shown_part": "spt_zyxwvu",
                "created_by_name": null, "created_at": 0, "last_used_at": 5, "revoked_at": 6 }],
            "scopes": [{ "name": "sessions:read", "label": "Read support sessions, reps, teams and issue types" }],
            "created": "spt_secret<script>", "api_base": "http://x/api/v1",
            "report_rows": [{ "key": "2026-12-01 <script>", "arrived": 3, "accepted": 2, "resolved": 1, "abandoned_waiting": 1, "transfers": 0, "wait_median_secs": 30, "wait_p90_secs": 50,
                "handle_median_secs": null, "rating_average": null, "rated": 0 }],
            "report_total": { "key": "Total", "arrived": 3, "accepted": 2, "resolved": 1, "abandoned_waiting": 1, "transfers": 0, "wait_median_secs": 30, "wait_p90_secs": 50,
                "handle_median_secs": null, "rating_average": 4.5, "rated": 2 },
            "groups": [["day", "Day"]], "group_label": "Day", "csv_query": "from=2026-12-01&to=2026-12-07", "chart": "<svg></svg>",
            "panel": true, "embed_snippet": "<script src=\"http://x/static/embed.js\" data-site=\"demo\" async></script>",
            "endpoints": [{ "id": 1, "url": "https://hooks.example/<script>", "events": ["session.queued"], "created_at": 0 }],
            "choices": [{ "name": "session.queued", "label": "A customer asked for help and waits in a queue" }],
            "endpoint": { "id": 1, "url": "https://hooks.example/<script>", "secret": "whsec_abc", "events": "session.queued", "active": true, "created_at": 0 },
            "events": ["session.queued"],
            "deliveries": [{ "id": 4, "endpoint_id": 1, "message_id": "msg_1", "event_type": "session.queued", "session_id": 5, "payload": "{}", "state": "failed",
                "attempts": 3, "next_attempt_at": 0, "last_status": 500, "last_error": "answered 500 <script>", "last_latency_ms": 12, "created_at": 0, "delivered_at": null },
                { "id": 5, "endpoint_id": 1, "message_id": "msg_2", "event_type": "session.ended", "session_id": null, "payload": "{}", "state": "pending",
                "attempts": 0, "next_attempt_at": 0, "last_status": null, "last_error": null, "last_latency_ms": null, "created_at": 0, "delivered_at": null }],
            "info": { "title": "Supportal REST API", "version": "0.1.0", "description": "Tokens <script>" }, "base": "http://x/api/v1",
            "routes": [{ "path": "/api/v1/sessions", "method": "GET", "operation": { "operationId": "list", "summary": "List <script>",
                "security": [{ "token": ["sessions:read"] }],
                "parameters": [{ "name": "state", "in": "query", "required": false, "schema": { "type": ["string", "null"] }, "description": "<script>" }],
                "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NoticeIn" } } } },
                "responses": { "200": { "description": "", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/SessionPage" } } } } },
                    "401": { "description": "", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } } } } }],
            "schemas": { "SessionPage": { "type": "object", "description": "A page <script>", "required": ["sessions"],
                "properties": { "sessions": { "type": "array", "items": { "$ref": "#/components/schemas/SessionOut" } }, "next_cursor": { "type": ["string", "null"] } } },
                "SessionDetail": { "allOf": [{ "$ref": "#/components/schemas/SessionOut" }, { "type": "object" }] } },
        }))
    }

    #[test]
    fn durations_and_counts_take_their_plural_in_each_language() {
        let catalog = std::sync::Arc::new(crate::i18n::Catalog::load().unwrap());
        let templates = Templates::load(catalog).unwrap();
        let source = "{{ duration(0) }}|{{ duration(1) }}|{{ duration(5) }}|{{ duration(60) }}|\
            {{ duration(240) }}|{{ duration(1440) }}|{{ trn(1, \"{n} byte\", \"{n} bytes\") }}|\
            {{ trn(0, \"{n} byte\", \"{n} bytes\") }}";
        let render = |lang: &str| {
            templates
                .env
                .render_str(source, minijinja::context! { lang })
                .unwrap()
        };
        assert_eq!(
            render("en"),
            "less than a minute|1 minute|5 minutes|1 hour|4 hours|1 day|1 byte|0 bytes"
        );
        assert_eq!(
            render("de"),
            "weniger als einer Minute|1 Minute|5 Minuten|1 Stunde|4 Stunden|1 Tag|1 Byte|0 Bytes"
        );
    }

    #[test]
    fn every_template_renders_with_sample_data_and_escapes_what_people_typed() {
        let catalog = std::sync::Arc::new(crate::i18n::Catalog::load().unwrap());
        let templates = Templates::load(catalog).unwrap();
        for lang in ["en", "de"] {
            for (name, _) in TEMPLATES {
                // Macros and includes render through the pages that use them.
                if name.starts_with("components/")
                    || name.ends_with("/fields.html")
                    || name.ends_with("_nav.html")
                {
                    continue;
                }
                let html = templates
                    .render(name, sample(lang))
                    .unwrap_or_else(|e| panic!("{name} ({lang}): {e:#}"));
                // Console fragments are served alone (the live queue list) or included.
                let fragment = name.starts_with("console/") && *name != "console/index.html";
                assert!(
                    fragment || html.contains("</html>"),
                    "{name} is a whole page"
                );
                assert!(!html.contains("<script>"), "{name} must escape typed HTML");
                assert!(
                    !html.contains("<b onmouseover"),
                    "{name} must escape originals"
                );
                if lang == "de" && !name.starts_with("portal/") && !name.starts_with("errors/") {
                    let left = crate::i18n::english_left(&html);
                    assert!(left.is_empty(), "{name} in German still says: {left:?}");
                }
            }
        }
    }
}
