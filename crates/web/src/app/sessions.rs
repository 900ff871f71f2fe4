//! Use cases of a support session: each decides, commits in one store call (one transaction),
//! then announces what it stored to the topics it touched. Handlers parse, call one of these,
//! and render; they never announce themselves.

use crate::error::AppResult;
use crate::state::AppState;
use domain::realtime::SessionChange;
use domain::session::{Outcome, Queue, Status};
use domain::{SessionId, UserId};
use store::support::{Claim, Committed, SupportSession};
use store::users::User;

/// How an attempt to take a session went.
pub enum Taken {
    Yes,
    /// The rep holds `held` sessions already, their limit.
    AtLimit {
        held: i64,
    },
    /// Someone else has it (their name, when it is still active), or it is no longer waiting.
    No {
        by: Option<String>,
    },
}

/// The reps in a session now: its owner and participants (their consoles list it).
async fn reps_in(state: &AppState, session: &SupportSession) -> AppResult<Vec<UserId>> {
    let mut reps: Vec<UserId> = session.owner_user_id.map(UserId).into_iter().collect();
    if session.state == Status::Active {
        for participant in state.store.participants(session.org_id, session.id).await? {
            reps.push(participant.id);
        }
        // Reps asked to join and not answered yet: their notice goes when the session moves.
        reps.extend(state.store.invited_reps(session.org_id, session.id).await?);
    }
    Ok(reps)
}

fn accepted(
    state: &AppState,
    rep: &User,
    session: SessionId,
    queue: Option<Queue>,
    event: Committed,
) {
    let change = SessionChange {
        queue,
        reps: vec![rep.id],
        ..SessionChange::default()
    };
    state.announce(rep.org_id, event, session, change);
}

async fn refused(state: &AppState, rep: &User, claim: Claim, id: SessionId) -> AppResult<Taken> {
    Ok(match claim {
        Claim::Won(_) => Taken::Yes,
        Claim::AtLimit { held } => Taken::AtLimit { held },
        Claim::Gone => {
            let owner = state
                .store
                .support_session(rep.org_id, id)
                .await?
                .and_then(|s| s.owner_user_id);
            let by = match owner {
                Some(owner) => state
                    .store
                    .user(rep.org_id, UserId(owner))
                    .await?
                    .map(|u| u.display_name),
                None => None,
            };
            Taken::No { by }
        }
    })
}

/// Take `session` (already checked to be in a queue the rep may take from).
pub async fn accept(state: &AppState, rep: &User, session: &SupportSession) -> AppResult<Taken> {
    let claim = state
        .store
        .claim_session(
            rep.org_id,
            session.id,
            rep.id,
            rep.session_limit,
            state.now(),
        )
        .await?;
    if let Claim::Won(event) = claim {
        accepted(state, rep, session.id, session.queue(), event);
    }
    refused(state, rep, claim, session.id).await
}

/// Take the first in line of the rep's team queues; the session taken, if any.
pub async fn next(state: &AppState, rep: &User) -> AppResult<Result<SessionId, Taken>> {
    let teams = state.store.user_team_ids(rep.org_id, rep.id).await?;
    // Another rep may take the first ones in the meantime: try the next few in line.
    for (id, team) in state.store.next_in_teams(rep.org_id, &teams, 5).await? {
        let claim = state
            .store
            .claim_session(rep.org_id, id, rep.id, rep.session_limit, state.now())
            .await?;
        match claim {
            Claim::Won(event) => {
                accepted(state, rep, id, Some(Queue::Team(team)), event);
                return Ok(Ok(id));
            }
            Claim::AtLimit { held } => return Ok(Err(Taken::AtLimit { held })),
            Claim::Gone => continue,
        }
    }
    Ok(Err(Taken::No { by: None }))
}

/// Accept what automatic assignment offered this rep.
pub async fn accept_offer(state: &AppState, rep: &User, id: SessionId) -> AppResult<Taken> {
    let claim = state
        .store
        .accept_offer(rep.org_id, id, rep.id, rep.session_limit, state.now())
        .await?;
    if let Claim::Won(event) = claim {
        let queue = state
            .store
            .support_session(rep.org_id, id)
            .await?
            .and_then(|s| s.queue());
        accepted(state, rep, id, queue, event);
    }
    refused(state, rep, claim, id).await
}

