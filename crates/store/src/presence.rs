//! Presence that survives nodes: every open console refreshes its rep's `console_seen_at`;
//! any node's sweep turns a rep silent past the grace offline and puts their sessions back in
//! the queues they came from, in one transaction per rep. The sweep's first write is
//! conditional, so sweeps running on every node at once requeue each session exactly once.

use crate::console::requeue_in;
use crate::pool::{on_pool, BeginWrite};
use crate::support::{SupportSession, SESSION_COLUMNS};
use crate::{Store, StoreResult};
use domain::rep::Presence;
use domain::session::{self, Queue, SessionState};
use domain::{OrgId, SessionId, Timestamp, UserId};

/// A rep the sweep turned offline, and what became of their sessions.
#[derive(Debug, Clone)]
pub struct WentOffline {
    pub org: OrgId,
    pub rep: UserId,
    /// (session, its `requeued` event, the queue it went back to).
    pub requeued: Vec<(SessionId, crate::support::Committed, Queue)>,
}

impl Store {
    /// A console is open for `rep` (on connect and every heartbeat). On connect a rep who was
    /// offline becomes available again; one who chose busy or away stays so. When the rep's
    /// consoles had all closed, the mark is lifted and their active sessions are returned (their
    /// customers are told the rep is back); otherwise none.
    pub async fn console_seen(
        &self,
        org: OrgId,
        rep: UserId,
        connecting: bool,
        now: Timestamp,
    ) -> StoreResult<Vec<SessionId>> {
        let sql = match connecting {
            true => {
                "UPDATE users SET console_seen_at = $1, \
                 presence = CASE WHEN presence = 'offline' THEN 'available' ELSE presence END, \
                 presence_at = CASE WHEN presence = 'offline' THEN $1 ELSE presence_at END \
                 WHERE org_id = $2 AND id = $3"
            }
            false => "UPDATE users SET console_seen_at = $1 WHERE org_id = $2 AND id = $3",
        };
        // Coming back changes the portal's rep list; a heartbeat does not.
        let _changed = connecting.then(|| self.portal_change());
        let reopen = "UPDATE users SET console_closed_at = NULL \
                      WHERE org_id = $1 AND id = $2 AND console_closed_at IS NOT NULL";
        let reopened = on_pool!(self, p => {
            sqlx::query(sql).bind(now.millis()).bind(org.0).bind(rep.0).execute(p).await?;
            sqlx::query(reopen).bind(org.0).bind(rep.0).execute(p).await.map(|r| r.rows_affected() == 1)
        })?;
        match reopened {
            true => self.sessions_owned(org, rep).await,
            false => Ok(Vec::new()),
        }
    }

    /// The last console `rep` had open (that this node knows of) closed: marked, and their
    /// active sessions returned (their customers are told the rep lost the connection).
    pub async fn console_closed(
        &self,
        org: OrgId,
        rep: UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<SessionId>> {
        let sql = "UPDATE users SET console_closed_at = $1 WHERE org_id = $2 AND id = $3";
        on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(org.0).bind(rep.0).execute(p).await.map(|_| ()))?;
        self.sessions_owned(org, rep).await
    }

