//! Automatic assignment (offers with a timeout) and waiting rules, for team queues.
//! Every change is conditional on the state it was decided from, so several nodes running the
//! same tick cannot double-offer or double-move; a partial unique index allows one open offer
//! per session.

use crate::pool::{on_pool, BeginWrite};
use crate::support::append_event;
use crate::{Store, StoreError, StoreResult};
use domain::assignment::{Candidate, WaitingRule};
use domain::rep::Presence;
use domain::session::{Queue, SessionEvent};
use domain::{OrgId, SessionId, TeamId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamRules {
    pub auto_assign: bool,
    pub offer_timeout_secs: i64,
    pub waiting_rule: Option<WaitingRule>,
}

/// A waiting session of an auto-assigning team queue with no open offer.
#[derive(Debug, Clone)]
pub struct ToOffer {
    pub org: OrgId,
    pub session: SessionId,
    pub team: TeamId,
    pub offer_timeout_secs: i64,
}

/// A waiting session of a team queue that has a waiting rule.
#[derive(Debug, Clone)]
pub struct RuleCheck {
    pub org: OrgId,
    pub session: SessionId,
    pub team: TeamId,
    pub team_name: String,
    pub queued_at: Timestamp,
    pub overdue: bool,
    pub rule: WaitingRule,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct OfferView {
    pub session_id: i64,
    pub customer_name: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn team_rules(&self, org: OrgId, team: TeamId) -> StoreResult<Option<TeamRules>> {
        let sql = "SELECT auto_assign, offer_timeout_secs, waiting_rule FROM teams WHERE org_id = $1 AND id = $2";
        let row: Option<(bool, i64, Option<String>)> = on_pool!(self, p => sqlx::query_as(sql).bind(org.0).bind(team.0).fetch_optional(p).await)?;
        row.map(|(auto_assign, offer_timeout_secs, rule)| {
            Ok(TeamRules {
                auto_assign,
                offer_timeout_secs,
                waiting_rule: rule.map(|r| serde_json::from_str(&r)).transpose()?,
            })
        })
        .transpose()
    }

    pub async fn set_team_rules(
        &self,
        org: OrgId,
        team: TeamId,
        rules: &TeamRules,
    ) -> StoreResult<bool> {
        let rule = rules
            .waiting_rule
            .map(|r| serde_json::to_string(&r))
            .transpose()?;
        let sql = "UPDATE teams SET auto_assign = $1, offer_timeout_secs = $2, waiting_rule = $3 WHERE org_id = $4 AND id = $5";
        let done = on_pool!(self, p => sqlx::query(sql).bind(rules.auto_assign).bind(rules.offer_timeout_secs).bind(&rule)
            .bind(org.0).bind(team.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Sessions to offer now, across organizations, first in line first.
    pub async fn sessions_to_offer(&self) -> StoreResult<Vec<ToOffer>> {
        let sql = "SELECT s.org_id, s.id, t.id, t.offer_timeout_secs FROM support_sessions s \
                   JOIN teams t ON t.id = s.queue_team_id \
                   WHERE s.state = 'waiting' AND s.queue_kind = 'team' AND t.auto_assign = TRUE \
                   AND NOT EXISTS (SELECT 1 FROM session_offers o WHERE o.session_id = s.id AND o.state = 'pending') \
                   ORDER BY s.priority DESC, s.queued_at, s.id";
        let rows: Vec<(i64, i64, i64, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(org, session, team, timeout)| ToOffer {
                org: OrgId(org),
                session: SessionId(session),
                team: TeamId(team),
                offer_timeout_secs: timeout,
            })
            .collect())
    }

    /// The team's active members as assignment sees them: presence, sessions held (open offers
    /// count, so nobody gets two at once), limit, and
    /// since when idle (their last accepted session, else their last presence change).
    pub async fn assignment_candidates(
        &self,
        org: OrgId,
        team: TeamId,
    ) -> StoreResult<Vec<Candidate>> {
        let sql = "SELECT u.id, u.presence, u.session_limit, \
                   (SELECT COUNT(*) FROM support_sessions s WHERE s.owner_user_id = u.id AND s.state = 'active') \
                   + (SELECT COUNT(*) FROM session_offers o WHERE o.user_id = u.id AND o.state = 'pending') AS held, \
                   COALESCE((SELECT MAX(s.accepted_at) FROM support_sessions s WHERE s.owner_user_id = u.id), u.presence_at) AS idle_since \
                   FROM users u JOIN team_members m ON m.user_id = u.id \
                   WHERE u.org_id = $1 AND m.team_id = $2 AND u.active = TRUE ORDER BY u.id";
        let rows: Vec<(i64, String, i64, i64, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(org.0).bind(team.0).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, presence, limit, held, idle)| {
                Ok(Candidate {
                    rep: UserId(id),
                    presence: Presence::parse(&presence)
                        .map_err(|_| StoreError::Corrupt(format!("presence {presence}")))?,
                    sessions: held,
                    limit,
                    idle_since: Timestamp(idle),
                })
            })
            .collect()
    }

    /// Everyone this session was ever offered to (never offer twice).
    pub async fn offered_reps(&self, session: SessionId) -> StoreResult<Vec<UserId>> {
        let sql = "SELECT user_id FROM session_offers WHERE session_id = $1";
        let ids: Vec<i64> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(session.0).fetch_all(p).await)?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Offer a waiting session to `rep` until `expires`. None if it is no longer waiting or
    /// already has an open offer.
    pub async fn create_offer(
        &self,
        org: OrgId,
        session: SessionId,
        rep: UserId,
        reason: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let event = SessionEvent::Offered {
            rep,
            reason: reason.to_owned(),
        };
        let result = on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let made = sqlx::query(
                "INSERT INTO session_offers (org_id, session_id, user_id, state, created_at, expires_at) \
                 SELECT org_id, id, $1, 'pending', $2, $3 FROM support_sessions \
                 WHERE id = $4 AND org_id = $5 AND state = 'waiting'",
            )
            .bind(rep.0).bind(now.millis()).bind(expires.millis()).bind(session.0).bind(org.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !made {
                return Ok(None);
            }
            let committed = append_event!(tx, org, session, &event, now);
            tx.commit().await?;
            Ok::<_, StoreError>(Some(committed))
        });
        match result {
            Err(StoreError::Conflict(_)) => Ok(None),
            other => other,
        }
    }

    /// Close one open offer of `rep` for `session` as `state` (declined or expired), with the event.
    async fn close_offer(
        &self,
        org: OrgId,
        session: SessionId,
        rep: UserId,
        state: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let event = SessionEvent::OfferClosed {
            rep,
            reason: reason.to_owned(),
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let closed = sqlx::query(
                "UPDATE session_offers SET state = $1, decided_at = $2 \
                 WHERE org_id = $3 AND session_id = $4 AND user_id = $5 AND state = 'pending'",
            )
            .bind(state).bind(now.millis()).bind(org.0).bind(session.0).bind(rep.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !closed {
                return Ok(None);
            }
            let committed = append_event!(tx, org, session, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    pub async fn decline_offer(
        &self,
        org: OrgId,
        session: SessionId,
        rep: UserId,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        self.close_offer(org, session, rep, "declined", "declined", now)
            .await
    }

    /// Accept an open offer: the session is claimed (exactly once) and the offer closed.
    pub async fn accept_offer(
        &self,
        org: OrgId,
        session: SessionId,
        rep: UserId,
        limit: i64,
        now: Timestamp,
    ) -> StoreResult<crate::support::Claim> {
        use crate::support::{claim_in, Claim};
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            // Closing the offer is the transaction's first write: only an open offer goes on.
            let open = sqlx::query(
                "UPDATE session_offers SET state = 'accepted', decided_at = $1 \
                 WHERE org_id = $2 AND session_id = $3 AND user_id = $4 AND state = 'pending'",
            )
            .bind(now.millis()).bind(org.0).bind(session.0).bind(rep.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !open {
                return Ok(Claim::Gone);
            }
            let claim = claim_in!(tx, org, session, rep, limit, now);
            if matches!(claim, Claim::Won { .. }) {
                tx.commit().await?;
            }
            Ok(claim)
        })
    }

    /// Close offers that ran out, or whose session is no longer waiting (taken by hand,
    /// cancelled). Returns (org, session, event, rep) of each closing event.
    pub async fn close_stale_offers(
        &self,
        now: Timestamp,
    ) -> StoreResult<Vec<(OrgId, SessionId, crate::support::Committed, UserId)>> {
        let sql = "SELECT o.org_id, o.session_id, o.user_id, o.expires_at <= $1 AS ran_out FROM session_offers o \
                   JOIN support_sessions s ON s.id = o.session_id \
                   WHERE o.state = 'pending' AND (o.expires_at <= $1 OR s.state <> 'waiting')";
        let stale: Vec<(i64, i64, i64, bool)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(now.millis()).fetch_all(p).await)?;
        let mut closed = Vec::new();
        for (org, session, rep, ran_out) in stale {
            let reason = if ran_out {
                "no answer in time"
            } else {
                "the session is no longer waiting"
            };
            if let Some(seq) = self
                .close_offer(
                    OrgId(org),
                    SessionId(session),
                    UserId(rep),
                    "expired",
                    reason,
                    now,
                )
                .await?
            {
                closed.push((OrgId(org), SessionId(session), seq, UserId(rep)));
            }
        }
        Ok(closed)
    }

    /// Open offers made to `rep`, soonest to run out first.
    pub async fn offers_for(&self, org: OrgId, rep: UserId) -> StoreResult<Vec<OfferView>> {
        let sql = "SELECT o.session_id, s.customer_name, o.expires_at FROM session_offers o \
                   JOIN support_sessions s ON s.id = o.session_id \
                   WHERE o.org_id = $1 AND o.user_id = $2 AND o.state = 'pending' AND s.state = 'waiting' \
                   ORDER BY o.expires_at";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(org.0).bind(rep.0).fetch_all(p).await)?)
    }

    /// Waiting sessions of team queues that have a waiting rule, across organizations.
    pub async fn sessions_under_rules(&self) -> StoreResult<Vec<RuleCheck>> {
        let sql = "SELECT s.org_id, s.id, t.id, t.name, s.queued_at, s.overdue_at IS NOT NULL, t.waiting_rule \
                   FROM support_sessions s JOIN teams t ON t.id = s.queue_team_id \
                   WHERE s.state = 'waiting' AND s.queue_kind = 'team' AND t.waiting_rule IS NOT NULL";
        let rows: Vec<(i64, i64, i64, String, i64, bool, String)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter()
            .map(
                |(org, session, team, team_name, queued_at, overdue, rule)| {
                    Ok(RuleCheck {
                        org: OrgId(org),
                        session: SessionId(session),
                        team: TeamId(team),
                        team_name,
                        queued_at: Timestamp(queued_at),
                        overdue,
                        rule: serde_json::from_str(&rule)?,
                    })
                },
            )
            .collect()
    }

    /// Flag a waiting session overdue once, with the event that alerts its queue; with `raise`,
    /// also raise its priority by one.
    pub async fn mark_overdue(
        &self,
        org: OrgId,
        session: SessionId,
        reason: &str,
        raise: bool,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let event = SessionEvent::Overdue {
            reason: reason.to_owned(),
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let marked = sqlx::query(
                "UPDATE support_sessions SET overdue_at = $1, priority = priority + $4 WHERE id = $2 AND org_id = $3 \
                 AND state = 'waiting' AND overdue_at IS NULL",
            )
            .bind(now.millis()).bind(session.0).bind(org.0).bind(i64::from(raise))
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !marked {
                return Ok(None);
            }
            let committed = append_event!(tx, org, session, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    /// Move a waiting session from team queue `from` to `to` (overflow), keeping its arrival time.
    pub async fn move_waiting(
        &self,
        org: OrgId,
        session: SessionId,
        from: TeamId,
        to: Queue,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let (kind, queue_user, queue_team) = crate::support::queue_columns(to);
        let event = SessionEvent::Requeued {
            queue: to,
            reason: reason.to_owned(),
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE support_sessions SET queue_kind = $1, queue_user_id = $2, queue_team_id = $3 \
                 WHERE id = $4 AND org_id = $5 AND state = 'waiting' AND queue_kind = 'team' AND queue_team_id = $6",
            )
            .bind(kind).bind(queue_user).bind(queue_team).bind(session.0).bind(org.0).bind(from.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !moved {
                return Ok(None);
            }
            let committed = append_event!(tx, org, session, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }
}
