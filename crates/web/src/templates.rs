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
    "login.html",
    "setup.html",
    "account.html",
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
);

pub struct Templates {
    env: Environment<'static>,
}

/// `{{ created_at | datetime }}`: milliseconds since the epoch as a UTC date and time.
fn datetime(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

impl Templates {
    pub fn load() -> Result<Templates, minijinja::Error> {
        let mut env = Environment::new();
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
}

/// Render a page for a handler: HTML on success, a logged server error otherwise.
pub fn page(
    state: &crate::AppState,
    name: &str,
    ctx: Value,
) -> crate::error::AppResult<axum::response::Html<String>> {
    Ok(axum::response::Html(state.templates.render(name, ctx)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Sample data covering every variable any template prints. SemiStrict undefined
    /// behaviour makes printing a missing one an error, so this catches typos in templates.
    fn sample() -> Value {
        let user = json!({
            "id": 7, "org_id": 1, "email": "ada@example.test", "display_name": "Ada <script>",
            "title": "Tier 2", "role": "admin", "is_instance_admin": true, "active": true,
            "session_limit": 3, "created_at": 1_700_000_000_000_i64,
        });
        let team = json!({ "id": 3, "name": "Support", "member_count": 2 });
        Value::from_serialize(json!({
            "me": user, "user": user, "csrf": "token", "section": "reps", "slug": "acme", "token": "t",
            "org": { "id": 1, "name": "Acme", "slug": "acme", "default_session_limit": 3, "created_at": 0 },
            "organizations": [{ "id": 1, "name": "Acme", "slug": "acme", "default_session_limit": 3, "created_at": 0 }],
            "users": [user], "members": [user], "teams": [team], "team": team, "member_of": [3],
            "sites": [{ "id": 1, "org_id": 1, "name": "Demo", "slug": "demo" }],
            "issue_types": [{ "id": 1, "team_id": 3, "name": "Printers", "code_name": "printers" }],
            "entries": [{ "id": 1, "actor_name": "Ada", "action": "login", "detail": "", "created_at": 0 }],
            "roles": [["rep", "Representative"], ["admin", "Organization admin"]],
            "form": {
                "name": "Acme", "default_session_limit": "3", "display_name": "Ada", "email": "ada@example.test",
                "role": "rep", "session_limit": "3", "title": "", "active": "on", "org_name": "Acme",
                "org_slug": "acme", "admin_name": "Ada", "admin_email": "ada@example.test",
            },
            "errors": { "name": "This field is required." }, "notice": "Saved.",
            "email": "ada@example.test", "next": "/admin", "error": "Email or password is wrong.",
            "status": 404, "title": "Page not found", "text": "Nothing here.", "reference": "abcd1234",
            "user_count": 1, "active_reps": 1,
        }))
    }

    #[test]
    fn every_template_renders_with_sample_data_and_escapes_what_people_typed() {
        let templates = Templates::load().unwrap();
        for (name, _) in TEMPLATES {
            if name.starts_with("components/") {
                continue; // macros only, rendered through the pages that import them
            }
            let html = templates
                .render(name, sample())
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(html.contains("</html>"), "{name} is a whole page");
            assert!(!html.contains("<script>"), "{name} must escape typed HTML");
        }
    }
}
