//! What a rep's console reads and does: the queues they may take from, their sessions,
//! transfers, invitations.

use crate::pool::{on_pool, BeginWrite};
use crate::support::SupportSession;
use crate::{Store, StoreResult};
use domain::session::{self, Queue, SessionEvent};
use domain::{OrgId, SessionId, TeamId, Timestamp, UserId};

/// A waiting session as a rep's queue list shows it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct QueueItem {
    pub id: i64,
    pub customer_name: String,
    pub customer_company: Option<String>,
    pub start_method: String,
    pub queue_kind: Option<String>,
    pub queue_user_id: Option<i64>,
    pub queue_team_id: Option<i64>,
    pub team_name: Option<String>,
    pub issue_name: Option<String>,
    pub language: String,
    pub verified: bool,
    pub queued_at: i64,
    /// Why it waits again (a transfer and its note), when it does.
    pub requeue_reason: Option<String>,
}

/// An invitation into a session, as the invited rep's console shows it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Invitation {
    pub session_id: i64,
    pub customer_name: String,
    pub description: Option<String>,
    /// The name of the rep who asked.
    pub invited_by: String,
    pub created_at: i64,
}

/// Rows of `s` in any of `queues`, binding from `$first` (one parameter per personal or team
/// queue). Which queues a rep may see is decided by `Queue::all_open_to`, never here.
fn in_queues(queues: &[Queue], first: usize) -> String {
    let mut next = first;
    let clauses: Vec<String> = queues
        .iter()
        .map(|queue| {
            let clause = match queue {
                Queue::Personal(_) => {
                    format!("(s.queue_kind = 'personal' AND s.queue_user_id = ${next})")
                }
                Queue::Team(_) => format!("(s.queue_kind = 'team' AND s.queue_team_id = ${next})"),
                Queue::General => return "s.queue_kind = 'general'".to_owned(),
            };
            next += 1;
            clause
        })
        .collect();
    match clauses.is_empty() {
        true => "FALSE".to_owned(),
        false => format!("({})", clauses.join(" OR ")),
    }
}

/// The ids `in_queues` binds, in the same order.
fn queue_ids(queues: &[Queue]) -> Vec<i64> {
    queues
        .iter()
        .filter_map(|queue| match queue {
            Queue::Personal(rep) => Some(rep.0),
            Queue::Team(team) => Some(team.0),
            Queue::General => None,
        })
        .collect()
}

/// Put `$id`, active and owned by `$owner`, back into `$queue` inside transaction `$tx` (its
/// participants leave; it keeps its arrival time, so its place in line) and log `$event`;
/// evaluates to `Some(Committed)`, or None when it is not `$owner`'s active session any more.
macro_rules! requeue_in_impl {
    ($tx:expr, $org:expr, $id:expr, $owner:expr, $queue:expr, $event:expr, $now:expr) => {{
        let (kind, queue_user, queue_team) = $crate::support::queue_columns($queue);
        let reason = match $event {
            domain::session::SessionEvent::Requeued { reason, .. } => Some(reason.as_str()),
            _ => None,
        };
        let moved = sqlx::query(
            "UPDATE support_sessions SET state = 'waiting', owner_user_id = NULL, accepted_at = NULL, \
             queue_kind = $1, queue_user_id = $2, queue_team_id = $3, requeue_reason = $7 \
             WHERE id = $4 AND org_id = $5 AND state = 'active' AND owner_user_id = $6",
        )
        .bind(kind).bind(queue_user).bind(queue_team).bind($id.0).bind($org.0).bind($owner.0)
        .bind(reason)
        .execute(&mut *$tx).await?.rows_affected() == 1;
        if moved {
            sqlx::query("DELETE FROM session_participants WHERE session_id = $1")
                .bind($id.0).execute(&mut *$tx).await?;
            sqlx::query("DELETE FROM session_invitations WHERE session_id = $1")
                .bind($id.0).execute(&mut *$tx).await?;
            Some($crate::support::append_event!($tx, $org, $id, $event, $now))
        } else {
            None
        }
    }};
}
pub(crate) use requeue_in_impl as requeue_in;

