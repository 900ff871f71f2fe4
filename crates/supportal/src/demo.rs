//! The demo organization `serve --demo` creates in an empty database: enough to click through.

use domain::rep::Presence;
use domain::site::SiteSettings;
use domain::text::{DisplayName, Email, Slug};
use domain::{Language, Role, SessionLimit, TeamId, Timestamp};
use store::orgs::NewOrganization;
use store::users::NewUser;
use store::{Store, StoreResult};

pub const ADMIN_EMAIL: &str = "admin@demo.test";
pub const REP_EMAILS: [&str; 3] = ["rep1@demo.test", "rep2@demo.test", "rep3@demo.test"];

fn parsed<T>(value: Result<T, domain::FieldError>, what: &str) -> StoreResult<T> {
    value.map_err(|e| store::StoreError::Corrupt(format!("demo {what}: {e}")))
}

/// Seed the demo organization if the database has no organization yet. True when it seeded.
pub async fn seed(store: &Store, password_hash: &str, now: Timestamp) -> StoreResult<bool> {
    if store.count_organizations().await? > 0 {
        return Ok(false);
    }
    let name = |s: &str| parsed(DisplayName::parse(s), s);
    let (org_name, slug) = (name("Demo")?, parsed(Slug::parse("demo"), "slug")?);
    let (admin_email, admin_name) = (
        parsed(Email::parse(ADMIN_EMAIL), "email")?,
        name("Dana Admin")?,
    );
    let admin = NewUser {
        email: &admin_email,
        display_name: &admin_name,
        role: Role::Admin,
        password_hash,
        is_instance_admin: true,
        session_limit: SessionLimit::DEFAULT.get(),
    };
    let (org, _) = store
        .create_organization(
            &NewOrganization {
                name: &org_name,
                slug: &slug,
            },
            &admin,
            now,
        )
        .await?;

    let support = store.create_team(org, &name("Support")?, now).await?;
    let billing = store.create_team(org, &name("Billing")?, now).await?;
    // Riley and Sam are available, so the demo portal lists them; Taylor is away.
    let reps: [(&str, &str, &[TeamId], Presence); 3] = [
        (REP_EMAILS[0], "Riley Rep", &[support], Presence::Available),
        (
            REP_EMAILS[1],
            "Sam Rep",
            &[support, billing],
            Presence::Available,
        ),
        (REP_EMAILS[2], "Taylor Rep", &[billing], Presence::Away),
    ];
    for (email, display, teams, presence) in reps {
        let (email, display) = (parsed(Email::parse(email), "email")?, name(display)?);
        let rep = NewUser {
            email: &email,
            display_name: &display,
            role: Role::Rep,
            password_hash,
            is_instance_admin: false,
            session_limit: SessionLimit::DEFAULT.get(),
        };
        let id = store.create_user(org, &rep, now).await?;
        store.set_user_teams(org, id, teams).await?;
        store.set_presence(org, id, presence, now).await?;
    }

    // Every start method is offered (the default), with a welcome text in both languages.
    let site = store
        .create_site(org, &name("Demo Support")?, &slug, now)
        .await?;
    let welcome = [
        (Language::En, "Welcome to the Demo help desk. Pick a representative, describe your issue, or enter the key we gave you."),
        (Language::De, "Willkommen beim Demo-Helpdesk. Wählen Sie eine Ansprechperson, beschreiben Sie Ihr Anliegen oder geben Sie Ihren Schlüssel ein."),
    ];
    let settings = SiteSettings {
        welcome: welcome
            .into_iter()
            .map(|(l, t)| (l, t.to_owned()))
            .collect(),
        ..SiteSettings::default()
    };
    store
        .update_site(org, site, &name("Demo Support")?, &slug, &settings)
        .await?;
    let issues = [
        (support, "I cannot sign in", "sign-in"),
        (support, "Something is broken", "broken"),
        (billing, "Question about an invoice", "invoice"),
        (billing, "Change my plan", "plan"),
    ];
    for (team, label, code) in issues {
        store
            .create_issue_type(org, team, &name(label)?, &parsed(Slug::parse(code), code)?)
            .await?;
    }
    store
        .record_audit(Some(org), None, "demo.seeded", "", now)
        .await?;
    Ok(true)
}