/// Decline an offer. The background worker offers it to the next rep on its next round.
pub async fn decline_offer(state: &AppState, rep: &User, id: SessionId) -> AppResult<()> {
    if let Some(seq) = state
        .store
        .decline_offer(rep.org_id, id, rep.id, state.now())
        .await?
    {
        let change = SessionChange {
            reps: vec![rep.id],
            ..SessionChange::default()
        };
        state.announce(rep.org_id, seq, id, change);
    }
    Ok(())
}

/// End a session: its owner closing it (`by`), or the customer leaving (`by` None). False when
/// the session is not in a state that allows it (already ended, not the owner's).
pub async fn end(
    state: &AppState,
    session: &SupportSession,
    outcome: Outcome,
    by: Option<&User>,
    notes: Option<&str>,
) -> AppResult<bool> {
    let reps = reps_in(state, session).await?;
    let ended = state
        .store
        .end_session(
            session.org_id,
            session.id,
            outcome,
            by.map(|u| u.id),
            notes,
            state.now(),
        )
        .await?;
    let Some(seq) = ended else {
        return Ok(false);
    };
    let change = SessionChange {
        // A customer who leaves while waiting shortens their line.
        queue: (session.state == Status::Waiting)
            .then(|| session.queue())
            .flatten(),
        reps,
        ..SessionChange::default()
    };
    state.announce(session.org_id, seq, session.id, change);
    Ok(true)
}

/// Put the rep's active session into another queue (keeps its place by arrival).
pub async fn transfer(
    state: &AppState,
    rep: &User,
    session: &SupportSession,
    queue: Queue,
    reason: &str,
) -> AppResult<bool> {
    let reps = reps_in(state, session).await?;
    let moved = state
        .store
        .requeue_session(rep.org_id, session.id, rep.id, queue, reason, state.now())
        .await?;
    let Some(seq) = moved else {
        return Ok(false);
    };
    let change = SessionChange {
        queue: Some(queue),
        reps,
        ..SessionChange::default()
    };
    state.announce(rep.org_id, seq, session.id, change);
    Ok(true)
}

/// Ask a colleague to join the rep's active session: their console shows the invitation.
pub async fn invite(
    state: &AppState,
    rep: &User,
    id: SessionId,
    invited: UserId,
) -> AppResult<bool> {
    let added = state
        .store
        .invite_participant(rep.org_id, id, rep.id, invited, state.now())
        .await?;
    let Some(seq) = added else {
        return Ok(false);
    };
    let change = SessionChange {
        reps: vec![rep.id, invited],
        ..SessionChange::default()
    };
    state.announce(rep.org_id, seq, id, change);
    Ok(true)
}

/// The invited rep accepts or declines; the owner's and everyone's consoles hear of it (an
/// acceptance shows in the conversation). False when there is no such invitation any more.
pub async fn answer_invitation(
    state: &AppState,
    rep: &User,
    session: &SupportSession,
    accept: bool,
) -> AppResult<bool> {
    let answered = state
        .store
        .answer_invitation(rep.org_id, session.id, rep.id, accept, state.now())
        .await?;
    tell_reps_in(state, rep, session, answered).await
}

/// An invited rep leaves the session; the others see it in the conversation.
pub async fn leave(state: &AppState, rep: &User, session: &SupportSession) -> AppResult<bool> {
    let left = state
        .store
        .leave_session(rep.org_id, session.id, rep.id, state.now())
        .await?;
    tell_reps_in(state, rep, session, left).await
}

/// A rep's own change to who is in a session, when it was made (`committed`): announced to
/// everyone in it and to that rep. Whether it was made.
async fn tell_reps_in(
    state: &AppState,
    rep: &User,
    session: &SupportSession,
    committed: Option<Committed>,
) -> AppResult<bool> {
    let Some(seq) = committed else {
        return Ok(false);
    };
    let mut reps = reps_in(state, session).await?;
    reps.push(rep.id);
    let change = SessionChange {
        reps,
        ..SessionChange::default()
    };
    state.announce(rep.org_id, seq, session.id, change);
    Ok(true)
}

