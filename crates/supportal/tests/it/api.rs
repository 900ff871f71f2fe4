//! The REST API over real HTTP, on both backends: tokens an admin makes on the admin page,
//! every route's authorization (no token, a revoked one, the wrong scope, another
//! organization's), cursor paging, notices that reach the portal, transcripts and surveys,
//! the one error shape, the per-token limit, the audit of every call, and the OpenAPI document.

use crate::chat::{accept, customer_says, end_session, rep_says};
use crate::console::rep;
use crate::helpers::{spawn_app, spawn_with, test_config, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::portal_app;
use serde_json::{json, Value};
use store::Backend;

/// An API client holding `token` (none: no Authorization header).
pub struct Api {
    app: TestApp,
    token: Option<String>,
}

impl Api {
    pub fn new(app: &TestApp, token: Option<&str>) -> Api {
        Api {
            app: app.other_browser(),
            token: token.map(str::to_owned),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }
}

/// What the admin page shows once: the new token.
fn token_on(page: &str) -> String {
    let marker = "data-testid=\"api-token-value\">";
    let start = page.find(marker).expect("the new token is shown") + marker.len();
    page[start..].split('<').next().unwrap().to_owned()
}

/// `admin` (signed in) makes a token named `name` with `scopes` on the admin page.
pub async fn make_token(admin: &TestApp, name: &str, scopes: &[&str]) -> String {
    let mut fields = vec![("name", name)];
    fields.extend(scopes.iter().map(|s| ("scopes", *s)));
    let response = admin
        .submit("/admin/api", "/admin/api/tokens", &fields)
        .await;
    assert_eq!(response.status(), 200);
    token_on(&response.text().await.unwrap())
}

async fn admin_of(app: &TestApp, email: &str) -> TestApp {
    let admin = app.other_browser();
    assert_eq!(admin.login(email, PASSWORD).await.status(), 303);
    admin
}

const ALL_SCOPES: [&str; 5] = [
    "sessions:read",
    "notices:write",
    "keys:write",
    "sites:write",
    "reports:read",
];

async fn an_admin_makes_a_token_shown_once_and_revokes_it(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let (status, page) = admin.get_text("/admin/api").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-testid=\"api-token-create\""));

    // Refused input stays beside its field, the name kept.
    let response = admin
        .submit(
            "/admin/api",
            "/admin/api/tokens",
            &[("name", "Status page")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"f-scopes-error\""), "{page}");
    assert!(page.contains("value=\"Status page\""));
    assert!(!page.contains("data-testid=\"api-token-value\""));
    let response = admin
        .submit(
            "/admin/api",
            "/admin/api/tokens",
            &[("name", "CRM"), ("scopes", "admin:everything")],
        )
        .await;
    assert_eq!(response.status(), 422);

    let token = make_token(&admin, "CRM", &["sessions:read"]).await;
    assert!(token.starts_with("spt_") && token.len() == 47, "{token}");
    // Only its digest is kept, and the list shows its first characters, never the whole.
    let (_, list) = admin.get_text("/admin/api").await;
    assert!(!list.contains(&token));
    assert!(list.contains(&format!("{}…", &token[..10])));
    assert!(list.contains("never"), "not used yet");

    let api = Api::new(&p.app, Some(&token));
    assert_eq!(api.get("/api/v1/sessions").await.0, 200);
    // Its use shows on the admin page (written beside the call, not in its way).
    let mut used = false;
    for _ in 0..50 {
        let (_, list) = admin.get_text("/admin/api").await;
        if !list.contains("never") {
            used = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(used, "the last use is recorded");
    // Every call is in the audit log, with its answer and the token's name (written before
    // the last use, so it is there by now).
    let audit = p.app.store.audit_entries(p.org, 20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "api.call"
                && e.detail == "GET /api/v1/sessions → 200 (token “CRM”)"),
        "{audit:?}"
    );

    let rows = p.app.store.api_tokens(p.org).await.unwrap();
    let id = rows[0].id;
    let response = admin
        .submit("/admin/api", &format!("/admin/api/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), 200);
    let (status, body) = api.get("/api/v1/sessions").await;
    assert_eq!(status, 401, "a revoked token opens nothing");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (_, audit) = admin.get_text("/admin/audit").await;
    assert!(audit.contains("Created an API token") && audit.contains("Revoked an API token"));
}

/// Every route, with a body it takes.
fn routes(
    site: i64,
    session: i64,
    notice: i64,
    rep: i64,
    key: i64,
) -> Vec<(&'static str, String, Option<Value>, &'static str)> {
    let notice_body = json!({ "name": "Outage", "severity": "outage", "texts": { "en": "Down" } });
    vec![
        ("GET", "/api/v1/sessions".into(), None, "sessions:read"),
        (
            "GET",
            format!("/api/v1/sessions/{session}"),
            None,
            "sessions:read",
        ),
        (
            "GET",
            format!("/api/v1/sessions/{session}/transcript"),
            None,
            "sessions:read",
        ),
        (
            "GET",
            format!("/api/v1/sessions/{session}/survey"),
            None,
            "sessions:read",
        ),
        ("GET", "/api/v1/reps".into(), None, "sessions:read"),
        ("GET", "/api/v1/teams".into(), None, "sessions:read"),
        ("GET", "/api/v1/issue-types".into(), None, "sessions:read"),
        (
            "GET",
            format!("/api/v1/sites/{site}/notices"),
            None,
            "notices:write",
        ),
        (
            "POST",
            format!("/api/v1/sites/{site}/notices"),
            Some(notice_body),
            "notices:write",
        ),
        (
            "POST",
            format!("/api/v1/notices/{notice}/end"),
            None,
            "notices:write",
        ),
        (
            "GET",
            "/api/v1/reports/sessions".into(),
            None,
            "reports:read",
        ),
        ("GET", "/api/v1/sites".into(), None, "sites:write"),
        ("GET", format!("/api/v1/sites/{site}"), None, "sites:write"),
        (
            "PATCH",
            format!("/api/v1/sites/{site}/texts"),
            Some(json!({ "welcome": { "en": "Hello" } })),
            "sites:write",
        ),
        (
            "PUT",
            format!("/api/v1/sites/{site}/schedule"),
            Some(
                json!({ "time_zone": "UTC", "weekly": { "monday": "00:00-23:59" }, "holidays": [] }),
            ),
            "sites:write",
        ),
        (
            "DELETE",
            format!("/api/v1/sites/{site}/schedule"),
            None,
            "sites:write",
        ),
        (
            "POST",
            "/api/v1/keys".into(),
            Some(json!({ "rep_id": rep, "valid_minutes": 15 })),
            "keys:write",
        ),
        (
            "POST",
            format!("/api/v1/keys/{key}/revoke"),
            None,
            "keys:write",
        ),
    ]
}

async fn every_route_needs_a_live_token_of_its_scope_and_organization(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let (session, waiting) = p.contact_request("Quinn").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    end_session(&riley, session.0, "resolved").await;
    let survey = format!("{waiting}/survey");
    p.app.submit(&waiting, &survey, &[("rating", "5")]).await;
    let everything = Api::new(&p.app, Some(&make_token(&admin, "All", &ALL_SCOPES).await));
    let (status, notice) = everything
        .post(
            &format!("/api/v1/sites/{}/notices", p.site),
            json!({ "name": "Maintenance", "severity": "info", "texts": { "en": "Tonight" } }),
        )
        .await;
    assert_eq!(status, 201, "{notice}");
    let (status, key) = everything
        .post("/api/v1/keys", json!({ "rep_id": p.rep.0 }))
        .await;
    assert_eq!(status, 201, "{key}");
    let routes = routes(
        p.site.0,
        session.0,
        notice["id"].as_i64().unwrap(),
        p.rep.0,
        key["id"].as_i64().unwrap(),
    );

    // Another organization, with a token that may do everything there.
    let (other_org, _) = p.app.org_with_admin("globex").await;
    let other_site = p
        .app
        .store
        .create_site(
            other_org,
            &domain::text::DisplayName::parse("Globex Help").unwrap(),
            &domain::text::Slug::parse("globex").unwrap(),
            crate::helpers::now(),
        )
        .await
        .unwrap();
    let globex = admin_of(&p.app, "admin@globex.test").await;
    let theirs = Api::new(
        &p.app,
        Some(&make_token(&globex, "Theirs", &ALL_SCOPES).await),
    );

    let nobody = Api::new(&p.app, None);
    let forged = Api::new(
        &p.app,
        Some("spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    );
    for (method, path, body, scope) in &routes {
        for (who, api) in [("no token", &nobody), ("an unknown token", &forged)] {
            let (status, answer) = api.send(method, path, body.clone()).await;
            assert_eq!(status, 401, "{method} {path} with {who}: {answer}");
            assert_eq!(answer["error"]["code"], "unauthorized");
        }
        // A token with every scope but this route's.
        let others: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| s != scope).collect();
        let narrow = Api::new(&p.app, Some(&make_token(&admin, "Narrow", &others).await));
        let (status, answer) = narrow.send(method, path, body.clone()).await;
        assert_eq!(status, 403, "{method} {path} without {scope}: {answer}");
        assert_eq!(answer["error"]["code"], "insufficient_scope");
        assert!(answer["error"]["message"].as_str().unwrap().contains(scope));
        // The other organization's token finds nothing of ours.
        let (status, answer) = theirs.send(method, path, body.clone()).await;
        if path == "/api/v1/keys" {
            // Our rep is no rep of theirs.
            assert_eq!(status, 422, "{answer}");
            assert_eq!(answer["error"]["field"], "rep_id");
        } else if path.starts_with("/api/v1/keys/") {
            assert_eq!(
                status, 404,
                "{method} {path} with another's token: {answer}"
            );
        } else {
            // A route naming one of ours by id does not find it; a list shows only theirs.
            match path.split('/').any(|part| part.parse::<i64>().is_ok()) {
                true => assert_eq!(
                    status, 404,
                    "{method} {path} with another's token: {answer}"
                ),
                false => {
                    assert_eq!(status, 200, "{method} {path}: {answer}");
                    let text = answer.to_string();
                    assert!(
                        !text.contains("Quinn")
                            && !text.contains("riley@acme.test")
                            && !text.contains("Support"),
                        "{method} {path} shows nothing of acme's to globex: {text}"
                    );
                }
            }
        }
        // And the right token is answered.
        let (status, answer) = everything.send(method, path, body.clone()).await;
        assert!(
            status == 200 || status == 201,
            "{method} {path} with its scope: {status} {answer}"
        );
    }
    let _ = other_site;
}

async fn sessions_page_by_cursor_newest_first_with_filters(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let api = Api::new(
        &p.app,
        Some(&make_token(&admin, "CRM", &["sessions:read"]).await),
    );
    let mut made = Vec::new();
    for n in 0..7 {
        made.push(p.contact_request(&format!("Customer {n}")).await.0 .0);
    }
    let (team_session, _) = p.team_request("Tess").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, made[2]).await;

    let mut seen = Vec::new();
    let mut path = "/api/v1/sessions?limit=3".to_owned();
    loop {
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let ids: Vec<i64> = page["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        assert!(ids.len() <= 3);
        seen.extend(ids);
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/sessions?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let mut all: Vec<i64> = made.clone();
    all.push(team_session.0);
    all.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        seen, all,
        "every session once, newest first, over three pages"
    );

    let (_, active) = api.get("/api/v1/sessions?state=active").await;
    let active = active["sessions"].as_array().unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["id"], made[2]);
    assert_eq!(active[0]["owner_rep_id"], p.rep.0);
    assert_eq!(active[0]["customer"]["name"], "Customer 2");
    let (_, forms) = api.get("/api/v1/sessions?start_method=issue_form").await;
    let forms = forms["sessions"].as_array().unwrap();
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["customer"]["fields"]["device"], "Phone");
    assert_eq!(forms[0]["queue"]["kind"], "team");
    let (_, future) = api.get("/api/v1/sessions?since=2099-01-01T00:00:00Z").await;
    assert_eq!(future["sessions"], json!([]));

    // Refused queries name what is wrong, in the one error shape.
    for (query, field, reason) in [
        ("state=lost", "state", "invalid_choice"),
        ("limit=0", "limit", "out_of_range"),
        ("limit=101", "limit", "out_of_range"),
        ("since=yesterday", "since", "invalid_datetime"),
        ("cursor=abc", "cursor", "invalid_cursor"),
        ("start_method=telepathy", "start_method", "invalid_choice"),
        ("limit=many", "query", "unreadable"),
    ] {
        let (status, answer) = api.get(&format!("/api/v1/sessions?{query}")).await;
        assert_eq!(status, 422, "{query}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid", "{query}");
        assert_eq!(answer["error"]["field"], field, "{query}");
        assert_eq!(answer["error"]["reason"], reason, "{query}");
    }
    let (status, answer) = api.get("/api/v1/sessions/999999").await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found"))
    );
    let (status, answer) = api.get("/api/v1/nothing-here").await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found"))
    );
}

