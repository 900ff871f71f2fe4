//! A live presentation: its attendees (each joined with a name, reached by a secret link of
//! their own, counted against the presentation's limit) and the chat everyone in it shares,
//! numbered per presentation so a reader resumes after the last number it saw.

use crate::extras::Presentation;
use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::{OrgId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Attendee {
    pub id: i64,
    pub presentation_id: i64,
    pub name: String,
    /// "in", "left" or "removed".
    pub state: String,
    pub joined_at: i64,
}

/// What became of a request to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// In, as this attendee.
    Attendee(i64),
    /// Every seat is taken.
    Full,
    /// The presentation has ended (or never was).
    Ended,
}

/// A line of a presentation's chat.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Line {
    pub seq: i64,
    /// "presenter", "attendee" or "system".
    pub author: String,
    pub attendee_id: Option<i64>,
    pub name: String,
    /// The sender's own id for the line (a resend carries the same).
    pub client_id: String,
    pub body: String,
    pub created_at: i64,
}

/// Who writes a line.
pub struct Writer<'a> {
    pub author: &'a str,
    pub attendee: Option<i64>,
    pub name: &'a str,
}

pub(crate) const PRESENTATION_SELECT: &str =
    "SELECT p.id, p.org_id, p.user_id, p.title, p.state, u.display_name AS presenter_name, o.name AS org_name \
     FROM presentations p JOIN users u ON u.id = p.user_id JOIN organizations o ON o.id = p.org_id";
const ATTENDEE_COLUMNS: &str = "id, presentation_id, name, state, joined_at";
const LINE_COLUMNS: &str = "seq, author, attendee_id, name, client_id, body, created_at";

/// Serializes writers of one presentation (joins counting seats, lines taking the next number):
/// a no-op update that takes the presentation's row lock on PostgreSQL (SQLite's write
/// transaction already holds the database). Evaluates to whether it is still live.
macro_rules! lock_live {
    ($tx:expr, $id:expr) => {
        sqlx::query("UPDATE presentations SET state = state WHERE id = $1 AND state = 'live'")
            .bind($id)
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            == 1
    };
}