    /// The active sessions `rep` owns.
    async fn sessions_owned(&self, org: OrgId, rep: UserId) -> StoreResult<Vec<SessionId>> {
        let sql = "SELECT id FROM support_sessions \
                   WHERE org_id = $1 AND state = 'active' AND owner_user_id = $2 ORDER BY id";
        let ids: Vec<i64> = on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).bind(rep.0).fetch_all(p).await)?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    /// Reps whose consoles all fell silent before `silent_since`: offline now, sessions requeued.
    /// `reason(rep_name)` explains the requeue in each session's log.
    pub async fn sweep_silent_reps(
        &self,
        silent_since: Timestamp,
        reason: impl Fn(&str) -> String,
        now: Timestamp,
    ) -> StoreResult<Vec<WentOffline>> {
        let sql =
            "SELECT org_id, id FROM users WHERE console_seen_at < $1 AND presence <> 'offline'";
        let silent: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(sql).bind(silent_since.millis()).fetch_all(p).await)?;
        let mut gone = Vec::new();
        for (org, rep) in silent {
            if let Some(went) = self
                .take_offline(OrgId(org), UserId(rep), silent_since, &reason, now)
                .await?
            {
                gone.push(went);
            }
        }
        Ok(gone)
    }

    async fn take_offline(
        &self,
        org: OrgId,
        rep: UserId,
        silent_since: Timestamp,
        reason: &impl Fn(&str) -> String,
        now: Timestamp,
    ) -> StoreResult<Option<WentOffline>> {
        let _changed = self.portal_change();
        let sessions_sql = format!(
            "SELECT {SESSION_COLUMNS} FROM support_sessions WHERE org_id = $1 AND state = 'active' \
             AND owner_user_id = $2 ORDER BY id"
        );
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            // The claim: of several nodes sweeping at once, one turns the rep offline.
            let name: Option<String> = sqlx::query_scalar(
                "UPDATE users SET presence = $1, presence_at = $2 WHERE org_id = $3 AND id = $4 \
                 AND presence <> 'offline' AND console_seen_at < $5 RETURNING display_name",
            )
            .bind(Presence::Offline.as_str()).bind(now.millis()).bind(org.0).bind(rep.0)
            .bind(silent_since.millis())
            .fetch_optional(&mut *tx).await?;
            let Some(name) = name else {
                return Ok(None);
            };
            let reason = reason(&name);
            let sessions: Vec<SupportSession> =
                sqlx::query_as(&sessions_sql).bind(org.0).bind(rep.0).fetch_all(&mut *tx).await?;
            let mut requeued = Vec::new();
            for session in sessions {
                let SessionState::Active { owner } = session.session_state()? else {
                    continue;
                };
                let queue = domain::assignment::fallback_queue(session.queue());
                let Ok((_, event)) = session::requeue(SessionState::Active { owner }, queue, &reason) else {
                    continue;
                };
                let Some(committed) = requeue_in!(tx, org, session.id, owner, queue, &event, now) else {
                    continue;
                };
                requeued.push((session.id, committed, queue));
            }
            tx.commit().await?;
            Ok(Some(WentOffline { org, rep, requeued }))
        })
    }

    /// The customer's page is open (on connect, and now and then while it stays open): seen
    /// now, and no longer gone. True when it had been marked gone (the rep's pane shows the
    /// customer back).
    pub async fn customer_seen(
        &self,
        org: OrgId,
        id: SessionId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        // The page that was not gone (nearly always) is one statement; only when that finds
        // the customer gone does the second clear it. (The other way round, every page's
        // connect and heartbeat paid for a statement that changed nothing.)
        let seen = "UPDATE support_sessions SET customer_seen_at = $1 \
                    WHERE id = $2 AND org_id = $3 AND customer_gone_at IS NULL";
        let back = "UPDATE support_sessions SET customer_seen_at = $1, customer_gone_at = NULL \
                    WHERE id = $2 AND org_id = $3 AND customer_gone_at IS NOT NULL";
        Ok(on_pool!(self, p => {
            let here = sqlx::query(seen).bind(now.millis()).bind(id.0).bind(org.0).execute(p).await?.rows_affected() == 1;
            let came_back = !here
                && sqlx::query(back).bind(now.millis()).bind(id.0).bind(org.0).execute(p).await?.rows_affected() == 1;
            Ok::<bool, sqlx::Error>(came_back)
        })?)
    }

    /// The customer's page closed (the last one this node held for the session).
    pub async fn customer_gone(
        &self,
        org: OrgId,
        id: SessionId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let sql = "UPDATE support_sessions SET customer_gone_at = $1 \
                   WHERE id = $2 AND org_id = $3 AND customer_gone_at IS NULL AND state <> 'ended'";
        on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(id.0).bind(org.0).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Waiting sessions whose customer has been gone since before `gone_before`: their page
    /// closed then, or it stopped saying it is open before `silent_before` (its node died).
    /// Sessions whose page never opened are not counted.
    pub async fn customers_gone(
        &self,
        gone_before: Timestamp,
        silent_before: Timestamp,
    ) -> StoreResult<Vec<SupportSession>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM support_sessions WHERE state = 'waiting' \
             AND (customer_gone_at < $1 OR (customer_gone_at IS NULL AND customer_seen_at < $2)) \
             ORDER BY id LIMIT 500"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(gone_before.millis()).bind(silent_before.millis()).fetch_all(p).await)?,
        )
    }
}
