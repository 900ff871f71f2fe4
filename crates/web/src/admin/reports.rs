//! Reports: sessions of a date range per day, site, team, rep or start method (the funnel:
//! arrived → accepted → resolved), with waits, handle times, abandonment, transfers and survey
//! scores; a chart drawn on the server (SVG, no script) and the same table as CSV.

use super::admin_page;
use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use domain::report::{grouped, ReportRow};
use domain::{FieldError, SiteId, TeamId, Timestamp};
use jiff::civil::Date;
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::reports::{FactsRow, ReportFilter};

/// What names a session's row in the report (its day, site, team, …).
type KeyOf = Box<dyn Fn(&FactsRow) -> String>;

/// The longest range one report covers.
const MOST_DAYS: i64 = 366;

pub const GROUPS: [(&str, &str); 5] = [
    ("day", "Day"),
    ("site", "Site"),
    ("team", "Team"),
    ("rep", "Rep"),
    ("method", "Start method"),
];

const METHODS: [(&str, &str); 5] = [
    ("contact_button", "Contact button"),
    ("issue_form", "Issue form"),
    ("rep_list", "Representative list"),
    ("session_key", "Session key"),
    ("smartbox", "SmartBox"),
];

#[derive(Deserialize, Serialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The first day (YYYY-MM-DD; default: six days before the last).
    #[serde(default)]
    from: String,
    /// The last day, included (YYYY-MM-DD; default: today).
    #[serde(default)]
    to: String,
    /// Rows per `day` (default), `site`, `team`, `rep` or `method`.
    #[serde(default)]
    group: String,
    /// Only this site's sessions (its id).
    #[serde(default)]
    site: String,
    /// Only sessions that waited in this team's queue (its id).
    #[serde(default)]
    team: String,
}

/// A report asked for: its range in the admin's zone, grouping and filter.
pub struct Asked {
    from: Date,
    to: Date,
    zone: jiff::tz::TimeZone,
    group: &'static str,
    filter: ReportFilter,
}

pub fn parse(query: &ReportQuery, now: Timestamp, errors: &mut FieldErrors) -> Option<Asked> {
    let zone = crate::i18n::page_locale().zone;
    let today = jiff::Timestamp::from_millisecond(now.millis())
        .map(|t| t.to_zoned(zone.clone()).date())
        .unwrap_or_default();
    let date = |raw: &str, default: Date, field: &str, errors: &mut FieldErrors| match raw.trim() {
        "" => Some(default),
        raw => errors.check(
            field,
            raw.parse::<Date>().map_err(|_| FieldError::InvalidDate),
        ),
    };
    let to = date(&query.to, today, "to", errors);
    let from = date(
        &query.from,
        today
            .checked_sub(jiff::Span::new().days(6))
            .unwrap_or(today),
        "from",
        errors,
    );
    let group = GROUPS
        .iter()
        .find(|(g, _)| *g == query.group)
        .map_or("day", |(g, _)| g);
    let (from, to) = (from?, to?);
    let days = (to - from).get_days() as i64;
    if days < 0 {
        errors.add_message("to", "The end must not come before the start.");
        return None;
    }
    if days >= MOST_DAYS {
        errors.add_message("to", format!("A report covers at most {MOST_DAYS} days."));
        return None;
    }
    Some(Asked {
        from,
        to,
        zone,
        group,
        filter: ReportFilter {
            site: query.site.parse().ok().map(SiteId),
            team: query.team.parse().ok().map(TeamId),
            method: None,
        },
    })
}

/// The start of `date` in `zone`, as a timestamp.
fn start_of(date: Date, zone: &jiff::tz::TimeZone) -> Timestamp {
    date.to_zoned(zone.clone())
        .map(|z| Timestamp(z.timestamp().as_millisecond()))
        .unwrap_or(Timestamp(0))
}

/// The report's rows and total.
pub async fn compute(
    state: &AppState,
    org: domain::OrgId,
    asked: &Asked,
) -> AppResult<(Vec<ReportRow>, ReportRow)> {
    let until = asked.to.tomorrow().unwrap_or(asked.to);
    let rows = state
        .store
        .report_facts(
            org,
            start_of(asked.from, &asked.zone),
            start_of(until, &asked.zone),
            &asked.filter,
        )
        .await?;
    let facts: Vec<_> = rows.iter().map(|r| r.facts()).collect();
    let (keys, key_of): (Vec<String>, KeyOf) = match asked.group {
        "site" => {
            let sites = state.store.sites(org).await?;
            let named = sites.into_iter().map(|s| (s.id.0, s.name)).collect();
            by_name(named, true, |r| r.site_id, "—")
        }
        "team" => {
            let teams = state.store.teams(org).await?;
            let named = teams.into_iter().map(|t| (t.id.0, t.name)).collect();
            by_name(named, true, |r| r.queue_team_id, "No team queue")
        }
        "rep" => {
            let users = state.store.users(org).await?;
            let named = users
                .into_iter()
                .map(|u| (u.id.0, u.display_name))
                .collect();
            // Only reps who took sessions get a row, in the order they come.
            by_name(named, false, |r| r.owner_user_id, "Not taken")
        }
        "method" => (
            METHODS
                .iter()
                .map(|(_, label)| (*label).to_owned())
                .collect(),
            Box::new(|r| {
                METHODS
                    .iter()
                    .find(|(m, _)| *m == r.start_method)
                    .map_or_else(|| r.start_method.clone(), |(_, label)| (*label).to_owned())
            }),
        ),
        _ => {
            let mut keys = Vec::new();
            let mut day = asked.from;
            while day <= asked.to {
                keys.push(day.to_string());
                day = day.tomorrow().unwrap_or(asked.to.tomorrow().unwrap_or(day));
                if keys.len() as i64 > MOST_DAYS {
                    break;
                }
            }
            let zone = asked.zone.clone();
            (
                keys,
                Box::new(move |r| {
                    jiff::Timestamp::from_millisecond(r.queued_at)
                        .map(|t| t.to_zoned(zone.clone()).date().to_string())
                        .unwrap_or_default()
                }),
            )
        }
    };
    Ok(grouped(
        rows.iter().zip(&facts).map(|(r, f)| (key_of(r), f)),
        &keys,
    ))
}

