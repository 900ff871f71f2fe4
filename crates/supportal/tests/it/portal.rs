//! The public portal over HTTP: every start method into the right queue, closed sites, notices,
//! keys and their errors, rate limits, profiles, languages, bad input.

use crate::helpers::{location, now, spawn_app, spawn_app_with, TestApp};
use crate::on_both_backends;
use domain::intake::{CustomField, FieldKind};
use domain::rep::Presence;
use domain::session::{Queue, SessionState, Status};
use domain::session_key::SessionKey;
use domain::site::SiteSettings;
use domain::text::{DisplayName, Slug};
use domain::{IssueTypeId, Language, OrgId, SessionId, SiteId, TeamId, UserId};
use store::keys::{KeyTarget, NewKey};
use store::support::SupportSession;
use store::Backend;

pub struct Portal {
    pub app: TestApp,
    pub org: OrgId,
    pub site: SiteId,
    pub team: TeamId,
    pub rep: UserId,
    pub issue: IssueTypeId,
}

fn name(s: &str) -> DisplayName {
    DisplayName::parse(s).unwrap()
}

/// Organization "acme" with site "help", team Support, an available rep Riley, issue type Printers
/// and a required custom field "device".
pub async fn portal_app(app: TestApp) -> Portal {
    let (org, _) = app.org_with_admin("acme").await;
    let site = app
        .store
        .create_site(
            org,
            &name("Acme Help"),
            &Slug::parse("help").unwrap(),
            now(),
        )
        .await
        .unwrap();
    let team = app
        .store
        .create_team(org, &name("Support"), now())
        .await
        .unwrap();
    let rep = app.add_rep(org, "riley@acme.test").await;
    app.store.set_user_teams(org, rep, &[team]).await.unwrap();
    app.store
        .set_presence(org, rep, Presence::Available, now())
        .await
        .unwrap();
    let issue = app
        .store
        .create_issue_type(
            org,
            team,
            &name("Printers"),
            &Slug::parse("printers").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let device = CustomField {
        key: "device".into(),
        kind: FieldKind::Select,
        required: true,
        labels: [
            (Language::En, "Device".to_owned()),
            (Language::De, "Gerät".to_owned()),
        ]
        .into(),
        options: vec!["Laptop".into(), "Phone".into()],
    };
    app.store
        .add_custom_field(org, site, &device)
        .await
        .unwrap();
    Portal {
        app,
        org,
        site,
        team,
        rep,
        issue,
    }
}

impl Portal {
    /// A customer presses the contact button: the session and its waiting page.
    pub async fn contact_request(&self, name: &str) -> (SessionId, String) {
        let customer = self.app.other_browser();
        let waiting = location(
            &customer
                .submit("/p/help", "/p/help/contact", &[("customer_name", name)])
                .await,
        );
        (self.session_at(&waiting).await.id, waiting)
    }

    /// A customer files the issue form for Printers: the session waits in the Support queue.
    pub async fn team_request(&self, name: &str) -> (SessionId, String) {
        let customer = self.app.other_browser();
        let fields = [
            ("customer_name", name),
            ("issue_type", &self.issue.to_string()),
            ("field_device", "Phone"),
        ];
        let waiting = location(
            &customer
                .submit("/p/help/request", "/p/help/request", &fields)
                .await,
        );
        (self.session_at(&waiting).await.id, waiting)
    }

    pub async fn session(&self, id: SessionId) -> SupportSession {
        self.app
            .store
            .support_session(self.org, id)
            .await
            .unwrap()
            .expect("the session exists")
    }

    /// The session's state once it is `state`, or after a bounded wait (10 s) whatever it is.
    pub async fn state_becomes(&self, id: SessionId, state: Status) -> Status {
        let mut now = self.session(id).await.state;
        for _ in 0..50 {
            now = self.session(id).await.state;
            if now == state {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        now
    }

    /// How many events of `kind` the session's log holds.
    pub async fn events_of(&self, id: SessionId, kind: &str) -> usize {
        let events = self.app.store.session_events(self.org, id).await.unwrap();
        events.iter().filter(|e| e.kind == kind).count()
    }

    /// Give the rep a session limit.
    pub async fn limit_rep_to(&self, limit: i64) {
        let riley = self
            .app
            .store
            .user(self.org, self.rep)
            .await
            .unwrap()
            .unwrap();
        let update = store::users::UserUpdate {
            display_name: &DisplayName::parse(&riley.display_name).unwrap(),
            title: None,
            role: riley.role,
            active: true,
            session_limit: limit,
        };
        self.app
            .store
            .update_user(self.org, self.rep, &update)
            .await
            .unwrap();
    }

    /// The session whose waiting page `browser` shows.
    pub async fn session_of(&self, browser: &crate::browser::Browser) -> SessionId {
        let page = browser.client.current_url().await.unwrap();
        self.session_at(page.path()).await.id
    }

    /// An iOS profile on the help site (a minimal valid plist); its id.
    pub async fn add_profile(&self, name: &str, description: &str, public: bool) -> i64 {
        let plist = b"<?xml version=\"1.0\"?><plist><dict><key>PayloadContent</key></dict></plist>";
        let profile = store::extras::NewIosProfile {
            name,
            description,
            public,
            content: plist,
        };
        self.app
            .store
            .add_ios_profile(self.org, self.site, &profile, now())
            .await
            .unwrap()
            .expect("the site exists")
    }

    /// A notice planned on the site, created now: `text` (English) shows from `starts_in` to
    /// `ends_in` milliseconds from now, with nobody acting when either comes.
    pub async fn plan_notice(&self, text: &str, starts_in: i64, ends_in: i64) {
        let texts = [(domain::Language::En, text.to_owned())].into();
        let at = |ms: i64| domain::Timestamp(crate::helpers::now().0 + ms);
        let planned = store::sites::NewNotice {
            name: &domain::text::DisplayName::parse("Maintenance").unwrap(),
            severity: domain::notice::Severity::Info,
            texts: &texts,
            starts_at: Some(at(starts_in)),
            ends_at: Some(at(ends_in)),
        };
        self.app
            .store
            .create_notice(self.org, self.site, &planned, at(0))
            .await
            .unwrap();
    }

    pub async fn session_at(&self, waiting_page: &str) -> SupportSession {
        let capability = waiting_page
            .strip_prefix("/s/")
            .expect("a waiting page address");
        self.app
            .store
            .session_by_capability(&domain::secret::token_digest(capability))
            .await
            .unwrap()
            .expect("the session exists")
    }

    pub(crate) async fn key(&self, digits: &str, target: KeyTarget, valid_secs: i64) -> i64 {
        let key = SessionKey::parse(digits).unwrap();
        let new = NewKey {
            org: self.org,
            rep: self.rep,
            site: Some(self.site),
            key: &key,
            target,
            expires_at: now().plus_seconds(valid_secs),
        };
        self.app.store.create_key(&new, now()).await.unwrap()
    }

    pub async fn settings(&self, change: impl FnOnce(&mut SiteSettings)) {
        let site = self
            .app
            .store
            .site(self.org, self.site)
            .await
            .unwrap()
            .unwrap();
        let mut settings = site.settings;
        change(&mut settings);
        self.app
            .store
            .update_site(
                self.org,
                self.site,
                &name(&site.name),
                &Slug::parse(&site.slug).unwrap(),
                &settings,
            )
            .await
            .unwrap();
    }
}

async fn each_start_method_queues_the_customer_where_it_should(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let (status, home) = app.get_text("/p/help").await;
    assert_eq!(status, 200);
    for hook in [
        "rep-option",
        "open-issue-form",
        "contact-button",
        "session-key-input",
        "presentation-key-input",
    ] {
        assert!(
            home.contains(&format!("data-testid=\"{hook}\"")),
            "home offers {hook}"
        );
    }
    assert!(
        home.contains("Robin Rep"),
        "the available rep is listed by name"
    );

    // Representative list → that rep's personal queue, with the custom field answered.
    let rep_page = format!("/p/help/rep/{}", p.rep);
    let response = app
        .submit(
            &rep_page,
            &rep_page,
            &[("customer_name", "Cleo"), ("field_device", "Laptop")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let session = p.session_at(&location(&response)).await;
    assert_eq!(
        (
            session.org_id,
            session.start_method.as_str(),
            session.customer_name.as_str()
        ),
        (p.org, "rep_list", "Cleo")
    );
    assert_eq!(
        session.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::Personal(p.rep)
        }
    );
    let log = app.store.session_events(p.org, session.id).await.unwrap();
    assert!(
        log[0].payload.contains("chose Robin Rep"),
        "the routing reason is recorded: {}",
        log[0].payload
    );

    // Issue form → the issue type's team queue, with company and description.
    let fields = [
        ("customer_name", "Dan"),
        ("company", "Initech"),
        ("issue_type", &p.issue.to_string()),
        ("description", "Paper jam"),
        ("field_device", "Phone"),
    ];
    // (Each customer in their own browser: one still waiting would be sent back to its page.)
    let response = app
        .other_browser()
        .submit("/p/help/request", "/p/help/request", &fields)
        .await;
    let session = p.session_at(&location(&response)).await;
    assert_eq!(
        session.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::Team(p.team)
        }
    );
    assert_eq!(
        (
            session.customer_company.as_deref(),
            session.description.as_deref()
        ),
        (Some("Initech"), Some("Paper jam"))
    );

    // Contact button → the general queue.
    let response = app
        .other_browser()
        .submit("/p/help", "/p/help/contact", &[("customer_name", "Eve")])
        .await;
    let session = p.session_at(&location(&response)).await;
    assert_eq!(
        (
            session.start_method.as_str(),
            session.session_state().unwrap()
        ),
        (
            "contact_button",
            SessionState::Waiting {
                queue: Queue::General
            }
        )
    );

    // Session key → shows who issued it, then straight to that rep; the key is then used up.
    p.key("123456789", KeyTarget::Support, 900).await;
    let response = app
        .submit("/p/help", "/p/help/key", &[("key", "123 456 789")])
        .await;
    assert_eq!(response.status(), 200);
    let confirm = response.text().await.unwrap();
    assert!(
        confirm.contains("data-testid=\"rep-name\">Robin Rep") && confirm.contains("Org acme"),
        "rep and organization shown before confirming"
    );
    let response = app
        .submit(
            "/p/help",
            "/p/help/key/confirm",
            &[
                ("key", "123456789"),
                ("customer_name", "Fay"),
                ("field_device", "Laptop"),
            ],
        )
        .await;
    let session = p.session_at(&location(&response)).await;
    assert_eq!(
        (
            session.start_method.as_str(),
            session.session_state().unwrap()
        ),
        (
            "session_key",
            SessionState::Waiting {
                queue: Queue::Personal(p.rep)
            }
        )
    );
    let again = app
        .submit("/p/help", "/p/help/key", &[("key", "123456789")])
        .await;
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("This key is not valid or has expired."));

    // Presentation key → its lobby.
    let presentation = app
        .store
        .create_presentation(p.org, p.rep, "Release walkthrough", now())
        .await
        .unwrap();
    p.key("555000111", KeyTarget::Presentation(presentation), 3600)
        .await;
    let response = app
        .submit(
            "/p/help",
            "/p/help/presentation",
            &[("presentation_key", "555000111")],
        )
        .await;
    assert_eq!(location(&response), "/presentations/555000111");
    let (status, lobby) = app.get_text("/presentations/555000111").await;
    assert_eq!(status, 200);
    assert!(lobby.contains("Release walkthrough") && lobby.contains("Robin Rep"));
    assert_eq!(
        location(&app.get("/join/555000111").await),
        "/presentations/555000111",
        "join by link"
    );
}

async fn the_waiting_page_shows_position_and_lets_the_customer_cancel(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let first = location(
        &app.submit("/p/help", "/p/help/contact", &[("customer_name", "First")])
            .await,
    );
    let second = location(
        &app.other_browser()
            .submit("/p/help", "/p/help/contact", &[("customer_name", "Second")])
            .await,
    );
    let (status, page) = app.get_text(&second).await;
    assert_eq!(status, 200);
    assert!(page.contains("Your position in the queue: 2"), "{page}");
    assert!(
        page.contains("data-testid=\"estimated-wait\"") && page.contains("as soon as possible"),
        "no history: no number promised"
    );
    let status: serde_json::Value = app
        .get(&format!("{second}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (status["state"].as_str(), status["position"].as_i64()),
        (Some("waiting"), Some(2))
    );

    let response = app.submit(&first, &format!("{first}/cancel"), &[]).await;
    assert_eq!(location(&response), first);
    assert!(app
        .get_text(&first)
        .await
        .1
        .contains("Your request was cancelled."));
    let status: serde_json::Value = app
        .get(&format!("{second}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["position"].as_i64(),
        Some(1),
        "the one behind moves up"
    );

    // Taken by a rep: the page says who.
    let session = p.session_at(&second).await;
    app.store
        .claim_session(p.org, session.id, p.rep, 5, now())
        .await
        .unwrap()
        .won()
        .unwrap();
    assert!(app
        .get_text(&second)
        .await
        .1
        .contains("Robin Rep is now helping you."));
    assert_eq!(app.get("/s/not-a-capability").await.status(), 404);
}

async fn bad_input_comes_back_beside_the_field_with_everything_kept(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let fields = [
        ("customer_name", ""),
        ("company", "<b>Evil</b> Corp"),
        ("issue_type", ""),
        ("description", "Line one\nline two"),
        ("field_device", "Toaster"),
    ];
    let response = app
        .submit("/p/help/request", "/p/help/request", &fields)
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("f-customer_name-error") && page.contains("This field is required."));
    assert!(page.contains("f-issue_type-error") && page.contains("f-field_device-error"));
    assert!(
        page.contains("&lt;b&gt;Evil&lt;&#x2f;b&gt; Corp"),
        "typed HTML kept, as text"
    );
    assert!(
        page.contains("Line one\nline two"),
        "the description is kept"
    );
    let long = "x".repeat(101);
    let response = app
        .submit(
            "/p/help/request",
            "/p/help/request",
            &[("customer_name", &long)],
        )
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("At most 100 characters."));
    assert!(
        app.store
            .events_after(p.org, 0, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was queued"
    );
}

async fn a_closed_site_offers_only_key_entry(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let closed = domain::schedule::Schedule {
        time_zone: "Europe/Berlin".into(),
        weekly: Default::default(),
        holidays: vec![],
    };
    app.store
        .set_schedule(p.org, p.site, Some(&closed))
        .await
        .unwrap();
    p.settings(|s| s.closed_message = [(Language::En, "Back on Monday at 9.".to_owned())].into())
        .await;
    let (_, home) = app.get_text("/p/help").await;
    assert!(
        home.contains("data-testid=\"portal-closed\"") && home.contains("Back on Monday at 9.")
    );
    assert!(
        home.contains("data-testid=\"session-key-input\"")
            && home.contains("data-testid=\"presentation-key-input\"")
    );
    for gone in ["rep-option", "open-issue-form", "contact-button"] {
        assert!(
            !home.contains(&format!("data-testid=\"{gone}\"")),
            "{gone} hidden while closed"
        );
    }
    // A form or rep address (a bookmark, an old link) shows the closed page, key entry kept.
    let closed_page = |page: String| {
        page.contains("data-testid=\"portal-closed\"")
            && page.contains("data-testid=\"session-key-input\"")
            && !page.contains("data-testid=\"contact-button\"")
    };
    let late = app
        .submit("/p/help", "/p/help/contact", &[("customer_name", "Late")])
        .await;
    assert_eq!(late.status(), 200);
    assert!(closed_page(late.text().await.unwrap()));
    for path in [
        "/p/help/request".to_owned(),
        format!("/p/help/rep/{}", p.rep),
    ] {
        let (status, page) = app.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(closed_page(page), "{path} shows the closed page");
    }
    assert!(
        app.store
            .events_after(p.org, 0, 10)
            .await
            .unwrap()
            .is_empty(),
        "nobody was queued"
    );
    // Keys still work while closed.
    p.key("222333444", KeyTarget::Support, 900).await;
    let response = app
        .submit(
            "/p/help",
            "/p/help/key/confirm",
            &[
                ("key", "222333444"),
                ("customer_name", "Night"),
                ("field_device", "Phone"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);

    // Nobody available and the site does not queue anyway: also only keys, with its message.
    app.store.set_schedule(p.org, p.site, None).await.unwrap();
    app.store
        .set_presence(p.org, p.rep, Presence::Away, now())
        .await
        .unwrap();
    p.settings(|s| {
        s.accept_when_unavailable = false;
        s.no_rep_message = [(Language::En, "Everyone is on a call.".to_owned())].into();
    })
    .await;
    let (_, home) = app.get_text("/p/help").await;
    assert!(
        home.contains("Everyone is on a call.") && !home.contains("data-testid=\"contact-button\"")
    );
    let (status, form) = app.get_text("/p/help/request").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("Everyone is on a call."),
        "the form's address says so too"
    );
}

async fn notices_show_inside_their_window_only(backend: Backend) {
    use domain::notice::Severity;
    use store::sites::NewNotice;
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let texts = |en: &str, de: &str| -> domain::site::Texts {
        [(Language::En, en.to_owned()), (Language::De, de.to_owned())].into()
    };
    let current = texts("Mail is down.", "E-Mail ist gestört.");
    let past = texts("Old outage.", "Alte Störung.");
    let future = texts("Planned maintenance.", "Geplante Wartung.");
    let t = now();
    for (label, texts, starts, ends) in [
        (
            "now",
            &current,
            Some(t.plus_seconds(-60)),
            Some(t.plus_seconds(3600)),
        ),
        ("past", &past, None, Some(t.plus_seconds(-1))),
        ("future", &future, Some(t.plus_seconds(3600)), None),
    ] {
        let notice = NewNotice {
            name: &name(label),
            severity: Severity::Outage,
            texts,
            starts_at: starts,
            ends_at: ends,
        };
        app.store
            .create_notice(p.org, p.site, &notice, t)
            .await
            .unwrap();
    }
    let (_, home) = app.get_text("/p/help").await;
    assert_eq!(home.matches("data-testid=\"notice\"").count(), 1);
    assert!(
        home.contains("Mail is down.")
            && !home.contains("Old outage.")
            && !home.contains("Planned maintenance.")
    );
    let german = app.get_text_in("/p/help", "de-DE,de;q=0.9").await;
    assert!(german.contains("E-Mail ist gestört.") && german.contains("Wichtiger Hinweis"));
    // Customers already waiting get notices with their status updates.
    let waiting = location(
        &app.submit("/p/help", "/p/help/contact", &[("customer_name", "Gus")])
            .await,
    );
    let status: serde_json::Value = app
        .get(&format!("{waiting}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["notices"][0]["text"], "Mail is down.");
}

async fn key_problems_are_told_without_telling_which_keys_exist(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    p.key("100000001", KeyTarget::Support, -1).await;
    let revoked = p.key("100000002", KeyTarget::Support, 900).await;
    app.store
        .revoke_key(p.org, p.rep, revoked, now())
        .await
        .unwrap();
    let cases = [
        ("", "Enter the key your representative gave you."),
        ("12ab", "A key has 6 to 12 digits."),
        // Unknown, expired and revoked: one answer, so a guess learns nothing.
        ("999999999", "This key is not valid or has expired."),
        ("100000001", "This key is not valid or has expired."),
        ("100000002", "This key is not valid or has expired."),
    ];
    for (typed, message) in cases {
        let response = app
            .submit("/p/help", "/p/help/key", &[("key", typed)])
            .await;
        assert_eq!(response.status(), 422, "{typed}");
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{typed}: {message}");
        assert!(
            page.contains(&format!("value=\"{typed}\"")),
            "what was typed stays"
        );
    }
}

async fn wrong_keys_from_many_addresses_meet_the_portals_ceiling(backend: Backend) {
    let p = portal_app(
        spawn_app_with(backend, |c| {
            c.server.behind_proxy = true;
            c.security.failed_keys_per_org_per_hour = 3;
        })
        .await,
    )
    .await;
    p.key("123456789", KeyTarget::Support, 900).await;
    let try_key = |n: u8, key: &'static str| {
        let browser = p.app.browser_at(&format!("203.0.113.{n}"));
        async move {
            let response = browser
                .submit("/p/help", "/p/help/key", &[("key", key)])
                .await;
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    // A right key is no guess: it does not count.
    assert_eq!(try_key(1, "123456789").await.0, 200);
    // Three wrong keys, each from its own address (each far below its own limit)...
    for n in 2..=4 {
        assert_eq!(try_key(n, "987654321").await.0, 422);
    }
    // ...and the organization's portals take no more for the hour, right or wrong, from anywhere.
    let (status, page) = try_key(5, "123456789").await;
    assert_eq!(status, 429);
    assert!(
        page.contains("Too many wrong keys were typed here recently. Please try again in"),
        "{page}"
    );
    // The global key page counts on its own.
    let global = p.app.browser_at("198.51.100.9");
    let response = global.submit("/", "/join", &[("key", "123456789")]).await;
    assert_ne!(response.status(), 429);
}

async fn key_entry_is_rate_limited_per_address(backend: Backend) {
    let p = portal_app(
        spawn_app_with(backend, |c| c.security.key_attempts_per_ip_per_minute = 3).await,
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            p.app
                .submit("/p/help", "/p/help/key", &[("key", "987654321")])
                .await
                .status(),
            422
        );
    }
    let response = p
        .app
        .submit("/p/help", "/p/help/key", &[("key", "987654321")])
        .await;
    assert_eq!(response.status(), 429);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Too many attempts. Try again in"),
        "says when to retry"
    );
    let response = p.app.submit("/", "/join", &[("key", "987654321")]).await;
    assert_eq!(
        response.status(),
        429,
        "the global page counts against the same limit"
    );
    // A key in a presentation's address is limited too (ten times the form's allowance: a
    // whole office may join from one address).
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(
            p.app
                .get("/presentations/987654321")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses[..30], [404; 30]);
    assert_eq!(statuses[30], 429, "the 31st lookup in a minute is refused");
}

async fn a_key_of_another_organization_is_handled_like_the_global_page(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let (globex, _) = app.org_with_admin("globex").await;
    app.store
        .create_site(
            globex,
            &name("Globex Care"),
            &Slug::parse("care").unwrap(),
            now(),
        )
        .await
        .unwrap();
    let gina = app.add_rep(globex, "gina@globex.test").await;
    let key = SessionKey::parse("777888999").unwrap();
    app.store
        .create_key(
            &NewKey {
                org: globex,
                rep: gina,
                site: None,
                key: &key,
                target: KeyTarget::Support,
                expires_at: now().plus_seconds(600),
            },
            now(),
        )
        .await
        .unwrap();

    let response = app
        .submit("/p/help", "/p/help/key", &[("key", "777888999")])
        .await;
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Org globex"),
        "the customer sees whose key it is"
    );
    assert!(
        page.contains("action=\"&#x2f;p&#x2f;care&#x2f;key&#x2f;confirm\""),
        "continues on the key's organization's site"
    );
    let response = app
        .submit(
            "/p/care",
            "/p/care/key/confirm",
            &[("key", "777888999"), ("customer_name", "Hal")],
        )
        .await;
    let session = p.session_at(&location(&response)).await;
    assert_eq!(
        (session.org_id, session.session_state().unwrap()),
        (
            globex,
            SessionState::Waiting {
                queue: Queue::Personal(gina)
            }
        )
    );

    // The global page: same key kinds, any organization.
    let (status, global) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(global.contains("data-testid=\"session-key-input\""));
    app.store
        .create_key(
            &NewKey {
                org: globex,
                rep: gina,
                site: None,
                key: &SessionKey::parse("121212121").unwrap(),
                target: KeyTarget::Support,
                expires_at: now().plus_seconds(600),
            },
            now(),
        )
        .await
        .unwrap();
    let response = app.submit("/join", "/join", &[("key", "121212121")]).await;
    assert!(response.text().await.unwrap().contains("Org globex"));
    assert!(app
        .submit("/join", "/join", &[("key", "000000000")])
        .await
        .text()
        .await
        .unwrap()
        .contains("This key is not valid or has expired."));
}

async fn a_key_of_an_organization_without_a_site_works_on_the_global_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, admin) = app.org_with_admin("solo").await;
    let key = SessionKey::parse("246813579").unwrap();
    let new = NewKey {
        org,
        rep: admin,
        site: None,
        key: &key,
        target: KeyTarget::Support,
        expires_at: now().plus_seconds(900),
    };
    app.store.create_key(&new, now()).await.unwrap();
    // The key leads to a neutral confirmation with the organization's name, not a 404.
    let entered = app.submit("/join", "/join", &[("key", "246813579")]).await;
    assert_eq!(entered.status(), 200);
    let page = entered.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"rep-organization\">Org solo<"),
        "{page}"
    );
    // A name left out comes back beside the field, the key kept.
    let missing = app
        .submit(
            "/join",
            "/join/confirm",
            &[("key", "246813579"), ("customer_name", "")],
        )
        .await;
    assert_eq!(missing.status(), 422);
    let page = missing.text().await.unwrap();
    assert!(page.contains("value=\"246813579\"") && page.contains("class=\"error\""));
    let confirmed = app
        .submit(
            "/join",
            "/join/confirm",
            &[("key", "246813579"), ("customer_name", "Solo Customer")],
        )
        .await;
    let waiting = location(&confirmed);
    assert!(waiting.starts_with("/s/"), "{waiting}");
    let (status, page) = app.get_text(&waiting).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"queue-position\""), "{page}");
    let digest = domain::secret::token_digest(waiting.trim_start_matches("/s/"));
    let session = app
        .store
        .session_by_capability(&digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session.customer_name.as_str(), session.site_id),
        ("Solo Customer", None)
    );
    assert_eq!(session.queue(), Some(Queue::Personal(admin)));
    // The rep who gave the key takes the customer; the neutral page follows.
    let rep = app.other_browser();
    rep.login("admin@solo.test", crate::helpers::PASSWORD).await;
    let accept = format!("/console/sessions/{}/accept", session.id);
    let accepted = rep.submit("/console", &accept, &[]).await;
    assert_eq!(accepted.status(), 303, "{}", accepted.text().await.unwrap());
    let (status, page) = app.get_text(&waiting).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("data-testid=\"queue-position\""),
        "no longer waiting"
    );
}

