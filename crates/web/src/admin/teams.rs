//! Teams: each has a shared queue (later issues) and members (edited on a rep's page).

use super::admin_page;
use super::reps::parse_id;
use crate::csrf::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::paths;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::text::DisplayName;
use domain::{FieldError, TeamId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::directory::Team;

#[derive(Deserialize, Serialize, Default)]
pub struct TeamForm {
    #[serde(default)]
    name: String,
}

async fn render_list(
    state: &AppState,
    me: &AdminUser,
    form: &TeamForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let teams = state.store.teams(me.org_id()).await?;
    admin_page(
        state,
        me,
        "teams",
        "admin/teams.html",
        outcome,
        context! { teams, form },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    render_list(&state, &me, &TeamForm::default(), Outcome::fresh()).await
}

/// Parse a team name; a name the organization already uses is an error beside the field.
fn parse_name(raw: &str) -> Result<DisplayName, FieldErrors> {
    let mut errors = FieldErrors::default();
    errors.check("name", DisplayName::parse(raw)).ok_or(errors)
}

fn taken_or_fail(err: store::StoreError) -> AppResult<FieldErrors> {
    match err {
        store::StoreError::Conflict(_) => {
            let mut errors = FieldErrors::default();
            errors.add("name", FieldError::Taken);
            Ok(errors)
        }
        other => Err(other.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<TeamForm>,
) -> AppResult<Response> {
    let name = match parse_name(&form.value.name) {
        Ok(name) => name,
        Err(errors) => {
            return render_list(&state, &me, &form.value, Outcome::invalid(errors)).await
        }
    };
    match state
        .store
        .create_team(me.org_id(), &name, state.now())
        .await
    {
        Ok(id) => {
            me.audit(&state, "team.created", name.as_str()).await?;
            Ok(Redirect::to(&paths::admin_team(id)).into_response())
        }
        Err(err) => {
            render_list(
                &state,
                &me,
                &form.value,
                Outcome::invalid(taken_or_fail(err)?),
            )
            .await
        }
    }
}

async fn render_team(
    state: &AppState,
    me: &AdminUser,
    team: &Team,
    form: &TeamForm,
    outcome: Outcome,
) -> AppResult<Response> {
    render_team_with(state, me, team, form, None, outcome).await
}

/// The team page; `typed_rules` keeps what was typed into the rules form after an error.
async fn render_team_with(
    state: &AppState,
    me: &AdminUser,
    team: &Team,
    form: &TeamForm,
    typed_rules: Option<&RulesForm>,
    outcome: Outcome,
) -> AppResult<Response> {
    let members = state.store.team_members(me.org_id(), team.id).await?;
    let stored = state
        .store
        .team_rules(me.org_id(), team.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rules = match typed_rules {
        Some(typed) => minijinja::Value::from_serialize(typed),
        None => minijinja::Value::from_serialize(RulesForm::of(&stored)),
    };
    let other_teams: Vec<Team> = state
        .store
        .teams(me.org_id())
        .await?
        .into_iter()
        .filter(|t| t.id != team.id)
        .collect();
    // What deleting the team takes with it, said beside the button.
    let goes_with: Vec<String> = state
        .store
        .issue_types(me.org_id())
        .await?
        .into_iter()
        .filter(|i| i.team_id == team.id)
        .map(|i| i.name)
        .collect();
    admin_page(
        state,
        me,
        "teams",
        "admin/team.html",
        outcome,
        context! { team, members, form, rules, other_teams, goes_with },
    )
}

async fn find(state: &AppState, me: &AdminUser, id: TeamId) -> AppResult<Team> {
    state
        .store
        .team(me.org_id(), id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let team = find(&state, &me, parse_id(&id)?).await?;
    let form = TeamForm {
        name: team.name.clone(),
    };
    render_team(&state, &me, &team, &form, Outcome::fresh()).await
}

pub async fn rename(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<TeamForm>,
) -> AppResult<Response> {
    let team = find(&state, &me, parse_id(&id)?).await?;
    let renamed = match parse_name(&form.value.name) {
        Ok(name) => state
            .store
            .rename_team(me.org_id(), team.id, &name)
            .await
            .map(|_| name),
        Err(errors) => {
            return render_team(&state, &me, &team, &form.value, Outcome::invalid(errors)).await
        }
    };
    let name = match renamed {
        Ok(name) => name,
        Err(err) => {
            return render_team(
                &state,
                &me,
                &team,
                &form.value,
                Outcome::invalid(taken_or_fail(err)?),
            )
            .await
        }
    };
    me.audit(&state, "team.renamed", name.as_str()).await?;
    let team = find(&state, &me, team.id).await?;
    let form = TeamForm {
        name: team.name.clone(),
    };
    render_team(&state, &me, &team, &form, Outcome::done("Saved.")).await
}

#[derive(Deserialize, Default)]
pub struct DeleteForm {
    /// "on": the admin ticked "Yes, delete this team and what goes with it".
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn delete(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<DeleteForm>,
) -> AppResult<Response> {
    let team = find(&state, &me, parse_id(&id)?).await?;
    if form.value.confirm.is_none() {
        let mut errors = FieldErrors::default();
        let why = "Tick the box to confirm: the team and its issue types go for good.";
        errors.add_message("confirm", why);
        let shown = TeamForm {
            name: team.name.clone(),
        };
        return render_team(&state, &me, &team, &shown, Outcome::invalid(errors)).await;
    }
    state.store.delete_team(me.org_id(), team.id).await?;
    me.audit(&state, "team.deleted", &team.name).await?;
    Ok(Redirect::to(paths::ADMIN_TEAMS).into_response())
}

#[derive(Deserialize, Serialize, Default)]
pub struct RulesForm {
    #[serde(default)]
    auto_assign: Option<String>,
    #[serde(default)]
    offer_timeout_secs: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    rule_minutes: String,
    #[serde(default)]
    overflow_to: String,
}

impl RulesForm {
    fn of(rules: &store::assignment::TeamRules) -> RulesForm {
        use domain::assignment::WaitingRule;
        let (rule, minutes, to) = match rules.waiting_rule {
            None => ("none", String::new(), String::new()),
            Some(WaitingRule::Alert { minutes }) => ("alert", minutes.to_string(), String::new()),
            Some(WaitingRule::Prioritize { minutes }) => {
                ("prioritize", minutes.to_string(), String::new())
            }
            Some(WaitingRule::Overflow { minutes, to }) => (
                "overflow",
                minutes.to_string(),
                match to {
                    domain::session::Queue::Team(t) => format!("team:{t}"),
                    _ => "general".into(),
                },
            ),
        };
        RulesForm {
            auto_assign: rules.auto_assign.then(|| "on".into()),
            offer_timeout_secs: rules.offer_timeout_secs.to_string(),
            rule: rule.into(),
            rule_minutes: minutes,
            overflow_to: to,
        }
    }
}

fn number_in(errors: &mut FieldErrors, field: &str, raw: &str, min: i64, max: i64) -> Option<i64> {
    let parsed = raw
        .trim()
        .parse::<i64>()
        .map_err(|_| FieldError::InvalidNumber)
        .and_then(|n| {
            if (min..=max).contains(&n) {
                Ok(n)
            } else {
                Err(FieldError::OutOfRange { min, max })
            }
        });
    errors.check(field, parsed)
}

/// Automatic assignment and the waiting rule of a team's queue.
pub async fn rules(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<RulesForm>,
) -> AppResult<Response> {
    use domain::assignment::WaitingRule;
    use domain::session::Queue;
    let team = find(&state, &me, parse_id(&id)?).await?;
    let f = &form.value;
    let mut errors = FieldErrors::default();
    let timeout = number_in(
        &mut errors,
        "offer_timeout_secs",
        &f.offer_timeout_secs,
        5,
        600,
    );
    let rule = match f.rule.as_str() {
        "none" | "" => Some(None),
        action => {
            let minutes = number_in(&mut errors, "rule_minutes", &f.rule_minutes, 1, 24 * 60);
            let to = match f.overflow_to.split_once(':') {
                Some(("team", other)) => match other.parse::<TeamId>() {
                    Ok(other)
                        if other != team.id
                            && state.store.team(me.org_id(), other).await?.is_some() =>
                    {
                        Some(Queue::Team(other))
                    }
                    _ => None,
                },
                None if f.overflow_to == "general" => Some(Queue::General),
                _ => None,
            };
            match (action, minutes, to) {
                ("alert", Some(minutes), _) => Some(Some(WaitingRule::Alert { minutes })),
                ("prioritize", Some(minutes), _) => Some(Some(WaitingRule::Prioritize { minutes })),
                ("overflow", Some(minutes), Some(to)) => {
                    Some(Some(WaitingRule::Overflow { minutes, to }))
                }
                ("overflow", _, None) => {
                    errors.add_message(
                        "overflow_to",
                        "Choose where sessions move: the general queue or another team.",
                    );
                    None
                }
                ("alert" | "overflow" | "prioritize", None, _) => None,
                _ => {
                    errors.add("rule", FieldError::InvalidChoice);
                    None
                }
            }
        }
    };
    let (Some(timeout), Some(waiting_rule), true) = (timeout, rule, errors.is_empty()) else {
        let form = TeamForm {
            name: team.name.clone(),
        };
        return render_team_with(&state, &me, &team, &form, Some(f), Outcome::invalid(errors))
            .await;
    };
    let rules = store::assignment::TeamRules {
        auto_assign: f.auto_assign.is_some(),
        offer_timeout_secs: timeout,
        waiting_rule,
    };
    state
        .store
        .set_team_rules(me.org_id(), team.id, &rules)
        .await?;
    me.audit(&state, "team.rules", &team.name).await?;
    let form = TeamForm {
        name: team.name.clone(),
    };
    render_team(
        &state,
        &me,
        &team,
        &form,
        Outcome::done("Queue rules saved."),
    )
    .await
}