/// Rows named after what `id_of` points at among `named` (its id and name), `none` for a
/// session without one; `listed`: a row for each of `named` in its order, even an empty one.
fn by_name(
    named: Vec<(i64, String)>,
    listed: bool,
    id_of: fn(&FactsRow) -> Option<i64>,
    none: &'static str,
) -> (Vec<String>, KeyOf) {
    let keys = match listed {
        true => named.iter().map(|(_, name)| name.clone()).collect(),
        false => Vec::new(),
    };
    let by_id: HashMap<i64, String> = named.into_iter().collect();
    let key_of = move |r: &FactsRow| {
        id_of(r)
            .and_then(|id| by_id.get(&id).cloned())
            .unwrap_or_else(|| none.into())
    };
    (keys, Box::new(key_of))
}

/// Bars of arrived sessions (and, inside them, accepted ones) per row, drawn on the server.
pub fn chart(rows: &[ReportRow]) -> String {
    let (width, height, left, bottom) = (720.0_f64, 220.0_f64, 36.0_f64, 20.0_f64);
    let most = rows.iter().map(|r| r.arrived).max().unwrap_or(0).max(1) as f64;
    let slot = (width - left) / rows.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let scale = (height - bottom - 10.0) / most;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" class=\"report-chart\">\
         <line x1=\"{left}\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"currentColor\" stroke-width=\"1\"/>\
         <text x=\"{tx}\" y=\"14\" font-size=\"11\" text-anchor=\"end\" fill=\"currentColor\">{most}</text>",
        y = height - bottom,
        tx = left - 4.0,
        most = most as i64
    );
    for (i, r) in rows.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        let (arrived, accepted) = (r.arrived as f64 * scale, r.accepted as f64 * scale);
        let label = escape(&r.key);
        svg.push_str(&format!(
            "<g><title>{label}: {} arrived, {} accepted</title>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{arrived:.1}\" fill=\"#93c5fd\"/>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{accepted:.1}\" fill=\"#1d4ed8\"/></g>",
            r.arrived,
            r.accepted,
            height - bottom - arrived,
            height - bottom - accepted,
        ));
        if rows.len() <= 12 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"currentColor\">{label}</text>",
                x + bar / 2.0,
                height - 6.0
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let asked = parse(&query, state.now(), &mut errors);
    let sites = state.store.sites(me.org_id()).await?;
    let teams = state.store.teams(me.org_id()).await?;
    let (rows, total, chart_svg, shown) = match &asked {
        Some(asked) => {
            let (rows, total) = compute(&state, me.org_id(), asked).await?;
            let svg = chart(&rows);
            let shown = ReportQuery {
                from: asked.from.to_string(),
                to: asked.to.to_string(),
                group: asked.group.to_owned(),
                ..query.clone()
            };
            (rows, Some(total), svg, shown)
        }
        None => (Vec::new(), None, String::new(), query.clone()),
    };
    let csv_query = serde_urlencoded::to_string(&shown).unwrap_or_default();
    let outcome = match errors.is_empty() {
        true => Outcome::fresh(),
        false => Outcome::invalid(errors),
    };
    let group_label = GROUPS
        .iter()
        .find(|(g, _)| *g == shown.group)
        .map_or("Day", |(_, l)| l);
    admin_page(
        &state,
        &me,
        "reports",
        "admin/reports.html",
        outcome,
        context! {
            report_rows => rows, report_total => total, form => shown, groups => GROUPS, group_label, sites, teams, csv_query,
            chart => minijinja::Value::from_safe_string(chart_svg),
        },
    )
}

pub async fn csv(
    State(state): State<AppState>,
    me: AdminUser,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let Some(asked) = parse(&query, state.now(), &mut errors) else {
        return Err(crate::error::AppError::BadRequest(
            "The report's dates cannot be read.".into(),
        ));
    };
    let (rows, total) = compute(&state, me.org_id(), &asked).await?;
    let text = domain::report::csv(asked.group, &rows, &total);
    let name = domain::files::FileName::parse(&format!("report-{}-{}.csv", asked.from, asked.to))
        .unwrap_or_else(|_| domain::files::FileName::fallback());
    Ok(crate::files::attachment("text/csv; charset=utf-8", &name, text).into_response())
}
