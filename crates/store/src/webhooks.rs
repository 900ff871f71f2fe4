//! Webhook endpoints, the cursor that turns the event log into deliveries once, and the
//! deliveries: claimed by one node at a time, in order per endpoint and session.

use crate::audit::{audit_in, AuditRow};
use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::{OrgId, Timestamp};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Endpoint {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub url: String,
    /// Event types separated by spaces.
    pub events: String,
    pub secret: String,
    pub active: bool,
    pub created_at: i64,
}

impl Endpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.events.split(' ').any(|e| e == event_type)
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub message_id: String,
    pub event_type: String,
    pub session_id: Option<i64>,
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// A delivery to make of one event.
pub struct NewDelivery {
    /// `msg_…`, unique: the `webhook-id` every attempt carries.
    pub message_id: String,
    pub endpoint_id: i64,
    pub event_type: String,
    pub session_id: Option<i64>,
    pub payload: String,
}

/// What became of an attempt.
pub enum Attempt<'a> {
    Delivered {
        status: i64,
        latency_ms: i64,
    },
    Failed {
        status: Option<i64>,
        error: &'a str,
        latency_ms: i64,
        /// When to try again; None: given up.
        retry_at: Option<Timestamp>,
    },
}

const ENDPOINT: &str =
    "SELECT id, org_id, url, events, secret, active, created_at FROM webhook_endpoints";
const DELIVERY: &str = "SELECT id, endpoint_id, message_id, event_type, session_id, payload, \
     state, attempts, next_attempt_at, last_status, last_error, last_latency_ms, created_at, \
     delivered_at FROM webhook_deliveries";

/// A delivery due at `$1`: pending, its time come, and held by no node (or its hold ended).
/// Columns unqualified: in a subquery they are the nearest table's.
const DUE: &str = "state = 'pending' AND next_attempt_at <= $1 \
     AND (claimed_until IS NULL OR claimed_until < $1)";

impl Store {
    /// Add an endpoint. Events from now on reach it (the organization's cursor starts at its
    /// newest event when it has none yet).
    pub async fn create_webhook_endpoint(
        &self,
        org: OrgId,
        url: &str,
        events: &str,
        secret: &str,
        audit: &AuditRow<'_>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_endpoints (org_id, url, events, secret, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(org.0).bind(url).bind(events).bind(secret).bind(now.millis())
            .fetch_one(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO webhook_cursors (org_id, last_seq) SELECT id, last_event_seq \
                 FROM organizations WHERE id = $1 ON CONFLICT (org_id) DO NOTHING",
            )
            .bind(org.0).execute(&mut *tx).await?;
            audit_in!(tx, audit, now);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn webhook_endpoints(&self, org: OrgId) -> StoreResult<Vec<Endpoint>> {
        let sql = format!("{ENDPOINT} WHERE org_id = $1 ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).fetch_all(p).await)?)
    }

    pub async fn webhook_endpoint(&self, org: OrgId, id: i64) -> StoreResult<Option<Endpoint>> {
        let sql = format!("{ENDPOINT} WHERE org_id = $1 AND id = $2");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(id).fetch_optional(p).await)?)
    }

