//! What each CLI command does.

use crate::cli::{
    AdminCommand, Cli, Command, ConfigCommand, CreateAdminArgs, ServeArgs, SiteCommand, SsoArgs,
};
use crate::clock::SystemClock;
use crate::config::{Config, EXAMPLE};
use crate::startup::{open_store, shutdown_signal, Application};
use crate::{demo, telemetry};
use anyhow::{bail, Context};
use domain::text::{DisplayName, Email, NewPassword, Slug};
use domain::{Clock, Role, SessionLimit};
use rand::distributions::{Alphanumeric, DistString};
use std::io::BufRead;
use std::sync::Arc;
use store::orgs::NewOrganization;
use store::users::NewUser;
use store::Store;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        config.log.format = format;
        config.validate()?;
    }
    match cli.command {
        Command::Config(ConfigCommand::Example) => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            println!("# configuration is valid; effective values (secrets redacted):");
            print!("{}", config.redacted_toml());
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(&config.log.format, &config.log.level);
            open_store(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Serve(args) => serve(config, args).await,
        Command::Admin(AdminCommand::Create(args)) => create_admin(&config, args).await,
        Command::Site(SiteCommand::Sso(args)) => site_sso(&config, args).await,
    }
}

/// `supportal site sso`: the site's identity provider, checked as the admin page checks it.
async fn site_sso(config: &Config, args: SsoArgs) -> anyhow::Result<()> {
    use domain::portal_sign_in::{parse_mapping, SsoSettings};
    let field = field_error;
    let sso = if args.off {
        None
    } else {
        let map = args
            .map
            .iter()
            .map(|m| parse_mapping(m).map_err(|e| field(&format!("--map {m}"), e)))
            .collect::<anyhow::Result<_>>()?;
        let provider = match &args.saml_metadata_url {
            Some(url) => saml_provider(url, args.saml_entity_id.as_deref()).await?,
            None => oidc_provider(&args)?,
        };
        Some(SsoSettings {
            provider,
            map,
            required: !args.optional,
            keys_without_sign_in: !args.keys_need_sign_in,
        })
    };
    let store = open_store(config).await?;
    let Some(site) = store.site_by_slug(&args.site).await? else {
        bail!("--site: no site is called {}", args.site);
    };
    let mut settings = site.settings.clone();
    settings.sso = sso;
    let (name, slug) = (
        DisplayName::parse(&site.name).map_err(|e| field("site name", e))?,
        Slug::parse(&site.slug).map_err(|e| field("site slug", e))?,
    );
    store
        .update_site(site.org_id, site.id, &name, &slug, &settings)
        .await?;
    let said = match &settings.sso {
        None => "customers ask without signing in".to_owned(),
        Some(sso) => {
            let need = if sso.required { "required" } else { "optional" };
            format!("sign-in at {} ({need})", sso.provider.label())
        }
    };
    println!("site {}: {said}", site.slug);
    Ok(())
}

fn field_error(what: &str, e: domain::FieldError) -> anyhow::Error {
    anyhow::anyhow!("{what}: {}", e.message())
}

/// OpenID Connect from `--oidc-…`.
fn oidc_provider(args: &SsoArgs) -> anyhow::Result<domain::portal_sign_in::Provider> {
    use domain::portal_sign_in::{parse_issuer, Provider};
    let issuer = parse_issuer(args.oidc_issuer.as_deref().unwrap_or_default())
        .map_err(|e| field_error("--oidc-issuer", e))?;
    let client_id = args.oidc_client_id.clone().unwrap_or_default();
    if client_id.trim().is_empty() {
        bail!("--oidc-client-id: the client id the provider gave this site is required");
    }
    let client_secret = args.oidc_client_secret.clone().unwrap_or_default();
    if client_secret.is_empty() {
        bail!(
            "--oidc-client-secret (or SUPPORTAL_OIDC_CLIENT_SECRET): the client secret is required"
        );
    }
    let scopes = match args.scopes.is_empty() {
        true => vec!["profile".to_owned(), "email".to_owned()],
        false => args.scopes.clone(),
    };
    Ok(Provider::Oidc {
        issuer,
        client_id: client_id.trim().to_owned(),
        client_secret,
        scopes,
    })
}

/// SAML from `--saml-metadata-url`: the metadata read now and checked as the admin page checks
/// it (kept, for when the address does not answer later).
async fn saml_provider(
    url: &str,
    entity_id: Option<&str>,
) -> anyhow::Result<domain::portal_sign_in::Provider> {
    use web::sso::saml::{check_idp_metadata, fetch_idp_metadata};
    let url = domain::portal_sign_in::parse_url(url)
        .map_err(|e| field_error("--saml-metadata-url", e))?;
    let metadata = fetch_idp_metadata(&url)
        .await
        .map_err(|why| anyhow::anyhow!("--saml-metadata-url: {why}"))?;
    check_idp_metadata(&metadata)
        .map_err(|why| anyhow::anyhow!("--saml-metadata-url: the metadata is not usable: {why}"))?;
    Ok(domain::portal_sign_in::Provider::Saml {
        metadata_url: Some(url),
        metadata,
        entity_id: entity_id.map(str::to_owned),
    })
}

