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
pub fn page(state: &crate::AppState, name: &str, ctx: Value) -> crate::error::AppResult<axum::response::Html<String>> {
    Ok(axum::response::Html(state.templates.render(name, ctx)?))
}