async fn profiles_download_publicly_or_with_a_one_time_key(backend: Backend) {
    use store::extras::NewIosProfile;
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let plist = b"<?xml version=\"1.0\"?><plist><dict><key>PayloadContent</key></dict></plist>";
    let public = app
        .store
        .add_ios_profile(
            p.org,
            p.site,
            &NewIosProfile {
                name: "Wi-Fi",
                description: "Office",
                public: true,
                content: plist,
            },
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    let private = app
        .store
        .add_ios_profile(
            p.org,
            p.site,
            &NewIosProfile {
                name: "VPN",
                description: "",
                public: false,
                content: plist,
            },
            now(),
        )
        .await
        .unwrap()
        .unwrap();

    let (_, home) = app.get_text("/p/help").await;
    assert_eq!(home.matches("data-testid=\"profile-link\"").count(), 2);
    assert!(home.contains("data-testid=\"profile-key-input\""));
    let response = app.get(&format!("/p/help/profiles/{public}")).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("Wi-Fi.mobileconfig"));
    assert_eq!(response.bytes().await.unwrap().as_ref(), plist);
    assert_eq!(
        app.get(&format!("/p/help/profiles/{private}"))
            .await
            .status(),
        404,
        "private needs a key"
    );

    let action = format!("/p/help/profiles/{private}");
    let response = app
        .submit("/p/help", &action, &[("access_key", "314159265")])
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This profile key is not valid or has expired."));
    p.key("314159265", KeyTarget::Profile(private), 900).await;
    let response = app
        .submit("/p/help", &action, &[("access_key", "314159265")])
        .await;
    assert_eq!(
        response.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let response = app
        .submit("/p/help", &action, &[("access_key", "314159265")])
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This profile key is not valid or has expired."),
        "one use"
    );
}