async fn a_session_reads_back_with_events_transcript_and_survey(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let api = Api::new(
        &p.app,
        Some(&make_token(&admin, "CRM", &["sessions:read"]).await),
    );
    let (session, waiting) = p.contact_request("Cleo").await;
    let id = session.0;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, id).await;
    customer_says(&p.app, &waiting, "My printer <b>smokes</b>", "c-1").await;
    rep_says(&riley, id, "Unplug it", "r-1").await;
    let (status, answer) = api.get(&format!("/api/v1/sessions/{id}/survey")).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found")),
        "no survey yet"
    );
    end_session(&riley, id, "resolved").await;
    let survey = format!("{waiting}/survey");
    let fields = [("rating", "4"), ("comment", "Quick")];
    assert_eq!(p.app.submit(&waiting, &survey, &fields).await.status(), 303);

    let (status, one) = api.get(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["state"], "ended");
    assert_eq!(one["outcome"], "resolved");
    assert_eq!(one["start_method"], "contact_button");
    assert!(one["queued_at"].as_str().unwrap().ends_with('Z'));
    let kinds: Vec<&str> = one["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["queued", "accepted", "ended"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    let (status, transcript) = api.get(&format!("/api/v1/sessions/{id}/transcript")).await;
    assert_eq!(status, 200, "{transcript}");
    let lines = transcript["lines"].as_array().unwrap();
    let said: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["kind"] == "message")
        .map(|l| (l["from"].as_str().unwrap(), l["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said,
        [
            ("customer", "My printer <b>smokes</b>"),
            ("rep", "Unplug it")
        ],
        "as written, HTML as text"
    );
    assert!(
        lines.iter().any(|l| l["kind"] == "system"),
        "system lines too"
    );
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");

    let (status, survey) = api.get(&format!("/api/v1/sessions/{id}/survey")).await;
    assert_eq!(status, 200, "{survey}");
    assert_eq!(
        (survey["rating"].as_i64(), survey["comment"].as_str()),
        (Some(4), Some("Quick"))
    );
}

async fn a_notice_posted_by_api_shows_on_the_portal_until_ended(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let api = Api::new(
        &p.app,
        Some(&make_token(&admin, "Monitoring", &["notices:write"]).await),
    );
    let notices = format!("/api/v1/sites/{}/notices", p.site);

    // Refused bodies name the field; nothing is posted.
    for (body, field) in [
        (
            json!({ "name": "Outage", "severity": "dire", "texts": { "en": "Down" } }),
            "severity",
        ),
        (
            json!({ "name": "", "severity": "outage", "texts": { "en": "Down" } }),
            "name",
        ),
        (
            json!({ "name": "Outage", "severity": "outage", "texts": {} }),
            "texts",
        ),
        (
            json!({ "name": "Outage", "severity": "outage", "texts": { "xx": "Down" } }),
            "texts.xx",
        ),
        (
            json!({ "name": "Outage", "severity": "outage", "texts": { "en": "Down" },
                    "starts_at": "2026-12-05T10:00:00Z", "ends_at": "2026-12-05T09:00:00Z" }),
            "ends_at",
        ),
    ] {
        let (status, answer) = api.post(&notices, body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}");
    }
    let (status, answer) = api.post(&notices, json!({ "name": 3 })).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("invalid_json"))
    );
    assert_eq!(api.get(&notices).await.1, json!([]));

    let (status, posted) = api
        .post(
            &notices,
            json!({ "name": "Mail outage", "severity": "outage",
                    "texts": { "en": "Email is down; we are on it.", "de": "E-Mail ist gestört." } }),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["showing"], true);
    let (_, page) = p.app.get_text("/p/help").await;
    assert!(
        page.contains("Email is down; we are on it."),
        "the portal shows it"
    );
    let german = p.app.get_text_in("/p/help", "de").await;
    assert!(german.contains("E-Mail ist gestört."));

    let (status, ended) = api
        .post(&format!("/api/v1/notices/{}/end", posted["id"]), json!({}))
        .await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["showing"], false);
    assert!(ended["ends_at"].is_string());
    let (_, page) = p.app.get_text("/p/help").await;
    assert!(
        !page.contains("Email is down"),
        "ended: the portal no longer shows it"
    );
}

