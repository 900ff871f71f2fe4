//! Past sessions for the console's history page: found by the database's own full-text search
//! (SQLite FTS5, PostgreSQL tsvector; migration 0014) over customer name, company, and message
//! text with translations, newest first, paged by session id. A rep sees the sessions they
//! held, were invited into or wrote in; an admin sees the organization's.

use crate::pool::{on_pool, Backend, Pool};
use crate::{Store, StoreResult};
use domain::history::SearchTerms;
use domain::{OrgId, SessionId, UserId};

/// Who looks: a rep (their own sessions) or an admin (all of the organization's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Rep(UserId),
    Admin,
}

impl Viewer {
    fn rep_id(self) -> Option<i64> {
        match self {
            Viewer::Rep(user) => Some(user.0),
            Viewer::Admin => None,
        }
    }
}

/// One session found.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub customer_name: String,
    pub customer_company: Option<String>,
    pub state: String,
    pub outcome: Option<String>,
    pub queued_at: i64,
    pub owner_name: Option<String>,
    /// The first message that matched the search, as written.
    pub excerpt: Option<String>,
}

/// Which sessions `s` a viewer may see, the viewer's id bound as `$3`: NULL (an admin) sees
/// all; a rep those they held, joined or wrote in.
const VISIBLE: &str = "($3 IS NULL OR s.owner_user_id = $3 \
     OR EXISTS (SELECT 1 FROM session_participants x WHERE x.session_id = s.id AND x.user_id = $3) \
     OR EXISTS (SELECT 1 FROM chat_messages c WHERE c.session_id = s.id AND c.sender_user_id = $3))";

impl Store {
    /// Sessions of `org` that `viewer` may see and that match `terms` (all when empty), newest
    /// first, with ids below `before` (the page's cursor), at most `limit`.
    pub async fn search_history(
        &self,
        org: OrgId,
        viewer: Viewer,
        terms: &SearchTerms,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<HistoryRow>> {
        let query = match &self.pool {
            Pool::Sqlite(_, writer) => {
                // Messages are indexed in batches: the last ones first (`sqlite_search_index`).
                if !terms.is_empty() {
                    writer.index_for_search().await?;
                }
                terms.fts5_query()
            }
            Pool::Postgres(_) => terms.tsquery(),
        };
        // $1 org, $2 the search, $3 the viewer's id (or NULL), $4 before, $5 limit.
        let hits = match (terms.is_empty(), self.backend()) {
            (true, _) => {
                "SELECT id, CAST(NULL AS BIGINT) AS hit FROM support_sessions WHERE org_id = $1 \
                          AND $2 = $2"
                    .to_owned()
            }
            (false, Backend::Sqlite) => "SELECT m.session_id AS id, MIN(m.id) AS hit \
                 FROM chat_search JOIN chat_messages m ON m.id = chat_search.rowid \
                 WHERE chat_search MATCH $2 AND m.org_id = $1 GROUP BY m.session_id \
                 UNION ALL SELECT s.id, NULL FROM session_search \
                 JOIN support_sessions s ON s.id = session_search.rowid \
                 WHERE session_search MATCH $2 AND s.org_id = $1"
                .to_owned(),
            (false, Backend::Postgres) => "SELECT session_id AS id, MIN(id) AS hit \
                 FROM chat_messages WHERE org_id = $1 AND search @@ to_tsquery('simple', $2) \
                 GROUP BY session_id \
                 UNION ALL SELECT id, NULL::BIGINT FROM support_sessions \
                 WHERE org_id = $1 AND search @@ to_tsquery('simple', $2)"
                .to_owned(),
        };
        let sql = format!(
            "WITH hits AS ({hits}), found AS (SELECT id, MIN(hit) AS hit FROM hits GROUP BY id) \
             SELECT s.id, s.customer_name, s.customer_company, s.state, s.outcome, s.queued_at, \
                    u.display_name AS owner_name, m.body AS excerpt \
             FROM found f JOIN support_sessions s ON s.id = f.id \
             LEFT JOIN users u ON u.id = s.owner_user_id \
             LEFT JOIN chat_messages m ON m.id = f.hit \
             WHERE s.org_id = $1 AND s.id < $4 AND {VISIBLE} \
             ORDER BY s.id DESC LIMIT $5"
        );
        let before = before.unwrap_or(i64::MAX);
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(org.0).bind(&query).bind(viewer.rep_id()).bind(before).bind(limit)
            .fetch_all(p).await)?)
    }

    /// Whether `viewer` may see session `id` of `org` in the history.
    pub async fn may_see_in_history(
        &self,
        org: OrgId,
        viewer: Viewer,
        id: SessionId,
    ) -> StoreResult<bool> {
        let sql = format!("SELECT COUNT(*) FROM support_sessions s WHERE s.org_id = $1 AND s.id = $2 AND {VISIBLE}");
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(&sql)
            .bind(org.0).bind(id.0).bind(viewer.rep_id())
            .fetch_one(p).await)?;
        Ok(n == 1)
    }
}