/// Reps whose consoles fell silent past the grace go offline; their sessions go back to the
/// queues they came from. Safe on every node at once (each rep is taken offline by one).
pub async fn sweep_presence(state: &AppState) -> AppResult<()> {
    let now = state.now();
    let silent_for = state.config.offline_grace_secs + state.config.heartbeat_secs;
    let silent_since = now.plus_seconds(-(i64::try_from(silent_for).unwrap_or(i64::MAX)));
    let gone = state
        .store
        .sweep_silent_reps(
            silent_since,
            |name| crate::explain::fill(crate::explain::DISCONNECTED, &[("rep", name)]),
            now,
        )
        .await?;
    for went in gone {
        state.announce_portal_change(went.org);
        for (session, seq, queue) in went.requeued {
            let change = SessionChange {
                queue: Some(queue),
                reps: vec![went.rep],
                ..SessionChange::default()
            };
            state.announce(went.org, seq, session, change);
        }
    }
    Ok(())
}

/// What to queue, where it came from.
pub struct Arrival<'a> {
    pub org: domain::OrgId,
    pub site: Option<domain::SiteId>,
    pub routed: &'a domain::routing::Routed,
    pub intake: &'a domain::intake::Intake,
    pub issue_type: Option<domain::IssueTypeId>,
    pub lang: domain::Language,
    /// Who vouched for the customer (the identity provider's issuer) and the attributes it
    /// sent (a JSON object), when they signed in at the portal.
    pub verified: Option<(&'a str, &'a str)>,
    /// The site's identity provider (from the portal's snapshot) and who this browser signed
    /// in as there (read once, with the page: `Portal::with_sign_in`).
    pub sign_in: Option<SignIn<'a>>,
}

/// A site's identity provider, and the customer it vouched for, if they signed in.
#[derive(Clone, Copy)]
pub struct SignIn<'a> {
    pub sso: &'a domain::portal_sign_in::SsoSettings,
    pub identity: Option<&'a crate::sso::Verified>,
}

/// Queue a customer where routing sent them (with `key`, using that key in the same
/// transaction) and announce the arrival. Their capability token, which only they get (its
/// digest is stored); None when somebody else used the key first.
pub async fn queue_customer(
    state: &AppState,
    arrival: &Arrival<'_>,
    key: Option<i64>,
) -> AppResult<Option<String>> {
    let capability = domain::secret::random_token(&mut rand::rngs::OsRng);
    let fields = serde_json::to_value(&arrival.intake.fields).map_err(anyhow::Error::from)?;
    let new = store::support::NewSupportSession {
        site: arrival.site,
        start_method: arrival.routed.start_method,
        queue: arrival.routed.queue,
        issue_type: arrival.issue_type,
        customer_name: arrival.intake.name.as_str(),
        company: arrival.intake.company.as_deref(),
        company_code: arrival.intake.company_code.as_deref(),
        description: arrival.intake.description.as_deref(),
        fields: &fields,
        language: arrival.lang.code(),
        verified: arrival.verified.is_some(),
        verified_by: arrival.verified.map(|(by, _)| by),
        verified_attributes: arrival.verified.map(|(_, attributes)| attributes),
        capability_digest: &domain::secret::token_digest(&capability),
        routing_reason: &arrival.routed.reason,
    };
    let now = state.now();
    let created = match key {
        Some(key) => {
            state
                .store
                .create_support_session_with_key(arrival.org, key, &new, now)
                .await?
        }
        None => Some(
            state
                .store
                .create_support_session(arrival.org, &new, now)
                .await?,
        ),
    };
    Ok(created.map(|(id, queued)| {
        arrived(state, arrival.org, id, queued, arrival.routed.queue);
        capability
    }))
}

/// Announce a customer's arrival, committed just now.
pub fn arrived(
    state: &AppState,
    org: domain::OrgId,
    id: SessionId,
    queued: Committed,
    queue: Queue,
) {
    let change = SessionChange {
        queue: Some(queue),
        ..SessionChange::default()
    };
    state.announce(org, queued, id, change);
}