impl Store {
    /// The first `limit` in line of `queues` (those a rep may take from), and how many wait
    /// there in all (a console stays fast with thousands waiting).
    pub async fn visible_queue(
        &self,
        org: OrgId,
        queues: &[Queue],
        limit: i64,
    ) -> StoreResult<(Vec<QueueItem>, i64)> {
        let count_sql = format!(
            "SELECT COUNT(*) FROM support_sessions s WHERE s.org_id = $1 AND s.state = 'waiting' AND {}",
            in_queues(queues, 2)
        );
        let ids = queue_ids(queues);
        let total: i64 = on_pool!(self, p => {
            let mut query = sqlx::query_scalar(&count_sql).bind(org.0);
            for id in &ids {
                query = query.bind(id);
            }
            query.fetch_one(p).await
        })?;
        let sql = format!(
            "SELECT s.id, s.customer_name, s.customer_company, s.start_method, s.queue_kind, s.queue_user_id, \
             s.queue_team_id, t.name AS team_name, i.name AS issue_name, s.language, s.verified, s.queued_at, s.requeue_reason \
             FROM support_sessions s LEFT JOIN teams t ON t.id = s.queue_team_id \
             LEFT JOIN issue_types i ON i.id = s.issue_type_id \
             WHERE s.org_id = $1 AND s.state = 'waiting' AND {} \
             ORDER BY s.priority DESC, s.queued_at, s.id LIMIT {}",
            in_queues(queues, 2),
            limit.max(0)
        );
        let shown = on_pool!(self, p => {
            let mut query = sqlx::query_as(&sql).bind(org.0);
            for id in &ids {
                query = query.bind(id);
            }
            query.fetch_all(p).await
        })?;
        Ok((shown, total))
    }

