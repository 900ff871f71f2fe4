//! The assignment tick: close offers that ran out, offer waiting sessions of auto-assigning
//! teams to the best rep not asked before, and apply waiting rules. Runs every second on every
//! node; each step is a conditional write, so running it twice at once changes nothing twice.
//! `now` is a parameter: tests drive it with their own clock.

use crate::explain;
use crate::state::AppState;
use domain::assignment::{choose_rep, WaitingRule};
use domain::realtime::SessionChange;
use domain::session::Queue;
use domain::Timestamp;

fn touching(
    queue: Option<Queue>,
    left_queue: Option<Queue>,
    reps: Vec<domain::UserId>,
) -> SessionChange {
    SessionChange {
        queue,
        left_queue,
        reps,
    }
}

pub async fn tick(state: &AppState, now: Timestamp) -> Result<(), store::StoreError> {
    for (org, session, seq, rep) in state.store.close_stale_offers(now).await? {
        state.announce(org, seq, session, touching(None, None, vec![rep]));
    }
    for waiting in state.store.sessions_to_offer().await? {
        let candidates = state
            .store
            .assignment_candidates(waiting.org, waiting.team)
            .await?;
        let asked = state.store.offered_reps(waiting.session).await?;
        // Everyone declined or nobody is free: it stays queued for whoever takes it by hand.
        let Some(rep) = choose_rep(&candidates, &asked) else {
            continue;
        };
        let name = state
            .store
            .user(waiting.org, rep)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let reason = explain::fill(explain::AUTO_ASSIGN, &[("rep", &name)]);
        let expires = now.plus_seconds(waiting.offer_timeout_secs);
        if let Some(seq) = state
            .store
            .create_offer(waiting.org, waiting.session, rep, &reason, now, expires)
            .await?
        {
            let change = touching(Some(Queue::Team(waiting.team)), None, vec![rep]);
            state.announce(waiting.org, seq, waiting.session, change);
        }
    }
    for check in state.store.sessions_under_rules().await? {
        if !check.rule.is_due(check.queued_at, now) {
            continue;
        }
        let done = match check.rule {
            WaitingRule::Alert { minutes } | WaitingRule::Prioritize { minutes }
                if !check.overdue =>
            {
                let raise = matches!(check.rule, WaitingRule::Prioritize { .. });
                let template = match raise {
                    true => explain::OVERDUE_RAISED,
                    false => explain::OVERDUE,
                };
                let minutes = minutes.to_string();
                let args = [("minutes", minutes.as_str()), ("team", &check.team_name)];
                let reason = explain::fill(template, &args);
                state
                    .store
                    .mark_overdue(check.org, check.session, &reason, raise, now)
                    .await?
                    .map(|event| {
                        let change = touching(Some(Queue::Team(check.team)), None, vec![]);
                        (event, change)
                    })
            }
            WaitingRule::Alert { .. } | WaitingRule::Prioritize { .. } => None,
            WaitingRule::Overflow { minutes, to } => {
                let target = match to {
                    Queue::Team(team) => state
                        .store
                        .team(check.org, team)
                        .await?
                        .map(|t| explain::fill(explain::TO_TEAM, &[("team", &t.name)])),
                    Queue::General => Some(explain::TO_GENERAL.to_owned()),
                    Queue::Personal(_) => None,
                };
                match target {
                    Some(target) => {
                        let minutes = minutes.to_string();
                        let args = [
                            ("minutes", minutes.as_str()),
                            ("team", &check.team_name),
                            ("target", &target),
                        ];
                        let reason = explain::fill(explain::OVERFLOW, &args);
                        state
                            .store
                            .move_waiting(check.org, check.session, check.team, to, &reason, now)
                            .await?
                            .map(|event| {
                                let change =
                                    touching(Some(to), Some(Queue::Team(check.team)), vec![]);
                                (event, change)
                            })
                    }
                    None => None,
                }
            }
        };
        if let Some((event, change)) = done {
            state.announce(check.org, event, check.session, change);
        }
    }
    Ok(())
}