#[tokio::test]
async fn each_token_is_limited_and_told_when_to_retry() {
    let mut config = test_config(Backend::Sqlite).await;
    config.security.api_requests_per_token_per_minute = 3;
    let p = portal_app(spawn_with(&config).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let first = Api::new(
        &p.app,
        Some(&make_token(&admin, "Busy", &["sessions:read"]).await),
    );
    let second = Api::new(
        &p.app,
        Some(&make_token(&admin, "Calm", &["sessions:read"]).await),
    );
    for _ in 0..3 {
        assert_eq!(first.get("/api/v1/teams").await.0, 200);
    }
    let response = p
        .app
        .client
        .get(p.app.url("/api/v1/teams"))
        .bearer_auth(first.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(
        response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        second.get("/api/v1/teams").await.0,
        200,
        "another token is not held up"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_reference_page_shows_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let (status, document) = Api::new(&app, None).get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    // Ids apart, so that each maps back to its parameter's name.
    for (method, path, _, scope) in routes(11, 22, 33, 44, 55) {
        let template = path
            .replace("/11", "/{site}")
            .replace("/22", "/{id}")
            .replace("/33", "/{id}")
            .replace("/55", "/{id}");
        let operation = &paths
            .get(&template)
            .unwrap_or_else(|| panic!("{template} in {:?}", paths.keys()))[method.to_lowercase()];
        assert!(operation.is_object(), "{method} {template}");
        assert_eq!(
            operation["security"][0]["token"][0], scope,
            "{method} {template}"
        );
        assert!(operation["responses"]["401"].is_object());
    }
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let (status, page) = app.get_text("/api/v1/docs").await;
    assert_eq!(status, 200);
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("GET /api/v1/sessions") && page.contains("SessionPage"));
    assert!(!page.contains("<script src=\"http"), "no outside script");
}

async fn another_system_issues_a_session_key_the_customer_uses(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let api = Api::new(
        &p.app,
        Some(&make_token(&admin, "CRM", &["keys:write"]).await),
    );
    for (body, field) in [
        (json!({ "rep_id": 999_999 }), "rep_id"),
        (
            json!({ "rep_id": p.rep.0, "valid_minutes": 7 }),
            "valid_minutes",
        ),
    ] {
        let (status, answer) = api.post("/api/v1/keys", body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field);
    }
    let (status, key) = api
        .post(
            "/api/v1/keys",
            json!({ "rep_id": p.rep.0, "valid_minutes": 30 }),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let digits = key["key"].as_str().unwrap().to_owned();
    assert!(key["link"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/join/{digits}")));
    assert!(key["message"]
        .as_str()
        .unwrap()
        .contains(key["spaced"].as_str().unwrap()));
    // The customer types it: they wait in the rep's own queue.
    let customer = p.app.other_browser();
    let fields = [
        ("key", digits.as_str()),
        ("customer_name", "Ivy"),
        ("field_device", "Phone"),
    ];
    let response = customer
        .submit("/p/help", "/p/help/key/confirm", &fields)
        .await;
    let waiting = crate::helpers::location(&response);
    let session = p.session_at(&waiting).await;
    assert_eq!(
        session.queue(),
        Some(domain::session::Queue::Personal(p.rep))
    );
    // Used, it cannot be revoked; a fresh one can, once.
    let (status, _) = api
        .post(&format!("/api/v1/keys/{}/revoke", key["id"]), json!({}))
        .await;
    assert_eq!(status, 404);
    let (_, fresh) = api.post("/api/v1/keys", json!({ "rep_id": p.rep.0 })).await;
    let revoke = format!("/api/v1/keys/{}/revoke", fresh["id"]);
    assert_eq!(api.post(&revoke, json!({})).await.0, 200);
    assert_eq!(api.post(&revoke, json!({})).await.0, 404);
    // At most eight live keys per rep, as in the console.
    let mut last = 0;
    for _ in 0..9 {
        last = api
            .post("/api/v1/keys", json!({ "rep_id": p.rep.0 }))
            .await
            .0;
    }
    assert_eq!(last, 409);
    let audit = p.app.store.audit_entries(p.org, 50).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "key.issued" && e.detail.contains("API token “CRM”")));
    assert!(audit
        .iter()
        .any(|e| e.action == "key.revoked" && e.detail.contains("CRM")));
}

async fn a_site_texts_and_hours_change_through_the_api(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let admin = admin_of(&p.app, "admin@acme.test").await;
    let api = Api::new(
        &p.app,
        Some(&make_token(&admin, "Ops", &["sites:write"]).await),
    );
    let (status, sites) = api.get("/api/v1/sites").await;
    assert_eq!(status, 200, "{sites}");
    assert_eq!(sites[0]["slug"], "help");
    assert!(sites[0]["url"].as_str().unwrap().ends_with("/p/help"));
    assert_eq!(sites[0]["open_now"], true);
    let site = format!("/api/v1/sites/{}", p.site);

    for (body, field) in [
        (
            json!({ "welcome": { "fr": "Bonjour" } }),
            "texts.welcome.fr",
        ),
        (
            json!({ "welcome": { "en": "x".repeat(1001) } }),
            "texts.welcome.en",
        ),
    ] {
        let (status, answer) = api
            .send("PATCH", &format!("{site}/texts"), Some(body))
            .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["field"], field);
    }
    let (status, answer) = api
        .send(
            "PATCH",
            &format!("{site}/texts"),
            Some(json!({ "farewell": {} })),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("invalid_json"))
    );
    let (status, changed) = api
        .send(
            "PATCH",
            &format!("{site}/texts"),
            Some(json!({ "welcome": { "en": "Mail is slow today.", "de": "E-Mail ist heute langsam." },
                         "closed_message": { "en": "Back at nine." } })),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["texts"]["welcome"]["de"],
        "E-Mail ist heute langsam."
    );
    let (_, page) = p.app.get_text("/p/help").await;
    assert!(
        page.contains("Mail is slow today."),
        "the portal says it at once"
    );

    // Closed all week: the portal shows the closed message, and only key entry.
    for (body, field) in [
        (
            json!({ "time_zone": "Mars/Olympus", "weekly": {}, "holidays": [] }),
            "time_zone",
        ),
        (
            json!({ "time_zone": "UTC", "weekly": { "someday": "09:00-10:00" }, "holidays": [] }),
            "weekly.someday",
        ),
        (
            json!({ "time_zone": "UTC", "weekly": { "monday": "25:00-26:00" }, "holidays": [] }),
            "weekly.monday",
        ),
        (
            json!({ "time_zone": "UTC", "weekly": {}, "holidays": ["tomorrow"] }),
            "holidays.0",
        ),
    ] {
        let (status, answer) = api
            .send("PUT", &format!("{site}/schedule"), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}");
    }
    let (status, closed) = api
        .send(
            "PUT",
            &format!("{site}/schedule"),
            Some(json!({ "time_zone": "Europe/Berlin", "weekly": {}, "holidays": ["2026-12-25 closed"] })),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["open_now"], false);
    assert_eq!(closed["schedule"]["holidays"], json!(["2026-12-25 closed"]));
    let (_, listed) = api.get("/api/v1/sites").await;
    assert_eq!(
        (&listed[0]["open_now"], &listed[0]["schedule"]),
        (&json!(false), &closed["schedule"]),
        "the list reads every site's hours"
    );
    let (_, page) = p.app.get_text("/p/help").await;
    assert!(page.contains("Back at nine."), "closed: {page}");
    let (status, open) = api.send("DELETE", &format!("{site}/schedule"), None).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(
        (open["open_now"].clone(), open["schedule"].clone()),
        (json!(true), Value::Null)
    );
    let (_, page) = p.app.get_text("/p/help").await;
    assert!(!page.contains("Back at nine."));
}

on_both_backends!(
    a_site_texts_and_hours_change_through_the_api,
    another_system_issues_a_session_key_the_customer_uses,
    an_admin_makes_a_token_shown_once_and_revokes_it,
    every_route_needs_a_live_token_of_its_scope_and_organization,
    sessions_page_by_cursor_newest_first_with_filters,
    a_session_reads_back_with_events_transcript_and_survey,
    a_notice_posted_by_api_shows_on_the_portal_until_ended,
);