    /// The oldest waiting sessions of these team queues, first in line first ("Get Next").
    pub async fn next_in_teams(
        &self,
        org: OrgId,
        teams: &[TeamId],
        limit: i64,
    ) -> StoreResult<Vec<(SessionId, TeamId)>> {
        if teams.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..teams.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT id, queue_team_id FROM support_sessions WHERE org_id = $1 AND state = 'waiting' AND queue_kind = 'team' \
             AND queue_team_id IN ({}) ORDER BY priority DESC, queued_at, id LIMIT $2",
            placeholders.join(", ")
        );
        let ids: Vec<(i64, i64)> = on_pool!(self, p => {
            let mut query = sqlx::query_as(&sql).bind(org.0).bind(limit);
            for team in teams {
                query = query.bind(team.0);
            }
            query.fetch_all(p).await
        })?;
        Ok(ids
            .into_iter()
            .map(|(id, team)| (SessionId(id), TeamId(team)))
            .collect())
    }

    /// Sessions the rep owns, or was invited into, that are still active.
    pub async fn active_sessions_of(
        &self,
        org: OrgId,
        rep: UserId,
    ) -> StoreResult<Vec<SupportSession>> {
        let sql = format!(
            "SELECT {} FROM support_sessions WHERE org_id = $1 AND state = 'active' AND (owner_user_id = $2 \
             OR id IN (SELECT session_id FROM session_participants WHERE user_id = $2)) ORDER BY accepted_at, id",
            crate::support::SESSION_COLUMNS
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(rep.0).fetch_all(p).await)?)
    }

    /// How many sessions the rep owns now (against their limit).
    pub async fn owned_session_count(&self, org: OrgId, rep: UserId) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM support_sessions WHERE org_id = $1 AND state = 'active' AND owner_user_id = $2";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).bind(rep.0).fetch_one(p).await)?)
    }

    /// Put an active session owned by `by` back into `queue` (a transfer). Keeps its arrival
    /// time, so its place in line. None when it is not `by`'s active session any more.
    pub async fn requeue_session(
        &self,
        org: OrgId,
        id: SessionId,
        by: UserId,
        queue: Queue,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let Ok((_, event)) = session::requeue(
            domain::session::SessionState::Active { owner: by },
            queue,
            reason,
        ) else {
            return Ok(None);
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let Some(committed) = requeue_in!(tx, org, id, by, queue, &event, now) else {
                return Ok(None);
            };
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    /// Ask another rep of the organization to join an active session owned by `by`. Only a rep
    /// who is signed in and available or busy is asked (an away or offline rep is not), and
    /// nobody twice. None when nobody was asked.
    pub async fn invite_participant(
        &self,
        org: OrgId,
        id: SessionId,
        by: UserId,
        rep: UserId,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let event = SessionEvent::InvitationSent { rep, by };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let added = sqlx::query(
                "INSERT INTO session_invitations (session_id, user_id, invited_by, created_at) \
                 SELECT s.id, u.id, $1, $2 FROM support_sessions s JOIN users u ON u.org_id = s.org_id \
                 WHERE s.id = $3 AND s.org_id = $4 AND s.state = 'active' AND s.owner_user_id = $1 \
                 AND u.id = $5 AND u.id <> $1 AND u.active = TRUE \
                 AND u.presence IN ('available', 'busy') AND u.console_closed_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM session_participants x WHERE x.session_id = s.id AND x.user_id = u.id) \
                 AND NOT EXISTS (SELECT 1 FROM session_invitations x WHERE x.session_id = s.id AND x.user_id = u.id)",
            )
            .bind(by.0).bind(now.millis()).bind(id.0).bind(org.0).bind(rep.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !added {
                return Ok(None);
            }
            let committed = crate::support::append_event!(tx, org, id, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    /// The invitations waiting for `rep`'s answer, in active sessions, oldest first.
    pub async fn invitations_for(&self, org: OrgId, rep: UserId) -> StoreResult<Vec<Invitation>> {
        let sql = "SELECT s.id AS session_id, s.customer_name, s.description, \
                   COALESCE(b.display_name, '') AS invited_by, i.created_at \
                   FROM session_invitations i JOIN support_sessions s ON s.id = i.session_id \
                   LEFT JOIN users b ON b.id = i.invited_by \
                   WHERE i.user_id = $1 AND s.org_id = $2 AND s.state = 'active' \
                   ORDER BY i.created_at, s.id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(rep.0).bind(org.0).fetch_all(p).await)?)
    }

    /// `rep` answers an invitation: accepted, they join the session (if it is still active);
    /// declined, it goes. Either way the invitation is answered once. None when there was no
    /// such invitation (or the session is over).
    pub async fn answer_invitation(
        &self,
        org: OrgId,
        id: SessionId,
        rep: UserId,
        accept: bool,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let asked: Option<(Option<i64>,)> = sqlx::query_as(
                "DELETE FROM session_invitations WHERE session_id = $1 AND user_id = $2 \
                 AND session_id IN (SELECT id FROM support_sessions WHERE org_id = $3 AND state = 'active') \
                 RETURNING invited_by",
            )
            .bind(id.0).bind(rep.0).bind(org.0)
            .fetch_optional(&mut *tx).await?;
            let Some((by,)) = asked else {
                return Ok(None);
            };
            let by = by.map(UserId);
            let event = match (accept, by) {
                (true, Some(by)) => {
                    sqlx::query(
                        "INSERT INTO session_participants (session_id, user_id, invited_by, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(id.0).bind(rep.0).bind(by.0).bind(now.millis())
                    .execute(&mut *tx).await?;
                    SessionEvent::Invited { rep, by }
                }
                // The one who asked is gone (their account deleted): nothing to accept.
                _ => SessionEvent::InvitationDeclined { rep },
            };
            let committed = crate::support::append_event!(tx, org, id, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    /// An invited rep leaves an active session (the owner cannot: they transfer or end it).
    pub async fn leave_session(
        &self,
        org: OrgId,
        id: SessionId,
        rep: UserId,
        now: Timestamp,
    ) -> StoreResult<Option<crate::support::Committed>> {
        let event = SessionEvent::Left { rep };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let left = sqlx::query(
                "DELETE FROM session_participants WHERE session_id = $1 AND user_id = $2 \
                 AND session_id IN (SELECT id FROM support_sessions WHERE org_id = $3 AND state = 'active')",
            )
            .bind(id.0).bind(rep.0).bind(org.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !left {
                return Ok(None);
            }
            let committed = crate::support::append_event!(tx, org, id, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    /// The reps asked to join a session who have not answered.
    pub async fn invited_reps(&self, org: OrgId, id: SessionId) -> StoreResult<Vec<UserId>> {
        let sql = "SELECT i.user_id FROM session_invitations i JOIN support_sessions s ON s.id = i.session_id \
                   WHERE s.org_id = $1 AND i.session_id = $2 ORDER BY i.user_id";
        let ids: Vec<i64> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).bind(id.0).fetch_all(p).await)?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    pub async fn participants(
        &self,
        org: OrgId,
        id: SessionId,
    ) -> StoreResult<Vec<crate::users::User>> {
        let sql = format!(
            "SELECT {} FROM users u JOIN session_participants x ON x.user_id = u.id \
             WHERE u.org_id = $1 AND x.session_id = $2 ORDER BY u.display_name",
            crate::users::USER_COLUMNS
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(id.0).fetch_all(p).await)?)
    }
}
