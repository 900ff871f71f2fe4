//! A year (or any span) of ended support sessions written straight into an organization, so
//! that reports can be measured on the amount of data a busy desk collects
//! (`supportal-load reports`, docs/benchmarks.md). Never used by the server itself.
//!
//! The history is made of the same rows the server writes: sessions with their queue, rep,
//! outcome and times; a `requeued` event for each transfer; survey ratings. It is the same for
//! the same plan (a counter-based generator, no randomness), so runs compare.

use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::session::{Queue, SessionEvent, StartMethod};
use domain::{OrgId, SiteId, TeamId, Timestamp, UserId};

/// What to generate: `sessions` arrivals spread evenly over [`from`, `to`), among the given
/// sites, teams and reps (each list non-empty).
#[derive(Debug, Clone)]
pub struct HistoryPlan {
    pub sessions: u64,
    pub from: Timestamp,
    pub to: Timestamp,
    pub sites: Vec<SiteId>,
    pub teams: Vec<TeamId>,
    pub reps: Vec<UserId>,
}

/// Rows per INSERT statement: well under both backends' limits on bound values.
const BATCH: u64 = 1_000;

/// One generated session (the columns reports read, and the rest as the portal fills them).
struct Generated {
    id: i64,
    site: SiteId,
    team: TeamId,
    rep: UserId,
    method: StartMethod,
    queued_at: i64,
    accepted_at: Option<i64>,
    ended_at: i64,
    outcome: &'static str,
    transferred: bool,
    rating: Option<i64>,
}