    /// Remove an endpoint and its deliveries.
    pub async fn delete_webhook_endpoint(
        &self,
        org: OrgId,
        id: i64,
        audit: &AuditRow<'_>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
                .bind(org.0).bind(id).execute(&mut *tx).await?.rows_affected();
            if done == 1 {
                audit_in!(tx, audit, now);
            }
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// Organizations with endpoints, with how far their event log was turned into deliveries.
    pub async fn webhook_cursors(&self) -> StoreResult<Vec<(OrgId, i64)>> {
        let sql = "SELECT c.org_id, c.last_seq FROM webhook_cursors c WHERE EXISTS \
                   (SELECT 1 FROM webhook_endpoints e WHERE e.org_id = c.org_id)";
        let rows: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(o, s)| (OrgId(o), s)).collect())
    }

    /// Turn the events `from` (exclusive) `to` (inclusive) of `org` into `deliveries`, moving the
    /// cursor in the same transaction: false (nothing written) when another node moved it first.
    pub async fn feed_webhooks(
        &self,
        org: OrgId,
        from: i64,
        to: i64,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> StoreResult<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE webhook_cursors SET last_seq = $1 WHERE org_id = $2 AND last_seq = $3",
            )
            .bind(to).bind(org.0).bind(from).execute(&mut *tx).await?.rows_affected();
            if moved != 1 {
                return Ok(false);
            }
            for d in deliveries {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, event_type, \
                     session_id, payload, state, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
                )
                .bind(org.0).bind(d.endpoint_id).bind(&d.message_id).bind(&d.event_type)
                .bind(d.session_id).bind(&d.payload).bind(now.millis())
                .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Claim up to `limit` deliveries due now for `hold_ms`: each the oldest pending one of its
    /// endpoint and session, so they leave in order. A node that dies holding one lets it go
    /// when the hold ends.
    pub async fn claim_webhook_deliveries(
        &self,
        now: Timestamp,
        hold_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<(Delivery, Endpoint)>> {
        // Every node asks four times a second, and mostly nothing is due. A read answers that
        // without the write the claim is: on SQLite an UPDATE takes the database's one write
        // lock even when it changes nothing, and the chat writer's commit met it there.
        let due = format!("SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE {DUE})");
        let any_due: bool =
            on_pool!(self, p => sqlx::query_scalar(&due).bind(now.millis()).fetch_one(p).await)?;
        if !any_due {
            return Ok(Vec::new());
        }
        // The claim's conditions stand in the outer WHERE too: PostgreSQL checks them again on
        // a row another node updated meanwhile, so two nodes never both claim it.
        let claim = format!(
            "UPDATE webhook_deliveries SET claimed_until = $2 WHERE id IN ( \
             SELECT d.id FROM webhook_deliveries d WHERE {DUE} \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.endpoint_id = d.endpoint_id \
               AND e.state = 'pending' AND e.id < d.id \
               AND COALESCE(e.session_id, -1) = COALESCE(d.session_id, -1)) \
             ORDER BY d.id LIMIT $3) \
           AND {DUE} \
           RETURNING id, endpoint_id, message_id, event_type, session_id, payload, state, attempts, \
           next_attempt_at, last_status, last_error, last_latency_ms, created_at, delivered_at"
        );
        let deliveries: Vec<Delivery> = on_pool!(self, p => sqlx::query_as(&claim)
            .bind(now.millis()).bind(now.millis() + hold_ms).bind(limit).fetch_all(p).await)?;
        // Their endpoints, each read once however many of its deliveries were claimed.
        let mut endpoints: std::collections::HashMap<i64, Option<Endpoint>> = Default::default();
        let sql = format!("{ENDPOINT} WHERE id = $1");
        let mut claimed = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let endpoint = match endpoints.entry(delivery.endpoint_id) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(unknown) => {
                    let endpoint: Option<Endpoint> = on_pool!(self, p => sqlx::query_as(&sql)
                        .bind(delivery.endpoint_id).fetch_optional(p).await)?;
                    unknown.insert(endpoint)
                }
            };
            if let Some(endpoint) = endpoint {
                claimed.push((delivery, endpoint.clone()));
            }
        }
        Ok(claimed)
    }

    /// Record an attempt and release the delivery.
    pub async fn finish_webhook_delivery(
        &self,
        id: i64,
        attempt: &Attempt<'_>,
        now: Timestamp,
    ) -> StoreResult<()> {
        match attempt {
            Attempt::Delivered { status, latency_ms } => {
                let sql =
                    "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
                           claimed_until = NULL, last_status = $1, last_error = NULL, \
                           last_latency_ms = $2, delivered_at = $3 WHERE id = $4";
                on_pool!(self, p => sqlx::query(sql).bind(status).bind(latency_ms)
                    .bind(now.millis()).bind(id).execute(p).await.map(|_| ()))?;
            }
            Attempt::Failed {
                status,
                error,
                latency_ms,
                retry_at,
            } => {
                let sql = "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
                           claimed_until = NULL, last_status = $2, last_error = $3, \
                           last_latency_ms = $4, next_attempt_at = $5 WHERE id = $6";
                let (state, next) = match retry_at {
                    Some(at) => ("pending", at.millis()),
                    None => ("failed", now.millis()),
                };
                on_pool!(self, p => sqlx::query(sql).bind(state).bind(status).bind(*error)
                    .bind(latency_ms).bind(next).bind(id).execute(p).await.map(|_| ()))?;
            }
        }
        Ok(())
    }

    /// An endpoint's newest deliveries first.
    pub async fn webhook_deliveries(
        &self,
        org: OrgId,
        endpoint: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let sql =
            format!("{DELIVERY} WHERE org_id = $1 AND endpoint_id = $2 ORDER BY id DESC LIMIT $3");
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(endpoint).bind(limit)
            .fetch_all(p).await)?,
        )
    }

    /// Send a delivery again now (its id stays: receivers drop what they had).
    pub async fn resend_webhook_delivery(
        &self,
        org: OrgId,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, \
                   claimed_until = NULL, created_at = $1 WHERE org_id = $2 AND id = $3 \
                   AND state <> 'pending'";
        let done = on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(org.0).bind(id)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