async fn pages_follow_the_visitors_language_and_unknown_sites_are_404(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let german = app.get_text_in("/p/help", "de").await;
    assert!(
        german.contains("<html lang=\"de\">")
            && german.contains("Wie können wir helfen?")
            && !german.contains("Gerät")
    );
    let rep_form = app
        .get_text_in(&format!("/p/help/rep/{}", p.rep), "de")
        .await;
    assert!(
        rep_form.contains("Gerät"),
        "custom field labels in the visitor's language"
    );
    // An explicit choice wins over the browser's and is remembered.
    let english = app.get_text_in("/p/help?lang=en", "de").await;
    assert!(english.contains("How can we help?"));
    let still = app.get_text_in("/p/help", "de").await;
    assert!(
        still.contains("How can we help?"),
        "the cookie remembers the switch"
    );

    let fresh = app.other_browser();
    let response = fresh
        .client
        .get(fresh.url("/p/nowhere"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Seite nicht gefunden"));
}

impl Portal {
    /// Bind `host` to the site, proven (as a DNS check or an instance admin would).
    pub async fn bind_hostname(&self, host: &str) {
        let store = &self.app.store;
        let hosts = [host.to_owned()];
        let challenge = || "test".to_owned();
        store
            .set_site_hostnames(self.org, self.site, &hosts, now(), challenge)
            .await
            .unwrap();
        let proven = store.verify_hostname(self.org, self.site, host, "dns", now());
        assert!(proven.await.unwrap());
    }

    /// Whether a request for `/` on `host` shows this site.
    async fn served_on(&self, host: &str) -> bool {
        let app = &self.app;
        let port = app.address.rsplit(':').next().unwrap();
        let page = app
            .client
            .get(app.url("/"))
            .header("host", format!("{host}:{port}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        page.contains("Acme Help") && page.contains("data-testid=\"rep-option\"")
    }
}

/// The site admin page's form as `portal_app` made the site, with the `changed` fields instead.
pub fn site_form<'a>(changed: &[(&'static str, &'a str)]) -> Vec<(&'static str, &'a str)> {
    let mut fields = vec![
        ("name", "Acme Help"),
        ("slug", "help"),
        ("hostnames", ""),
        ("methods", "rep_list"),
        ("methods", "contact_button"),
        ("methods", "issue_form"),
        ("start_as", "web_chat"),
        ("ask_for", "issue_type"),
        ("company", "optional"),
        ("company_code", "hidden"),
        ("description", "optional"),
        ("accent_colour", "#1d4ed8"),
    ];
    fields.retain(|(name, _)| !changed.iter().any(|(c, _)| c == name));
    fields.extend_from_slice(changed);
    fields
}

fn text_of_testid(html: &str, testid: &str) -> String {
    let at = html.find(&format!("data-testid=\"{testid}\">")).unwrap();
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find('<').unwrap();
    rest[start..end].to_owned()
}

async fn a_hostname_serves_its_site_only_once_proven(backend: Backend) {
    let dns = crate::dns::Nameserver::start().await;
    let app = spawn_app_with(backend, |c| c.server.dns_server = Some(dns.addr)).await;
    let p = portal_app(app).await;
    let (app, host) = (&p.app, "help.acme.test");
    app.login("admin@acme.test", crate::helpers::PASSWORD).await;
    let page = &format!("/admin/sites/{}", p.site);
    let save = |hosts: &'static str| async move {
        let fields = site_form(&[("hostnames", hosts)]);
        let response = app.submit(page, page, &fields).await;
        (response.status().as_u16(), response.text().await.unwrap())
    };

    // The instance's own host (and its global key page) cannot be taken.
    let (status, html) = save("127.0.0.1").await;
    assert_eq!(status, 422);
    assert!(
        html.contains("127.0.0.1 is this server&#x27;s own address"),
        "{html}"
    );

    // A claim waits for proof; meanwhile the host shows nothing of the site.
    let (status, html) = save(host).await;
    assert_eq!(
        status,
        200,
        "{}",
        html.lines()
            .filter(|l| l.contains("class=\"error\""))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(html.contains("waiting for proof"));
    assert!(!p.served_on(host).await);
    let (record, value) = (
        text_of_testid(&html, "hostname-record-name"),
        text_of_testid(&html, "hostname-record-value"),
    );
    assert_eq!(record, "_supportal-challenge.help.acme.test");

    // Another organization may claim the same name (a squatter cannot block the owner).
    let (globex, _) = app.org_with_admin("globex").await;
    let slug = domain::text::Slug::parse("globex").unwrap();
    let other = app
        .store
        .create_site(globex, &name("Globex Help"), &slug, now())
        .await
        .unwrap();
    let hosts = [host.to_owned()];
    app.store
        .set_site_hostnames(globex, other, &hosts, now(), || "globex".repeat(5))
        .await
        .unwrap();

    // Checked before the record exists: told what is missing. A record with another value
    // (here the squatter's) proves nothing.
    let check = || async {
        let action = format!("{page}/hostnames/check");
        let response = app.submit(page, &action, &[("hostname", host)]).await;
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, html) = check().await;
    assert_eq!(status, 422);
    assert!(html.contains("No TXT record _supportal-challenge.help.acme.test"));
    dns.set_txt(
        &record,
        "supportal-verification=globexglobexglobexglobexglobex",
    );
    assert_eq!(check().await.0, 422);
    assert!(!p.served_on(host).await);

    // With the record the site's own claim names, the check proves it and the host serves it.
    dns.set_txt(&record, &value);
    let (status, html) = check().await;
    assert_eq!(status, 200);
    assert!(html.contains("help.acme.test is verified"), "{html}");
    assert!(p.served_on(host).await);
    assert!(
        app.store.site_hostnames(other).await.unwrap().is_empty(),
        "the other claim is gone"
    );
    let again = app
        .store
        .set_site_hostnames(globex, other, &hosts, now(), || "x".into())
        .await;
    assert!(matches!(again, Err(store::StoreError::Conflict(_))));

    // A name whose DNS the organization cannot change: the instance admin approves it.
    let (_, html) = save("help.acme.test\nsupport.acme.test").await;
    assert!(html.contains("waiting for proof"));
    let root = app.other_browser();
    app.add_instance_admin(p.org, "root@acme.test").await;
    root.login("root@acme.test", crate::helpers::PASSWORD).await;
    let (_, list) = root.get_text("/admin/organizations").await;
    assert!(
        list.contains("data-hostname=\"support.acme.test\""),
        "{list}"
    );
    let fields = [
        ("org", p.org.to_string()),
        ("site", p.site.to_string()),
        ("hostname", "support.acme.test".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = root
        .submit("/admin/organizations", "/admin/hostnames/approve", &fields)
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("support.acme.test approved"));
    assert!(p.served_on("support.acme.test").await);
    assert!(
        p.served_on(host).await,
        "saving the list kept the proven one"
    );
    // An organization's admin cannot approve their own claims.
    let response = app.submit(page, "/admin/hostnames/approve", &fields).await;
    assert_eq!(response.status(), 403);
}

async fn a_reps_status_decides_whether_customers_can_pick_them(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let rep = app.other_browser();
    rep.login("riley@acme.test", crate::helpers::PASSWORD).await;
    let response = rep
        .submit("/account", "/account/presence", &[("presence", "away")])
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Your status was changed."));
    assert!(
        !app.get_text("/p/help")
            .await
            .1
            .contains("data-testid=\"rep-option\""),
        "away: not listed"
    );
    rep.submit(
        "/account",
        "/account/presence",
        &[("presence", "available")],
    )
    .await;
    assert!(
        app.get_text("/p/help")
            .await
            .1
            .contains("data-testid=\"rep-option\""),
        "available: listed"
    );
    let response = rep
        .submit(
            "/account",
            "/account/presence",
            &[("presence", "invisible")],
        )
        .await;
    assert_eq!(response.status(), 422);
}

async fn ask(browser: &TestApp, name: &str) -> reqwest::Response {
    browser
        .submit("/p/help", "/p/help/contact", &[("customer_name", name)])
        .await
}

async fn support_requests_are_limited_per_browser_and_address(backend: Backend) {
    let p = portal_app(
        spawn_app_with(backend, |c| {
            c.server.behind_proxy = true;
            c.security.session_requests_per_browser_per_hour = 2;
            c.security.session_requests_per_ip_per_hour = 3;
        })
        .await,
    )
    .await;
    let waiting = || async { p.app.store.line(p.org, Queue::General).await.unwrap().len() };
    let office = "203.0.113.7";

    // A second tab of a waiting customer goes back to the first waiting page; nothing new waits.
    let alice = p.app.browser_at(office);
    let first = location(&ask(&alice, "Alice").await);
    assert_eq!(location(&ask(&alice, "Alice again").await), first);
    assert_eq!(waiting().await, 1);

    // Once that request is over, the browser may ask again, within its allowance.
    alice.submit(&first, &format!("{first}/cancel"), &[]).await;
    let second = location(&ask(&alice, "Alice").await);
    assert_ne!(second, first);
    alice
        .submit(&second, &format!("{second}/cancel"), &[])
        .await;
    let refused = ask(&alice, "Alice Third").await;
    assert_eq!(refused.status(), 429);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"request-refused\"")
            && page.contains("Too many requests for help from here. Please try again in"),
        "{page}"
    );
    assert!(
        page.contains("value=\"Alice Third\""),
        "what was typed stays"
    );

    // The office's address allows three in all: Bob gets the last, Carol waits.
    let bob = p.app.browser_at(office);
    assert_eq!(ask(&bob, "Bob").await.status(), 303);
    let carol = p.app.browser_at(office);
    assert_eq!(ask(&carol, "Carol").await.status(), 429);
    assert_eq!(waiting().await, 1, "only Bob waits");
    // Another address is not held back by this one.
    let dave = p.app.browser_at("198.51.100.3");
    assert_eq!(ask(&dave, "Dave").await.status(), 303);
}

/// The help button opens the portal with `resume=1`: a customer still waiting on the site (who
/// closed the panel or window, or went on to another page of the shop) is taken back to their
/// waiting page instead of a new form; nobody else is, and nobody once the session is over.
async fn the_help_button_takes_a_waiting_customer_back_to_their_page(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let customer = p.app.other_browser();
    let button = "/p/help?lang=en&from=https%3A%2F%2Fshop.example%2F&resume=1";
    assert_eq!(
        customer.get(button).await.status(),
        200,
        "nothing to go back to"
    );
    let asked = customer
        .submit("/p/help", "/p/help/contact", &[("customer_name", "Quinn")])
        .await;
    let location = |r: &reqwest::Response| {
        let value = r.headers().get("location").expect("a redirect");
        value.to_str().unwrap().to_owned()
    };
    let waiting = location(&asked);
    let again = customer.get(button).await;
    assert_eq!(again.status(), 303);
    assert_eq!(location(&again), waiting, "back to the same conversation");
    // Not asked to: the first page as always; another browser: the first page too.
    assert_eq!(customer.get("/p/help").await.status(), 200);
    assert_eq!(p.app.other_browser().get(button).await.status(), 200);
    // Once the customer has left the queue, there is nothing to go back to.
    customer
        .submit(&waiting, &format!("{waiting}/cancel"), &[])
        .await;
    assert_eq!(customer.get(button).await.status(), 200);
}

/// Opened from a page that embeds the help button, the home page's links to a rep and to the
/// issue form carry the customer's name and the page's address on: those forms start filled
/// in, and the rep still learns which page the customer came from.
async fn links_from_an_embedded_home_page_carry_the_page_on(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let page = "https://shop.example/cart?item=7";
    let unescape = |s: &str| s.replace("&amp;", "&").replace("&#x2f;", "/");
    let customer = p.app.other_browser();
    let home_path = format!("/p/help?name=Quinn&from={}", urlencoding(page));
    let (_, home) = customer.get_text(&home_path).await;
    let href_of = |testid: &str, starts: &str| -> String {
        let at = home
            .find(starts)
            .unwrap_or_else(|| panic!("a link to {starts} ({testid})"));
        unescape(home[at..].split('"').next().unwrap())
    };
    let rep_link = href_of("rep-option", &format!("/p/help/rep/{}?", p.rep));
    let issue_link = href_of("open-issue-form", "/p/help/request?");
    let expected = format!("?name=Quinn&from={}", urlencoding(page));
    assert!(rep_link.ends_with(&expected), "{rep_link}");
    assert!(issue_link.ends_with(&expected), "{issue_link}");

    let came_from = |session: &SupportSession| {
        let fields: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&session.fields).unwrap();
        fields.get(domain::intake::EMBEDDED_FROM).cloned()
    };
    // The form as the link opens it: the name filled in, the page kept in a hidden field.
    for (link, extra) in [
        (&rep_link, vec![("field_device", "Laptop".to_owned())]),
        (
            &issue_link,
            vec![
                ("issue_type", p.issue.to_string()),
                ("field_device", "Phone".into()),
            ],
        ),
    ] {
        let (status, form) = customer.get_text(link).await;
        assert_eq!(status, 200);
        let form = unescape(&form);
        assert!(
            form.contains("value=\"Quinn\""),
            "the name is filled in: {link}"
        );
        assert!(
            form.contains(&format!("name=\"page_url\" value=\"{page}\"")),
            "{link}"
        );
        let action = link.split('?').next().unwrap();
        let mut fields: Vec<(&str, String)> =
            vec![("customer_name", "Quinn".into()), ("page_url", page.into())];
        fields.extend(extra);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = customer.submit(link, action, &fields).await;
        assert_eq!(response.status(), 303, "{link}");
        let session = p.session_at(&location(&response)).await;
        assert_eq!(came_from(&session).as_deref(), Some(page), "{link}");
    }
}

/// `value` percent-encoded for a query string.
fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

on_both_backends!(
    links_from_an_embedded_home_page_carry_the_page_on,
    the_help_button_takes_a_waiting_customer_back_to_their_page,
    wrong_keys_from_many_addresses_meet_the_portals_ceiling,
    support_requests_are_limited_per_browser_and_address,
    a_reps_status_decides_whether_customers_can_pick_them,
    each_start_method_queues_the_customer_where_it_should,
    the_waiting_page_shows_position_and_lets_the_customer_cancel,
    bad_input_comes_back_beside_the_field_with_everything_kept,
    a_closed_site_offers_only_key_entry,
    notices_show_inside_their_window_only,
    key_problems_are_told_without_telling_which_keys_exist,
    key_entry_is_rate_limited_per_address,
    a_key_of_another_organization_is_handled_like_the_global_page,
    profiles_download_publicly_or_with_a_one_time_key,
    a_key_of_an_organization_without_a_site_works_on_the_global_page,
    pages_follow_the_visitors_language_and_unknown_sites_are_404,
    a_hostname_serves_its_site_only_once_proven,
);
