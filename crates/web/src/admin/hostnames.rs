//! Hostname claims: an organization's admin proves a hostname by a DNS record the server looks
//! up ("Check now"), or the instance admin approves it. The instance's own host is reserved.

use super::sites::{find, render_site};
use crate::csrf::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::extract::{AdminUser, InstanceAdmin};
use crate::forms::{FieldErrors, Outcome};
use crate::hostnames::{record_name, record_value};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::{OrgId, SiteId};
use serde::{Deserialize, Serialize};
use store::sites::HostnameClaim;

/// A claim as the site page shows it: the record to add while it is pending.
#[derive(Serialize)]
pub struct ClaimView {
    hostname: String,
    verified: bool,
    record_name: String,
    record_value: String,
}

pub fn claim_views(claims: &[HostnameClaim]) -> Vec<ClaimView> {
    claims
        .iter()
        .map(|c| ClaimView {
            verified: c.verified(),
            record_name: record_name(&c.hostname),
            record_value: record_value(&c.challenge),
            hostname: c.hostname.clone(),
        })
        .collect()
}

/// The host people reach this instance by (and its global key page): no site may claim it.
fn instance_host(state: &AppState) -> Option<String> {
    url::Url::parse(&state.config.public_url)
        .ok()?
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
}

/// False, with a message beside the field, when one of `hosts` is the instance's own.
pub fn none_reserved(state: &AppState, hosts: &[String], errors: &mut FieldErrors) -> bool {
    let Some(own) = instance_host(state) else {
        return true;
    };
    match hosts.iter().find(|h| **h == own) {
        Some(host) => {
            let message =
                format!("{host} is this server's own address: it cannot belong to a site.");
            errors.add_message("hostnames", message);
            false
        }
        None => true,
    }
}

#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    hostname: String,
}

/// "Check now": look up the claim's DNS record; proven, the site answers on the hostname.
pub async fn check(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<CheckForm>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let host = form.value.hostname.trim().to_ascii_lowercase();
    let claims = state.store.site_hostnames(site.id).await?;
    let claim = claims
        .iter()
        .find(|c| c.hostname == host)
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::default();
    let proven = match claim.verified() {
        true => None,
        false => Some(state.ownership.proven(&host, &claim.challenge).await),
    };
    let outcome = match proven {
        None => Outcome::done(format!("{host} is already verified.")),
        Some(Ok(true)) => match verify(&state, me.org_id(), site.id, &host, "dns").await? {
            true => {
                me.audit(&state, "site.hostname_verified", &host).await?;
                Outcome::done(format!("{host} is verified: this site now answers on it."))
            }
            false => {
                errors.add_message("hostnames", format!("{host} now belongs to another site."));
                Outcome::invalid(errors)
            }
        },
        Some(Ok(false)) => {
            let message = format!(
                "No TXT record {} with the expected value was found yet. DNS changes can take a \
                 while to appear; check again later.",
                record_name(&host)
            );
            errors.add_message("hostnames", message);
            Outcome::invalid(errors)
        }
        Some(Err(failed)) => {
            tracing::warn!(host, reason = failed.0, "hostname check failed");
            let message = format!(
                "The check could not be made ({}). Try again later.",
                failed.0
            );
            errors.add_message("hostnames", message);
            Outcome::invalid(errors)
        }
    };
    render_site(&state, &me, &site, None, outcome).await
}

/// Prove a claim; false when another site proved the hostname first.
async fn verify(
    state: &AppState,
    org: OrgId,
    site: SiteId,
    host: &str,
    by: &str,
) -> AppResult<bool> {
    match state
        .store
        .verify_hostname(org, site, host, by, state.now())
        .await
    {
        Ok(done) => Ok(done),
        Err(store::StoreError::Conflict(_)) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    org: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    hostname: String,
}

/// The instance admin vouches for a claim (for hostnames whose DNS the organization cannot edit).
pub async fn approve(
    State(state): State<AppState>,
    me: InstanceAdmin,
    form: CsrfForm<ApproveForm>,
) -> AppResult<Response> {
    let f = form.value;
    let (Ok(org), Ok(site)) = (f.org.parse::<OrgId>(), f.site.parse::<SiteId>()) else {
        return Err(AppError::NotFound);
    };
    let outcome = match verify(&state, org, site, &f.hostname, "instance-admin").await? {
        true => {
            let now = state.now();
            for audited_in in [me.0.org_id(), org] {
                state
                    .store
                    .record_audit(
                        Some(audited_in),
                        Some(me.0.id()),
                        "site.hostname_approved",
                        &f.hostname,
                        now,
                    )
                    .await?;
            }
            Outcome::done(format!(
                "{} approved: its site now answers on it.",
                f.hostname
            ))
        }
        false => Outcome::done(format!(
            "{} was not approved: the claim is gone or another site holds the hostname.",
            f.hostname
        )),
    };
    super::organizations::render(&state, &me, &Default::default(), outcome).await
}