/// A well-mixed 64-bit value for `n` (SplitMix64's finaliser): the dice of session `n`.
fn dice(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl HistoryPlan {
    /// Session `n` of the plan (0-based), to be stored with `id`.
    fn session(&self, n: u64, id: i64) -> Generated {
        let roll = dice(n);
        let part = |shift: u32, modulo: u64| (roll >> shift) % modulo;
        let span = (self.to.millis() - self.from.millis()).max(1) as u64;
        let queued_at = self.from.millis() + (n * span / self.sessions.max(1)) as i64;
        // Waits of 5 s to 10 min; one arrival in twelve leaves before anyone takes it.
        let wait_ms = (5 + part(0, 595) as i64) * 1000;
        let abandoned = part(10, 12) == 0;
        let handle_ms = (60 + part(20, 3540) as i64) * 1000;
        let pick = |shift: u32, len: usize| part(shift, len as u64) as usize;
        let (accepted_at, ended_at, outcome) = if abandoned {
            (None, queued_at + wait_ms, "abandoned")
        } else {
            let resolved = part(32, 10) < 7;
            let accepted = queued_at + wait_ms;
            let outcome = if resolved { "resolved" } else { "unresolved" };
            (Some(accepted), accepted + handle_ms, outcome)
        };
        Generated {
            id,
            site: self.sites[pick(36, self.sites.len())],
            team: self.teams[pick(40, self.teams.len())],
            rep: self.reps[pick(44, self.reps.len())],
            method: StartMethod::ALL[pick(48, StartMethod::ALL.len())],
            queued_at,
            accepted_at,
            ended_at,
            outcome,
            transferred: !abandoned && part(52, 20) == 0,
            rating: (!abandoned && part(56, 10) < 3).then(|| 1 + part(60, 5) as i64),
        }
    }
}

impl Store {
    /// Write `plan`'s sessions into `org`, in batches, each batch one transaction. Returns how
    /// many were written.
    pub async fn generate_history(&self, org: OrgId, plan: &HistoryPlan) -> StoreResult<u64> {
        let mut done = 0;
        while done < plan.sessions {
            let count = BATCH.min(plan.sessions - done);
            self.generate_batch(org, plan, done, count).await?;
            done += count;
        }
        Ok(done)
    }

    async fn generate_batch(
        &self,
        org: OrgId,
        plan: &HistoryPlan,
        first: u64,
        count: u64,
    ) -> StoreResult<()> {
        on_pool!(self, p => {
            // The write lock first (SQLite): the server writes now and then meanwhile.
            let mut tx = p.begin_write().await?;
            // Ids taken after the highest there (no other writer adds sessions meanwhile: the
            // tool runs against a server nobody uses), so events and surveys can name them.
            let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM support_sessions")
                .fetch_one(&mut *tx).await?;
            let sessions: Vec<Generated> = (0..count)
                .map(|i| plan.session(first + i, last.unwrap_or(0) + 1 + i as i64))
                .collect();
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO support_sessions (id, org_id, site_id, state, start_method, queue_kind, \
                 queue_team_id, owner_user_id, customer_name, customer_company, capability_digest, \
                 outcome, created_at, queued_at, accepted_at, ended_at, last_session_seq) ",
            );
            insert.push_values(&sessions, |mut row, s| {
                row.push_bind(s.id).push_bind(org.0).push_bind(s.site.0).push_bind("ended")
                    .push_bind(s.method.as_str()).push_bind("team").push_bind(s.team.0)
                    .push_bind(s.accepted_at.map(|_| s.rep.0))
                    .push_bind(format!("Customer {}", s.id))
                    .push_bind("Generated Ltd")
                    .push_bind(format!("generated-{org}-{}", s.id, org = org.0))
                    .push_bind(s.outcome).push_bind(s.queued_at).push_bind(s.queued_at)
                    .push_bind(s.accepted_at).push_bind(s.ended_at).push_bind(0i64);
            });
            insert.build().execute(&mut *tx).await?;

            let transferred: Vec<&Generated> = sessions.iter().filter(|s| s.transferred).collect();
            if !transferred.is_empty() {
                let seq: i64 = sqlx::query_scalar(
                    "UPDATE organizations SET last_event_seq = last_event_seq + $1 WHERE id = $2 \
                     RETURNING last_event_seq",
                )
                .bind(transferred.len() as i64).bind(org.0).fetch_one(&mut *tx).await?;
                let first_seq = seq - transferred.len() as i64 + 1;
                let mut events = sqlx::QueryBuilder::new(
                    "INSERT INTO session_events (org_id, seq, session_id, kind, payload, created_at, \
                     session_seq) ",
                );
                let mut payloads = Vec::with_capacity(transferred.len());
                for s in &transferred {
                    let event = SessionEvent::Requeued {
                        queue: Queue::Team(s.team),
                        reason: "Transferred by a rep to the team.".to_owned(),
                    };
                    payloads.push((event.kind(), serde_json::to_string(&event)?));
                }
                events.push_values(transferred.iter().zip(&payloads).enumerate(), |mut row, (i, (s, (kind, payload)))| {
                    let halfway = s.accepted_at.unwrap_or(s.queued_at) / 2 + s.ended_at / 2;
                    row.push_bind(org.0).push_bind(first_seq + i as i64).push_bind(s.id)
                        .push_bind(*kind).push_bind(payload.as_str()).push_bind(halfway)
                        .push_bind(1i64);
                });
                events.build().execute(&mut *tx).await?;
            }

            let rated: Vec<&Generated> = sessions.iter().filter(|s| s.rating.is_some()).collect();
            if !rated.is_empty() {
                let mut surveys = sqlx::QueryBuilder::new(
                    "INSERT INTO session_surveys (session_id, org_id, rating, created_at) ",
                );
                surveys.push_values(&rated, |mut row, s| {
                    row.push_bind(s.id).push_bind(org.0).push_bind(s.rating)
                        .push_bind(s.ended_at);
                });
                surveys.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.after_generating().await
    }

    /// PostgreSQL hands out ids from a sequence the explicit ids above did not move: set it past
    /// them (SQLite's AUTOINCREMENT follows the highest id by itself).
    async fn after_generating(&self) -> StoreResult<()> {
        if let crate::pool::Pool::Postgres(p) = &self.pool {
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('support_sessions', 'id'), \
                 (SELECT MAX(id) FROM support_sessions))",
            )
            .execute(p)
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(sessions: u64) -> HistoryPlan {
        HistoryPlan {
            sessions,
            from: Timestamp(0),
            to: Timestamp(1_000_000),
            sites: vec![SiteId(1), SiteId(2)],
            teams: vec![TeamId(3)],
            reps: vec![UserId(4), UserId(5)],
        }
    }

    #[test]
    fn sessions_spread_over_the_span_and_keep_their_order_of_events() {
        let plan = plan(1_000);
        let all: Vec<Generated> = (0..1_000).map(|n| plan.session(n, n as i64 + 1)).collect();
        assert!(all.windows(2).all(|w| w[0].queued_at <= w[1].queued_at));
        assert!(all.iter().all(|s| (0..1_000_000).contains(&s.queued_at)));
        for s in &all {
            match s.accepted_at {
                Some(at) => assert!(s.queued_at < at && at < s.ended_at),
                None => assert_eq!(
                    (s.outcome, s.transferred, s.rating),
                    ("abandoned", false, None)
                ),
            }
        }
        let abandoned = all.iter().filter(|s| s.accepted_at.is_none()).count();
        assert!(
            (40..130).contains(&abandoned),
            "about one in twelve: {abandoned}"
        );
        let sites = all.iter().filter(|s| s.site == SiteId(2)).count();
        assert!((400..600).contains(&sites), "both sites: {sites}");
    }
}