async fn serve(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(bind) = args.bind {
        config.server.bind = bind;
        config.validate()?;
    }
    telemetry::init(&config.log.format, &config.log.level);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = open_store(&config).await?;
    let app = Application::build(&config, store.clone(), clock.clone()).await?;
    let addr = app.local_addr()?;
    // With port 0 the real port is known only now.
    let public_url = match config.server.public_url {
        Some(_) => config.public_url(),
        None => format!("http://{addr}"),
    };
    if store.count_organizations().await? == 0 {
        if args.demo {
            seed_demo(&store, clock.now()).await?;
        } else {
            print_setup_link(&store, &public_url, clock.as_ref()).await?;
        }
    }
    let stopped = shutdown_signal();
    tracing::info!(%addr, backend = store.backend().name(), "Supportal is listening");
    println!("Supportal is running: open {public_url}");
    app.run_until_stopped(stopped).await
}

async fn seed_demo(store: &Store, now: domain::Timestamp) -> anyhow::Result<()> {
    let (password, generated) = match std::env::var("SUPPORTAL_DEMO_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (Alphanumeric.sample_string(&mut rand::rngs::OsRng, 16), true),
    };
    NewPassword::parse(&password)
        .map_err(|e| anyhow::anyhow!("SUPPORTAL_DEMO_PASSWORD: {}", e.message()))?;
    let hash = web::passwords::hash(&password).await?;
    demo::seed(store, &hash, now).await?;
    println!(
        "Demo organization created. Sign in as {} (admin) or {}.",
        demo::ADMIN_EMAIL,
        demo::REP_EMAILS.join(", ")
    );
    if generated {
        println!(
            "Their password (shown once; set SUPPORTAL_DEMO_PASSWORD to choose it): {password}"
        );
    } else {
        println!("Their password is the value of SUPPORTAL_DEMO_PASSWORD.");
    }
    Ok(())
}

async fn print_setup_link(
    store: &Store,
    public_url: &str,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    store
        .replace_setup_token(&domain::secret::token_digest(&token), clock.now())
        .await?;
    println!("No organization yet. Create the first one (this link works once):");
    println!("  {public_url}/setup?token={token}");
    Ok(())
}

fn read_admin_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("SUPPORTAL_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn create_admin(config: &Config, args: CreateAdminArgs) -> anyhow::Result<()> {
    let field = |what: &str, e: domain::FieldError| anyhow::anyhow!("{what}: {}", e.message());
    let email = Email::parse(&args.email).map_err(|e| field("--email", e))?;
    let name = DisplayName::parse(&args.name).map_err(|e| field("--name", e))?;
    let password = NewPassword::parse(&read_admin_password()?)
        .map_err(|e| field("password (SUPPORTAL_ADMIN_PASSWORD or stdin)", e))?;
    let slug = args
        .org
        .as_deref()
        .map(Slug::parse)
        .transpose()
        .map_err(|e| field("--org", e))?;

    let store = open_store(config).await?;
    let now = SystemClock.now();
    let hash = web::passwords::hash(password.expose()).await?;
    let user = NewUser {
        email: &email,
        display_name: &name,
        role: Role::Admin,
        password_hash: &hash,
        is_instance_admin: args.instance_admin,
        session_limit: SessionLimit::DEFAULT.get(),
    };
    let orgs = store.organizations().await?;
    let existing = match &slug {
        Some(slug) => orgs.iter().find(|o| o.slug == slug.as_str()),
        None if orgs.len() > 1 => bail!(
            "--org: there are {} organizations; name one by its short name",
            orgs.len()
        ),
        None => orgs.first(),
    };
    let taken = |e: store::StoreError| match e {
        store::StoreError::Conflict(_) => {
            anyhow::anyhow!("--email: an account with {} already exists", email.as_str())
        }
        other => other.into(),
    };
    match existing {
        Some(org) => {
            store.create_user(org.id, &user, now).await.map_err(taken)?;
            store
                .record_audit(
                    Some(org.id),
                    None,
                    "user.created",
                    &format!("{} (admin, by CLI)", email.as_str()),
                    now,
                )
                .await?;
            println!(
                "Created admin {} in organization {}.",
                email.as_str(),
                org.slug
            );
        }
        None => {
            let slug = match slug {
                Some(slug) => slug,
                None => Slug::parse("default").map_err(|e| field("--org", e))?,
            };
            let org_name = DisplayName::parse(slug.as_str()).map_err(|e| field("--org", e))?;
            let (org, _) = store
                .create_organization(
                    &NewOrganization {
                        name: &org_name,
                        slug: &slug,
                    },
                    &user,
                    now,
                )
                .await
                .map_err(taken)?;
            store
                .record_audit(Some(org), None, "organization.created", "by CLI", now)
                .await?;
            println!(
                "Created organization {} with admin {}.",
                slug.as_str(),
                email.as_str()
            );
        }
    }
    Ok(())
}
