//! Reports through the API: the same figures as Admin → Reports, in UTC days. Scope
//! `reports:read`.

use super::error::ErrorBody;
use super::json::Query;
use super::{ApiCaller, ApiError, ApiResult};
use crate::admin::reports::{compute, parse, ReportQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use domain::api_token::Scope;
use domain::report::ReportRow;
use serde::Serialize;
use utoipa::ToSchema;

/// One line of a report.
#[derive(Serialize, ToSchema)]
pub struct RowOut {
    /// The day (YYYY-MM-DD, UTC) or the group's name.
    pub key: String,
    pub arrived: i64,
    pub accepted: i64,
    pub resolved: i64,
    /// Left (or stopped answering) while waiting, never taken.
    pub abandoned_waiting: i64,
    pub transfers: i64,
    pub wait_median_secs: Option<i64>,
    pub wait_p90_secs: Option<i64>,
    pub handle_median_secs: Option<i64>,
    /// Average survey rating (1–5).
    pub rating_average: Option<f64>,
    pub rated: i64,
}

impl From<ReportRow> for RowOut {
    fn from(r: ReportRow) -> Self {
        RowOut {
            key: r.key,
            arrived: r.arrived,
            accepted: r.accepted,
            resolved: r.resolved,
            abandoned_waiting: r.abandoned_waiting,
            transfers: r.transfers,
            wait_median_secs: r.wait_median_secs,
            wait_p90_secs: r.wait_p90_secs,
            handle_median_secs: r.handle_median_secs,
            rating_average: r.rating_average,
            rated: r.rated,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    pub rows: Vec<RowOut>,
    pub total: RowOut,
}

/// Sessions of a date range per day, site, team, rep or start method.
#[utoipa::path(get, path = "/api/v1/reports/sessions", tag = "reports", params(ReportQuery),
    security(("token" = ["reports:read"])),
    responses((status = 200, body = ReportOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sessions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ReportQuery>,
) -> ApiResult<Json<ReportOut>> {
    caller.require(Scope::ReadReports)?;
    let mut errors = crate::forms::FieldErrors::default();
    let utc = crate::i18n::PageLocale {
        lang: domain::Language::En,
        zone: jiff::tz::TimeZone::UTC,
    };
    let asked = crate::i18n::with_locale(utc.clone(), || parse(&query, state.now(), &mut errors))
        .ok_or_else(|| {
        ApiError::invalid_because(
            "query",
            "invalid_range",
            "`from` and `to`: days as YYYY-MM-DD, the end not before the start, at most 366 days",
        )
    })?;
    let (rows, total) = crate::i18n::in_locale(utc, compute(&state, caller.org, &asked)).await?;
    Ok(Json(ReportOut {
        rows: rows.into_iter().map(RowOut::from).collect(),
        total: total.into(),
    }))
}