impl Store {
    /// The presenter's own live presentations, newest first.
    pub async fn live_presentations_of(
        &self,
        org: OrgId,
        rep: UserId,
    ) -> StoreResult<Vec<Presentation>> {
        let sql = format!(
            "{PRESENTATION_SELECT} WHERE p.org_id = $1 AND p.user_id = $2 AND p.state = 'live' ORDER BY p.id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(rep.0).fetch_all(p).await)?)
    }

    /// A presentation of `rep` (live or ended), for its presenter's page.
    pub async fn presentation_of(
        &self,
        org: OrgId,
        rep: UserId,
        id: i64,
    ) -> StoreResult<Option<Presentation>> {
        let sql =
            format!("{PRESENTATION_SELECT} WHERE p.id = $1 AND p.org_id = $2 AND p.user_id = $3");
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).bind(org.0).bind(rep.0).fetch_optional(p).await)?,
        )
    }

    /// An organization's live presentations with a live key, as (presentation, key digits), for
    /// a portal that lists them.
    pub async fn listed_presentations(
        &self,
        org: OrgId,
        now: Timestamp,
    ) -> StoreResult<Vec<(Presentation, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            presentation: Presentation,
            key_value: String,
        }
        let sql = format!(
            "SELECT x.*, k.key_value FROM ({PRESENTATION_SELECT} WHERE p.org_id = $1 AND p.state = 'live') x \
             JOIN session_keys k ON k.presentation_id = x.id \
             WHERE k.revoked_at IS NULL AND k.expires_at > $2 ORDER BY x.id DESC"
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(now.millis()).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.presentation, r.key_value))
            .collect())
    }

    /// End a live presentation of `rep`: its keys stop working, its attendees leave. False when
    /// it was not theirs or not live.
    pub async fn end_presentation(
        &self,
        org: OrgId,
        rep: UserId,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        // A portal may list the running presentations.
        let _changed = self.portal_change();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let ended = sqlx::query(
                "UPDATE presentations SET state = 'ended', ended_at = $1 \
                 WHERE id = $2 AND org_id = $3 AND user_id = $4 AND state = 'live'",
            )
            .bind(now.millis()).bind(id).bind(org.0).bind(rep.0).execute(&mut *tx).await?.rows_affected();
            if ended != 1 {
                return Ok(false);
            }
            sqlx::query("UPDATE session_keys SET revoked_at = $1 WHERE presentation_id = $2 AND revoked_at IS NULL")
                .bind(now.millis()).bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE presentation_attendees SET state = 'left', left_at = $1 WHERE presentation_id = $2 AND state = 'in'")
                .bind(now.millis()).bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Join a live presentation with `name`, reached afterwards by the token whose digest is
    /// given, if fewer than `limit` attendees are in it. Seats are counted after locking the
    /// presentation, so two people cannot both take the last one.
    pub async fn join_presentation(
        &self,
        presentation: i64,
        name: &str,
        token_digest: &str,
        limit: i64,
        now: Timestamp,
    ) -> StoreResult<Joined> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            if !lock_live!(tx, presentation) {
                return Ok(Joined::Ended);
            }
            let seated: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM presentation_attendees WHERE presentation_id = $1 AND state = 'in'",
            )
            .bind(presentation).fetch_one(&mut *tx).await?;
            if seated >= limit {
                return Ok(Joined::Full);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO presentation_attendees (presentation_id, name, token_digest, state, joined_at) \
                 VALUES ($1, $2, $3, 'in', $4) RETURNING id",
            )
            .bind(presentation).bind(name).bind(token_digest).bind(now.millis()).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok(Joined::Attendee(id))
        })
    }

    /// The attendee a secret link's token stands for (in, left or removed).
    pub async fn attendee_by_token(&self, token_digest: &str) -> StoreResult<Option<Attendee>> {
        let sql = format!(
            "SELECT {ATTENDEE_COLUMNS} FROM presentation_attendees WHERE token_digest = $1"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(token_digest).fetch_optional(p).await)?)
    }

    /// The attendees in a presentation now, in the order they joined.
    pub async fn attendees(&self, presentation: i64) -> StoreResult<Vec<Attendee>> {
        let sql = format!(
            "SELECT {ATTENDEE_COLUMNS} FROM presentation_attendees \
             WHERE presentation_id = $1 AND state = 'in' ORDER BY id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(presentation).fetch_all(p).await)?)
    }

    /// An attendee leaves (`left`) or is removed by the presenter (`removed`), freeing their
    /// seat. False when they were not in it.
    pub async fn attendee_out(
        &self,
        presentation: i64,
        attendee: i64,
        removed: bool,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let state = if removed { "removed" } else { "left" };
        let sql = "UPDATE presentation_attendees SET state = $1, left_at = $2 \
                   WHERE id = $3 AND presentation_id = $4 AND state = 'in'";
        let done = on_pool!(self, p => sqlx::query(sql).bind(state).bind(now.millis()).bind(attendee)
            .bind(presentation).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Add a line to a live presentation's chat under the next number; a resend with the same
    /// `client_id` returns the line already stored. None when the presentation is not live.
    pub async fn add_presentation_line(
        &self,
        presentation: i64,
        writer: &Writer<'_>,
        client_id: &str,
        body: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Line>> {
        let existing = format!(
            "SELECT {LINE_COLUMNS} FROM presentation_lines WHERE presentation_id = $1 AND client_id = $2"
        );
        let insert = format!(
            "INSERT INTO presentation_lines (presentation_id, seq, author, attendee_id, name, client_id, body, created_at) \
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM presentation_lines WHERE presentation_id = $1 \
             RETURNING {LINE_COLUMNS}"
        );
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            if !lock_live!(tx, presentation) {
                return Ok(None);
            }
            let stored: Option<Line> = sqlx::query_as(&existing)
                .bind(presentation).bind(client_id).fetch_optional(&mut *tx).await?;
            if stored.is_some() {
                return Ok(stored);
            }
            let line: Line = sqlx::query_as(&insert)
                .bind(presentation).bind(writer.author).bind(writer.attendee).bind(writer.name)
                .bind(client_id).bind(body).bind(now.millis()).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(line))
        })
    }

    /// The lines of a presentation after number `after`, at most `limit`, in order.
    pub async fn presentation_lines_after(
        &self,
        presentation: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<Line>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM presentation_lines WHERE presentation_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(presentation).bind(after).bind(limit).fetch_all(p).await)?,
        )
    }
}
