#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test
//! The store's story suite. Every story runs on SQLite and on PostgreSQL: the test names
//! `sqlite::…` and `postgres::…` in the output show both backends ran.

use domain::rep::Presence;
use domain::session::{Outcome, Queue, SessionEvent, StartMethod, Status};
use domain::text::{DisplayName, Email, Slug};
use domain::{OrgId, Role, SessionId, Timestamp, UserId};
use store::orgs::NewOrganization;
use store::support::{Claim, NewSupportSession};
use store::users::{NewUser, UserUpdate};
use store::{Backend, Store, StoreError};

const T0: Timestamp = Timestamp(1_700_000_000_000);

async fn store(backend: Backend) -> Store {
    store::testing::fresh_store(backend)
        .await
        .expect("fresh test database")
}

fn name(s: &str) -> DisplayName {
    DisplayName::parse(s).unwrap()
}

async fn org_with_admin(store: &Store, slug: &str) -> (OrgId, UserId) {
    let email = Email::parse(&format!("admin@{slug}.test")).unwrap();
    let org_name = name(slug);
    let slug = Slug::parse(slug).unwrap();
    let admin_name = name("Admin");
    let admin = NewUser {
        email: &email,
        display_name: &admin_name,
        role: Role::Admin,
        password_hash: "hash",
        is_instance_admin: false,
        session_limit: 3,
    };
    store
        .create_organization(
            &NewOrganization {
                name: &org_name,
                slug: &slug,
            },
            &admin,
            T0,
        )
        .await
        .unwrap()
}

async fn add_rep(store: &Store, org: OrgId, email: &str) -> UserId {
    let email = Email::parse(email).unwrap();
    let rep_name = name("Rep");
    let rep = NewUser {
        email: &email,
        display_name: &rep_name,
        role: Role::Rep,
        password_hash: "hash",
        is_instance_admin: false,
        session_limit: 3,
    };
    store.create_user(org, &rep, T0).await.unwrap()
}

/// A message from the customer Cleo in English, with the client id its page gave it.
fn cleo_says(
    org: OrgId,
    session: SessionId,
    client_id: &str,
    body: &str,
) -> store::chat::NewMessage {
    store::chat::NewMessage {
        org,
        session,
        sender: store::chat::Sender::Customer,
        sender_name: "Cleo".into(),
        client_id: client_id.into(),
        body: body.into(),
        language: "en",
        translations: "{}".into(),
        customer_language: None,
        file: None,
    }
}

fn waiting_in(queue: Queue, capability: &str) -> NewSupportSession<'_> {
    static EMPTY: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    NewSupportSession {
        site: None,
        start_method: StartMethod::ContactButton,
        queue,
        issue_type: None,
        customer_name: "Cleo Customer",
        company: Some("Acme"),
        company_code: None,
        description: Some("Printer on fire"),
        fields: EMPTY.get_or_init(|| serde_json::json!({})),
        language: "en",
        verified: false,
        verified_by: None,
        verified_attributes: None,
        capability_digest: capability,
        routing_reason: "contact button: general queue",
    }
}

async fn organizations_and_their_first_admin(backend: Backend) {
    let store = store(backend).await;
    assert_eq!(store.count_organizations().await.unwrap(), 0);
    let (org, admin) = org_with_admin(&store, "acme").await;
    assert_eq!(store.count_organizations().await.unwrap(), 1);

    let (user, hash) = store
        .credentials(&Email::parse("ADMIN@acme.test").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.id, user.org_id, user.role, hash.as_str()),
        (admin, org, Role::Admin, "hash")
    );
    assert!(user.active);

    // Same slug again: refused, and nothing half-created (the admin's email stays free).
    let again = store
        .create_organization(
            &NewOrganization {
                name: &name("Other"),
                slug: &Slug::parse("acme").unwrap(),
            },
            &NewUser {
                email: &Email::parse("someone@else.test").unwrap(),
                display_name: &name("X"),
                role: Role::Admin,
                password_hash: "h",
                is_instance_admin: false,
                session_limit: 3,
            },
            T0,
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(store
        .credentials(&Email::parse("someone@else.test").unwrap())
        .await
        .unwrap()
        .is_none());

    // An email is unique across the whole instance.
    let (other_org, _) = org_with_admin(&store, "globex").await;
    let dup = store
        .create_user(
            other_org,
            &NewUser {
                email: &Email::parse("admin@acme.test").unwrap(),
                display_name: &name("Dup"),
                role: Role::Rep,
                password_hash: "h",
                is_instance_admin: false,
                session_limit: 3,
            },
            T0,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));

    assert!(store
        .update_organization(
            org,
            &name("Acme Inc"),
            5,
            store::orgs::KeySettings {
                digits: 7,
                max_validity_minutes: 240,
            },
        )
        .await
        .unwrap());
    let acme = store.organization(org).await.unwrap().unwrap();
    assert_eq!(
        (
            acme.name.as_str(),
            acme.default_session_limit,
            acme.key_digits,
            acme.key_max_validity_minutes
        ),
        ("Acme Inc", 5, 7, 240)
    );
    assert_eq!(store.organizations().await.unwrap().len(), 2);
}

async fn users_are_only_reachable_through_their_organization(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;

    assert!(store.user(acme, rep).await.unwrap().is_some());
    assert!(store.user(globex, rep).await.unwrap().is_none());
    assert_eq!(
        store.users(globex).await.unwrap().len(),
        1,
        "only globex's admin"
    );

    let update = UserUpdate {
        display_name: &name("Renamed"),
        title: Some("Tier 2"),
        role: Role::Admin,
        active: false,
        session_limit: 7,
    };
    assert!(
        !store.update_user(globex, rep, &update).await.unwrap(),
        "foreign org cannot update"
    );
    assert_eq!(
        store.user(acme, rep).await.unwrap().unwrap().display_name,
        "Rep"
    );
    assert!(store.update_user(acme, rep, &update).await.unwrap());
    let updated = store.user(acme, rep).await.unwrap().unwrap();
    assert_eq!(
        (
            updated.display_name.as_str(),
            updated.title.as_deref(),
            updated.role,
            updated.active,
            updated.session_limit
        ),
        ("Renamed", Some("Tier 2"), Role::Admin, false, 7)
    );
    assert_eq!(store.count_active_admins(acme).await.unwrap(), 1);
}

async fn teams_and_memberships_stay_within_an_organization(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let support = store.create_team(acme, &name("Support"), T0).await.unwrap();
    let billing = store.create_team(acme, &name("Billing"), T0).await.unwrap();
    let foreign = store
        .create_team(globex, &name("Support"), T0)
        .await
        .unwrap();
    assert!(matches!(
        store.create_team(acme, &name("Support"), T0).await,
        Err(StoreError::Conflict(_))
    ));

    let rep = add_rep(&store, acme, "rep@acme.test").await;
    store
        .set_user_teams(acme, rep, &[support, billing, foreign])
        .await
        .unwrap();
    assert_eq!(
        store.user_team_ids(acme, rep).await.unwrap(),
        vec![support, billing]
    );
    store.set_user_teams(acme, rep, &[billing]).await.unwrap();
    assert_eq!(store.user_team_ids(acme, rep).await.unwrap(), vec![billing]);

    let teams = store.teams(acme).await.unwrap();
    let counts: Vec<_> = teams
        .iter()
        .map(|t| (t.name.as_str(), t.member_count))
        .collect();
    assert_eq!(counts, vec![("Billing", 1), ("Support", 0)]);
    assert_eq!(store.team_members(acme, billing).await.unwrap()[0].id, rep);
    assert!(store.team(globex, support).await.unwrap().is_none());
    assert!(!store
        .rename_team(globex, support, &name("Hijacked"))
        .await
        .unwrap());
    assert!(!store.delete_team(globex, support).await.unwrap());

    // Issue types route to a team of the same organization only.
    let code = Slug::parse("printers").unwrap();
    assert!(store
        .create_issue_type(acme, foreign, &name("Printers"), &code)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .create_issue_type(acme, support, &name("Printers"), &code)
        .await
        .unwrap()
        .is_some());
    assert_eq!(store.issue_types(acme).await.unwrap()[0].team_id, support);
    assert!(store.issue_types(globex).await.unwrap().is_empty());

    assert!(store.delete_team(acme, support).await.unwrap());
    assert!(
        store.issue_types(acme).await.unwrap().is_empty(),
        "issue types go with their team"
    );
}

async fn web_sessions_end_on_expiry_deactivation_and_sign_out(backend: Backend) {
    let store = store(backend).await;
    let (acme, admin) = org_with_admin(&store, "acme").await;
    let later = T0.plus_seconds(3600);
    store
        .create_web_session("d1", admin, T0, later)
        .await
        .unwrap();
    store
        .create_web_session("d2", admin, T0, later)
        .await
        .unwrap();
    assert_eq!(
        store.signed_in_user("d1", T0).await.unwrap().unwrap().id,
        admin
    );
    assert!(
        store.signed_in_user("d1", later).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.signed_in_user("nope", T0).await.unwrap().is_none());

    assert_eq!(
        store
            .delete_other_web_sessions(admin, Some("d1"))
            .await
            .unwrap(),
        1
    );
    assert!(store.signed_in_user("d2", T0).await.unwrap().is_none());

    let user = store.user(acme, admin).await.unwrap().unwrap();
    let deactivate = UserUpdate {
        display_name: &name(&user.display_name),
        title: None,
        role: user.role,
        active: false,
        session_limit: 3,
    };
    store.update_user(acme, admin, &deactivate).await.unwrap();
    assert!(
        store.signed_in_user("d1", T0).await.unwrap().is_none(),
        "deactivated users are signed out"
    );

    store.delete_web_session("d1").await.unwrap();
    assert_eq!(store.delete_expired_web_sessions(later).await.unwrap(), 0);
}

async fn the_setup_token_works_once(backend: Backend) {
    let store = store(backend).await;
    store.replace_setup_token("old", T0).await.unwrap();
    store.replace_setup_token("tok", T0).await.unwrap();
    assert!(
        !store.setup_token_valid("old").await.unwrap(),
        "a new start replaces the token"
    );
    assert!(store.setup_token_valid("tok").await.unwrap());

    let (org_name, slug) = (name("First"), Slug::parse("first").unwrap());
    let (email, admin_name) = (Email::parse("boss@first.test").unwrap(), name("Boss"));
    let admin = NewUser {
        email: &email,
        display_name: &admin_name,
        role: Role::Admin,
        password_hash: "h",
        is_instance_admin: true,
        session_limit: 3,
    };
    let org = NewOrganization {
        name: &org_name,
        slug: &slug,
    };
    assert!(store
        .complete_setup("wrong", &org, &admin, T0)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .complete_setup("tok", &org, &admin, T0)
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .complete_setup("tok", &org, &admin, T0)
            .await
            .unwrap()
            .is_none(),
        "used up"
    );
    assert!(!store.setup_token_valid("tok").await.unwrap());
    assert_eq!(store.count_organizations().await.unwrap(), 1);
}

async fn fifty_concurrent_claims_have_exactly_one_winner(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let mut reps = Vec::new();
    for i in 0..50 {
        reps.push(add_rep(&store, acme, &format!("rep{i}@acme.test")).await);
    }
    let (session, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "cap1"), T0)
        .await
        .unwrap();

    assert!(
        store
            .claim_session(globex, session, reps[0], 5, T0)
            .await
            .unwrap()
            .won()
            .is_none(),
        "foreign org"
    );

    let claims = reps.iter().map(|rep| {
        let store = store.clone();
        let rep = *rep;
        tokio::spawn(async move { store.claim_session(acme, session, rep, 5, T0).await })
    });
    let results = futures::future::join_all(claims).await;
    let winners: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .filter(|claim| claim.won().is_some())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins");

    let row = store.support_session(acme, session).await.unwrap().unwrap();
    assert_eq!(row.state, Status::Active);
    let accepted: Vec<_> = store
        .session_events(acme, session)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "accepted")
        .collect();
    assert_eq!(accepted.len(), 1, "one accepted event, for the winner");
    let SessionEvent::Accepted { rep } = accepted[0].event().unwrap() else {
        panic!("not an accept")
    };
    assert_eq!(row.owner_user_id, Some(rep.0));
}

async fn concurrent_claims_by_one_rep_stay_within_their_limit(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let mut sessions = Vec::new();
    for i in 0..6 {
        let cap = format!("limit{i}");
        let (id, _) = store
            .create_support_session(acme, &waiting_in(Queue::General, &cap), T0)
            .await
            .unwrap();
        sessions.push(id);
    }
    // Six tabs of one rep with a limit of 2, all at once.
    let claims = sessions.iter().map(|id| {
        let (store, id) = (store.clone(), *id);
        tokio::spawn(async move { store.claim_session(acme, id, rep, 2, T0).await })
    });
    let results: Vec<Claim> = futures::future::join_all(claims)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|c| c.won().is_some()).count(), 2);
    assert!(results
        .iter()
        .all(|c| c.won().is_some() || matches!(c, Claim::AtLimit { held: 2 })));
    assert_eq!(store.owned_session_count(acme, rep).await.unwrap(), 2);
}

async fn a_silent_console_takes_its_rep_offline_once(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let team = store.create_team(acme, &name("Support"), T0).await.unwrap();
    let (session, _) = store
        .create_support_session(acme, &waiting_in(Queue::Team(team), "gone"), T0)
        .await
        .unwrap();
    store.console_seen(acme, rep, true, T0).await.unwrap();
    assert_eq!(
        store.user(acme, rep).await.unwrap().unwrap().presence,
        Presence::Available,
        "an open console makes an offline rep available"
    );
    store
        .claim_session(acme, session, rep, 5, T0)
        .await
        .unwrap()
        .won()
        .unwrap();
    let reason = |name: &str| format!("{name} left");
    let later = T0.plus_seconds(60);
    assert!(
        store
            .sweep_silent_reps(T0, reason, later)
            .await
            .unwrap()
            .is_empty(),
        "seen at the cut-off: not silent yet"
    );
    // Two nodes sweep at once: one takes the rep offline and requeues, the other finds nothing.
    let (a, b) = tokio::join!(
        store.sweep_silent_reps(T0.plus_seconds(1), reason, later),
        store.sweep_silent_reps(T0.plus_seconds(1), reason, later)
    );
    let gone: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].requeued.len(), 1);
    assert_eq!(
        gone[0].requeued[0].2,
        Queue::Team(team),
        "back where it came from"
    );
    let row = store.support_session(acme, session).await.unwrap().unwrap();
    assert_eq!((row.state, row.owner_user_id), (Status::Waiting, None));
    let requeues = store
        .session_events(acme, session)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "requeued")
        .count();
    assert_eq!(requeues, 1, "requeued exactly once");
    assert_eq!(
        store.user(acme, rep).await.unwrap().unwrap().presence,
        Presence::Offline
    );
}

async fn each_session_numbers_its_own_events_without_gaps(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let (a, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "a"), T0)
        .await
        .unwrap();
    let (b, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "b"), T0)
        .await
        .unwrap();
    store
        .claim_session(acme, a, rep, 5, T0)
        .await
        .unwrap()
        .won()
        .unwrap();
    store
        .requeue_session(acme, a, rep, Queue::General, "back", T0)
        .await
        .unwrap()
        .unwrap();
    store
        .claim_session(acme, b, rep, 5, T0)
        .await
        .unwrap()
        .won()
        .unwrap();
    let numbers = |id| {
        let store = store.clone();
        async move {
            let events = store.session_events(acme, id).await.unwrap();
            events
                .iter()
                .map(|e| e.session_seq.unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(numbers(a).await, vec![1, 2, 3], "a's own numbers, gap-free");
    assert_eq!(numbers(b).await, vec![1, 2], "b counts on its own");
}

async fn the_event_log_is_ordered_and_resumable(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let team = store.create_team(acme, &name("Support"), T0).await.unwrap();

    let (a, seq_a) = store
        .create_support_session(acme, &waiting_in(Queue::Team(team), "a"), T0)
        .await
        .unwrap();
    let (b, seq_b) = store
        .create_support_session(acme, &waiting_in(Queue::Personal(rep), "b"), T0)
        .await
        .unwrap();
    store
        .create_support_session(globex, &waiting_in(Queue::General, "c"), T0)
        .await
        .unwrap();
    assert_eq!(
        (seq_a.seq, seq_b.seq, seq_a.kind),
        (1, 2, "queued"),
        "sequence numbers are per organization; the kind is the stored event's"
    );

    assert_eq!(
        store
            .support_session(acme, a)
            .await
            .unwrap()
            .unwrap()
            .session_state()
            .unwrap(),
        domain::session::SessionState::Waiting {
            queue: Queue::Team(team)
        }
    );
    let claim = store
        .claim_session(acme, a, rep, 5, T0.plus_seconds(5))
        .await
        .unwrap()
        .won()
        .unwrap();
    assert!(
        store
            .end_session(acme, a, Outcome::Resolved, Some(UserId(9_999)), None, T0)
            .await
            .unwrap()
            .is_none(),
        "not the owner"
    );
    let ended = store
        .end_session(
            acme,
            a,
            Outcome::Resolved,
            Some(rep),
            Some("fixed"),
            T0.plus_seconds(60),
        )
        .await
        .unwrap()
        .unwrap();
    let cancelled = store
        .end_session(acme, b, Outcome::Abandoned, None, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .end_session(acme, b, Outcome::Abandoned, None, None, T0)
            .await
            .unwrap()
            .is_none(),
        "already ended"
    );
    assert_eq!((claim.seq, ended.seq, cancelled.seq), (3, 4, 5));
    assert_eq!(
        (claim.kind, ended.kind, cancelled.kind),
        ("accepted", "ended", "ended")
    );

    let resumed: Vec<_> = store
        .events_after(acme, 2, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.seq, e.kind.clone()))
        .collect();
    assert_eq!(
        resumed,
        vec![
            (3, "accepted".into()),
            (4, "ended".into()),
            (5, "ended".into())
        ]
    );
    assert_eq!(
        store.events_after(acme, 0, 2).await.unwrap().len(),
        2,
        "limit respected"
    );

    let log = store.session_events(acme, a).await.unwrap();
    let first = log[0].event().unwrap();
    assert_eq!(
        first,
        SessionEvent::Queued {
            queue: Queue::Team(team),
            reason: "contact button: general queue".into()
        }
    );
    assert_eq!(log.len(), 3);
    assert!(store.session_events(globex, a).await.unwrap().is_empty());
    assert!(store
        .support_session(globex, SessionId(a.0))
        .await
        .unwrap()
        .is_none());
    assert!(
        matches!(
            store
                .create_support_session(acme, &waiting_in(Queue::General, "a"), T0)
                .await,
            Err(StoreError::Conflict(_))
        ),
        "capabilities are unique"
    );
}

async fn the_audit_log_keeps_who_did_what(backend: Backend) {
    let store = store(backend).await;
    let (acme, admin) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    store
        .record_audit(Some(acme), Some(admin), "team.created", "Support", T0)
        .await
        .unwrap();
    store
        .record_audit(Some(acme), None, "login.failed", "x@acme.test", T0)
        .await
        .unwrap();
    let entries = store.audit_entries(acme, 10).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, "login.failed", "newest first");
    assert_eq!(entries[1].actor_name.as_deref(), Some("Admin"));
    assert!(store.audit_entries(globex, 10).await.unwrap().is_empty());
}

async fn migrations_are_idempotent_and_the_database_answers(backend: Backend) {
    let store = store(backend).await;
    store.migrate().await.unwrap();
    assert!(store.ping().await);
    assert_eq!(store.backend(), backend);
}

async fn sites_keep_settings_hostnames_logo_fields_schedule_and_notices(backend: Backend) {
    use domain::intake::{CustomField, FieldKind};
    use domain::notice::Severity;
    use domain::schedule::Schedule;
    use domain::site::{Method, SiteSettings};
    use domain::Language;
    use store::sites::NewNotice;
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let site = store
        .create_site(acme, &name("Acme Help"), &Slug::parse("help").unwrap(), T0)
        .await
        .unwrap();
    let other = store
        .create_site(globex, &name("Globex"), &Slug::parse("globex").unwrap(), T0)
        .await
        .unwrap();

    let record = store.site_by_slug("help").await.unwrap().unwrap();
    assert_eq!(
        (record.id, record.org_id, record.org_name.as_str()),
        (site, acme, "acme")
    );
    assert_eq!(
        record.settings,
        SiteSettings::default(),
        "a new site offers every method"
    );
    let settings = SiteSettings {
        methods: [Method::SessionKey].into_iter().collect(),
        ..Default::default()
    };
    assert!(!store
        .update_site(
            globex,
            site,
            &name("X"),
            &Slug::parse("xx").unwrap(),
            &settings
        )
        .await
        .unwrap());
    assert!(store
        .update_site(
            acme,
            site,
            &name("Acme Support"),
            &Slug::parse("support").unwrap(),
            &settings
        )
        .await
        .unwrap());
    assert!(store.site_by_slug("help").await.unwrap().is_none());
    assert_eq!(
        store
            .site_by_slug("support")
            .await
            .unwrap()
            .unwrap()
            .settings,
        settings
    );
    assert!(store.site(globex, site).await.unwrap().is_none());
    assert_eq!(store.first_site(acme).await.unwrap().unwrap().id, site);

    // Hostnames are claims: pending until proven, several sites may claim one, one proves it.
    let now = T0;
    let challenge = || "c".repeat(32);
    let hosts = ["help.acme.test".to_owned(), "support.acme.test".to_owned()];
    store
        .set_site_hostnames(acme, site, &hosts, now, challenge)
        .await
        .unwrap();
    store
        .set_site_hostnames(globex, other, &hosts[..1], now, challenge)
        .await
        .unwrap();
    let bound = |host: &'static str| {
        let store = store.clone();
        async move { store.site_by_hostname(host).await.unwrap().map(|s| s.id) }
    };
    assert_eq!(bound("help.acme.test").await, None, "pending: not served");
    assert!(
        !store
            .verify_hostname(globex, site, "help.acme.test", "dns", now)
            .await
            .unwrap(),
        "only the claim's own organization proves it"
    );
    assert!(store
        .verify_hostname(acme, site, "help.acme.test", "dns", now)
        .await
        .unwrap());
    assert_eq!(bound("help.acme.test").await, Some(site));
    assert!(
        store.site_hostnames(other).await.unwrap().is_empty(),
        "the other pending claim is gone"
    );
    assert!(matches!(
        store
            .set_site_hostnames(globex, other, &hosts[..1], now, challenge)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let pending = store.pending_hostname_claims().await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|c| c.hostname.as_str())
            .collect::<Vec<_>>(),
        ["support.acme.test"]
    );
    // Saving the list again keeps what was proven; dropping a hostname unbinds it.
    store
        .set_site_hostnames(acme, site, &hosts, now, challenge)
        .await
        .unwrap();
    assert_eq!(bound("help.acme.test").await, Some(site));
    store
        .set_site_hostnames(acme, site, &hosts[1..], now, challenge)
        .await
        .unwrap();
    let claims = store.site_hostnames(site).await.unwrap();
    assert_eq!(
        (
            claims.len(),
            claims[0].hostname.as_str(),
            claims[0].verified()
        ),
        (1, "support.acme.test", false)
    );
    assert_eq!(bound("help.acme.test").await, None);

    store
        .set_site_logo(acme, site, "image/png", &[1, 2, 3])
        .await
        .unwrap();
    store
        .set_site_logo(acme, site, "image/svg+xml", b"<svg/>")
        .await
        .unwrap();
    store
        .set_site_logo(globex, site, "image/png", &[9])
        .await
        .unwrap();
    assert_eq!(
        store.site_logo(site).await.unwrap(),
        Some(("image/svg+xml".into(), b"<svg/>".to_vec()))
    );

    let field = |key: &str| CustomField {
        key: key.into(),
        kind: FieldKind::Select,
        required: true,
        labels: [
            (Language::En, "Device".to_owned()),
            (Language::De, "Gerät".to_owned()),
        ]
        .into(),
        options: vec!["Phone".into(), "PC".into()],
    };
    store
        .add_custom_field(acme, site, &field("device"))
        .await
        .unwrap();
    store
        .add_custom_field(acme, site, &field("order_no"))
        .await
        .unwrap();
    assert!(matches!(
        store.add_custom_field(acme, site, &field("device")).await,
        Err(StoreError::Conflict(_))
    ));
    let fields = store.custom_fields(site).await.unwrap();
    assert_eq!(
        fields.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(),
        vec!["device", "order_no"]
    );
    assert_eq!(fields[0], field("device"));
    assert!(!store
        .delete_custom_field(globex, site, "device")
        .await
        .unwrap());
    assert!(store
        .delete_custom_field(acme, site, "device")
        .await
        .unwrap());

    assert_eq!(store.schedule(site).await.unwrap(), None);
    let mut schedule = Schedule::always_open("Europe/Berlin");
    schedule
        .holidays
        .push(domain::schedule::Holiday::parse("2026-12-25 closed").unwrap());
    store
        .set_schedule(acme, site, Some(&schedule))
        .await
        .unwrap();
    assert_eq!(store.schedule(site).await.unwrap(), Some(schedule));
    store.set_schedule(acme, site, None).await.unwrap();
    assert_eq!(store.schedule(site).await.unwrap(), None);

    let texts = [(Language::En, "Outage".to_owned())].into();
    let notice = NewNotice {
        name: &name("Mail down"),
        severity: Severity::Outage,
        texts: &texts,
        starts_at: Some(T0),
        ends_at: None,
    };
    assert!(
        store
            .create_notice(globex, site, &notice, T0)
            .await
            .unwrap()
            .is_none(),
        "not their site"
    );
    let id = store
        .create_notice(acme, site, &notice, T0)
        .await
        .unwrap()
        .unwrap();
    let notices = store.notices(site).await.unwrap();
    assert_eq!(
        (
            notices.len(),
            notices[0].severity,
            notices[0].starts_at,
            notices[0].texts.clone()
        ),
        (1, Severity::Outage, Some(T0), texts)
    );
    assert!(store.delete_notice(globex, id, T0).await.unwrap().is_none());
    assert!(store.delete_notice(acme, id, T0).await.unwrap().is_some());
}

/// Notice windows enter the organization's log once each, when they open and close: at their
/// times, ended now, or deleted while showing.
async fn notice_windows_are_logged_once_when_they_open_and_close(backend: Backend) {
    use domain::notice::Severity;
    use store::notice_log::{NOTICE_ENDED, NOTICE_STARTED};
    use store::sites::NewNotice;
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let site = store
        .create_site(acme, &name("Acme Help"), &Slug::parse("help").unwrap(), T0)
        .await
        .unwrap();
    let at = |secs: i64| Timestamp(T0.0 + secs * 1000);
    let texts = [(domain::Language::En, "Mail is down".to_owned())].into();
    let mail_down = name("Mail down");
    let notice = |starts_at, ends_at| NewNotice {
        name: &mail_down,
        severity: Severity::Outage,
        texts: &texts,
        starts_at,
        ends_at,
    };
    let kinds = |logged: Vec<store::notice_log::NoticeLogged>| -> Vec<&'static str> {
        logged.iter().map(|l| l.committed.kind).collect()
    };
    let planned = store
        .create_notice(acme, site, &notice(Some(at(10)), Some(at(20))), T0)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store.log_notice_windows(at(5)).await.unwrap().is_empty(),
        "not yet"
    );
    assert_eq!(
        kinds(store.log_notice_windows(at(10)).await.unwrap()),
        [NOTICE_STARTED]
    );
    assert!(
        store.log_notice_windows(at(11)).await.unwrap().is_empty(),
        "once"
    );
    assert_eq!(
        kinds(store.log_notice_windows(at(25)).await.unwrap()),
        [NOTICE_ENDED]
    );
    assert!(store.log_notice_windows(at(30)).await.unwrap().is_empty());

    // An outage posted now, ended now; another posted and deleted before any sweep.
    let outage = store
        .create_notice(acme, site, &notice(None, None), at(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kinds(store.log_notice_windows(at(30)).await.unwrap()),
        [NOTICE_STARTED]
    );
    assert!(store.end_notice(acme, outage, at(40)).await.unwrap());
    assert_eq!(
        kinds(store.log_notice_windows(at(40)).await.unwrap()),
        [NOTICE_ENDED]
    );
    let brief = store
        .create_notice(acme, site, &notice(None, None), at(50))
        .await
        .unwrap()
        .unwrap();
    let deleted = store
        .delete_notice(acme, brief, at(51))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kinds(deleted), [NOTICE_STARTED, NOTICE_ENDED]);
    // A notice deleted before its window opened was never news.
    let future = store
        .create_notice(acme, site, &notice(Some(at(500)), None), at(60))
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .delete_notice(acme, future, at(61))
        .await
        .unwrap()
        .unwrap()
        .is_empty());

    let log = store.events_after(acme, 0, 100).await.unwrap();
    let logged: Vec<(Option<i64>, &str)> = log
        .iter()
        .filter(|e| e.kind.starts_with("notice_"))
        .map(|e| (e.session_id, e.kind.as_str()))
        .collect();
    assert_eq!(logged.len(), 6, "{logged:?}");
    assert!(logged.iter().all(|(session, _)| session.is_none()));
    let first: serde_json::Value = serde_json::from_str(
        &log.iter()
            .find(|e| e.kind == NOTICE_STARTED)
            .unwrap()
            .payload,
    )
    .unwrap();
    assert_eq!(
        (
            first["notice_id"].as_i64(),
            first["name"].as_str(),
            first["severity"].as_str()
        ),
        (Some(planned.0), Some("Mail down"), Some("outage"))
    );
}

async fn available_reps_follow_presence_activity_and_teams(backend: Backend) {
    use domain::rep::Presence;
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let support = store.create_team(acme, &name("Support"), T0).await.unwrap();
    let billing = store.create_team(acme, &name("Billing"), T0).await.unwrap();
    let a = add_rep(&store, acme, "a@acme.test").await;
    let b = add_rep(&store, acme, "b@acme.test").await;
    let loner = add_rep(&store, acme, "c@acme.test").await;
    store.set_user_teams(acme, a, &[support]).await.unwrap();
    store.set_user_teams(acme, b, &[billing]).await.unwrap();
    assert!(
        store.available_reps(acme, &[]).await.unwrap().is_empty(),
        "everyone starts offline"
    );
    for rep in [a, b, loner] {
        store
            .set_presence(acme, rep, Presence::Available, T0)
            .await
            .unwrap();
    }
    let ids = |reps: Vec<store::users::User>| reps.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.available_reps(acme, &[]).await.unwrap()).len(),
        2,
        "only reps in a team serve customers"
    );
    assert_eq!(
        ids(store.available_reps(acme, &[billing]).await.unwrap()),
        vec![b]
    );
    assert_eq!(
        ids(store
            .available_reps(acme, &[support, billing])
            .await
            .unwrap())
        .len(),
        2
    );
    store
        .set_presence(acme, a, Presence::Away, T0)
        .await
        .unwrap();
    assert_eq!(
        ids(store.available_reps(acme, &[support]).await.unwrap()),
        Vec::<UserId>::new()
    );
    assert_eq!(
        store.user(acme, a).await.unwrap().unwrap().presence,
        Presence::Away
    );
}

async fn keys_issued_at_once_stay_within_the_cap_with_their_audit(backend: Backend) {
    use domain::session_key::SessionKey;
    use store::audit::AuditRow;
    use store::keys::{Issued, KeyTarget, NewKey};
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let tries = (0..6).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let key = SessionKey::parse(&format!("55500{i}")).unwrap();
            let new = NewKey {
                org: acme,
                rep,
                site: None,
                key: &key,
                target: KeyTarget::Support,
                expires_at: T0.plus_seconds(900),
            };
            let audit = AuditRow {
                org: Some(acme),
                actor: Some(rep),
                action: "key.issued",
                detail: "15 min",
            };
            store.issue_key(&new, 4, &audit, T0).await.unwrap()
        })
    });
    let issued: Vec<Issued> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let keys = issued
        .iter()
        .filter(|i| matches!(i, Issued::Key(_)))
        .count();
    assert_eq!(keys, 4, "six tabs at once, a cap of four");
    assert_eq!(store.live_keys(acme, rep, T0).await.unwrap().len(), 4);
    let audited = store.audit_entries(acme, 100).await.unwrap();
    let audited = audited.iter().filter(|e| e.action == "key.issued").count();
    assert_eq!(audited, 4, "one audit row per key, none for a refusal");
}

async fn a_key_opens_one_session_once(backend: Backend) {
    use domain::session_key::{KeyState, SessionKey};
    use store::keys::{KeyTarget, NewKey};
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let key = SessionKey::parse("123456789").unwrap();
    let new = NewKey {
        org: acme,
        rep,
        site: None,
        key: &key,
        target: KeyTarget::Support,
        expires_at: T0.plus_seconds(900),
    };
    let id = store.create_key(&new, T0).await.unwrap();
    assert!(
        matches!(
            store.create_key(&new, T0).await,
            Err(StoreError::Conflict(_))
        ),
        "live keys are unique"
    );
    let found = store.find_key(&key).await.unwrap().unwrap();
    assert_eq!(
        (
            found.id,
            found.rep_name.as_str(),
            found.org_name.as_str(),
            found.target()
        ),
        (id, "Rep", "acme", KeyTarget::Support)
    );
    assert_eq!(found.state(T0), KeyState::Live);
    assert_eq!(found.state(T0.plus_seconds(900)), KeyState::Expired);
    assert_eq!(store.live_keys(acme, rep, T0).await.unwrap().len(), 1);

    let customers: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let capability = format!("cap{i}");
                let mut session = waiting_in(Queue::Personal(rep), &capability);
                session.start_method = StartMethod::SessionKey;
                store
                    .create_support_session_with_key(acme, id, &session, T0)
                    .await
            })
        })
        .collect();
    let opened: Vec<_> = futures::future::join_all(customers)
        .await
        .into_iter()
        .filter_map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(opened.len(), 1, "a key opens exactly one session");
    assert_eq!(
        store.find_key(&key).await.unwrap().unwrap().state(T0),
        KeyState::Used
    );
    assert!(store.live_keys(acme, rep, T0).await.unwrap().is_empty());
    // The digits are free again for a new key once the old one is used.
    let again = store.create_key(&new, T0).await.unwrap();
    assert!(store.revoke_key(acme, rep, again, T0).await.unwrap());
    assert_eq!(
        store.find_key(&key).await.unwrap().unwrap().state(T0),
        KeyState::Revoked
    );
    assert!(
        !store.use_key(again, T0).await.unwrap(),
        "a revoked key cannot be used"
    );
}

async fn queue_positions_and_recent_waits(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let team = store.create_team(acme, &name("Support"), T0).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let (id, _) = store
            .create_support_session(
                acme,
                &waiting_in(Queue::Team(team), &format!("t{i}")),
                T0.plus_seconds(i),
            )
            .await
            .unwrap();
        ids.push(id);
    }
    store
        .create_support_session(acme, &waiting_in(Queue::General, "g"), T0)
        .await
        .unwrap();
    let position = |id| {
        let store = store.clone();
        async move {
            let s = store.support_session(acme, id).await.unwrap().unwrap();
            store.queue_position(&s).await.unwrap()
        }
    };
    assert_eq!(
        (
            position(ids[0]).await,
            position(ids[1]).await,
            position(ids[2]).await
        ),
        (1, 2, 3)
    );
    store
        .claim_session(acme, ids[0], rep, 5, T0.plus_seconds(60))
        .await
        .unwrap()
        .won()
        .unwrap();
    store
        .end_session(
            acme,
            ids[1],
            Outcome::Abandoned,
            None,
            None,
            T0.plus_seconds(61),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        position(ids[2]).await,
        1,
        "accepted and cancelled sessions leave the line"
    );
    let third = store.support_session(acme, ids[2]).await.unwrap().unwrap();
    assert_eq!(
        store.line(acme, Queue::Team(team)).await.unwrap(),
        vec![ids[2]],
        "the line agrees with the counted position"
    );
    assert_eq!(
        store
            .recent_waits(acme, third.queue().unwrap(), 20)
            .await
            .unwrap(),
        vec![60_000],
        "the accepted one waited a minute"
    );
    let by_capability = store.session_by_capability("t2").await.unwrap().unwrap();
    assert_eq!(by_capability.id, ids[2]);
}

async fn presentations_and_ios_profiles(backend: Backend) {
    use store::extras::NewIosProfile;
    let store = store(backend).await;
    let (acme, admin) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let site = store
        .create_site(acme, &name("Help"), &Slug::parse("help").unwrap(), T0)
        .await
        .unwrap();
    let p = store
        .create_presentation(acme, admin, "Quarterly demo", T0)
        .await
        .unwrap();
    let found = store.presentation(p).await.unwrap().unwrap();
    assert_eq!(
        (
            found.title.as_str(),
            found.presenter_name.as_str(),
            found.state.as_str()
        ),
        ("Quarterly demo", "Admin", "live")
    );

    let profile = NewIosProfile {
        name: "Wi-Fi",
        description: "Office network",
        public: true,
        content: b"<plist/>",
    };
    assert!(store
        .add_ios_profile(globex, site, &profile, T0)
        .await
        .unwrap()
        .is_none());
    let id = store
        .add_ios_profile(acme, site, &profile, T0)
        .await
        .unwrap()
        .unwrap();
    let listed = store.ios_profiles(site).await.unwrap();
    assert_eq!(
        (listed.len(), listed[0].size, listed[0].is_public()),
        (1, 8, true)
    );
    assert_eq!(
        store.ios_profile_content(id).await.unwrap(),
        Some(b"<plist/>".to_vec())
    );
    assert_eq!(store.ios_profile(id).await.unwrap().unwrap().1, site.0);
    assert!(!store.delete_ios_profile(globex, id).await.unwrap());
    assert!(store.delete_ios_profile(acme, id).await.unwrap());
}

async fn a_saml_answer_waits_on_its_login_and_an_assertion_counts_once(backend: Backend) {
    use store::portal_sign_in::LoginFor;
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let site = store
        .create_site(acme, &name("Help"), &Slug::parse("help").unwrap(), T0)
        .await
        .unwrap();
    let expires = T0.plus_seconds(600);
    let login = ("request-1", "", Some("/p/help"));
    let for_site = LoginFor::Site(site);
    store
        .start_sso_login("d1", for_site, login, expires)
        .await
        .unwrap();
    let pending = store.pending_sso_login("d1", T0).await.unwrap().unwrap();
    assert_eq!(
        (pending.nonce.as_str(), pending.vouched.clone()),
        ("request-1", None)
    );
    assert!(pending.is_for(for_site) && !pending.is_for(LoginFor::Staff(acme)));
    assert!(store.vouch_sso_login("d1", "{}", T0).await.unwrap());
    assert!(
        !store.vouch_sso_login("d1", "{}", T0).await.unwrap(),
        "answered once"
    );
    assert!(store
        .pending_sso_login("d1", expires)
        .await
        .unwrap()
        .is_none());
    let taken = store.take_sso_login("d1", T0).await.unwrap().unwrap();
    assert_eq!(taken.vouched.as_deref(), Some("{}"));
    assert!(store.take_sso_login("d1", T0).await.unwrap().is_none());

    // A staff login belongs to its organization; the organization keeps its settings.
    let staff = LoginFor::Staff(acme);
    store
        .start_sso_login("d2", staff, ("n", "v", None), expires)
        .await
        .unwrap();
    assert!(store
        .take_sso_login("d2", T0)
        .await
        .unwrap()
        .unwrap()
        .is_for(staff));
    store.set_staff_sso(acme, Some("{}")).await.unwrap();
    let org = store.organization_by_slug("acme").await.unwrap().unwrap();
    assert_eq!((org.id, org.staff_sso.as_deref()), (acme, Some("{}")));

    assert!(store
        .accept_assertion_once("a1", expires, T0)
        .await
        .unwrap());
    assert!(!store
        .accept_assertion_once("a1", expires, T0)
        .await
        .unwrap());
    assert!(store
        .accept_assertion_once("a2", expires, T0)
        .await
        .unwrap());
    // Once expired, it is swept (its own validity refuses it by then).
    assert!(store
        .accept_assertion_once("a1", expires.plus_seconds(1), expires)
        .await
        .unwrap());
}

async fn a_reps_console_sees_their_queues_and_moves_sessions(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let support = store.create_team(acme, &name("Support"), T0).await.unwrap();
    let billing = store.create_team(acme, &name("Billing"), T0).await.unwrap();
    let ann = add_rep(&store, acme, "ann@acme.test").await;
    let bob = add_rep(&store, acme, "bob@acme.test").await;
    store.set_user_teams(acme, ann, &[support]).await.unwrap();
    store.set_user_teams(acme, bob, &[billing]).await.unwrap();
    let queued = |queue, cap: &'static str, secs| {
        let store = store.clone();
        async move {
            store
                .create_support_session(acme, &waiting_in(queue, cap), T0.plus_seconds(secs))
                .await
                .unwrap()
                .0
        }
    };
    let general = queued(Queue::General, "g", 1).await;
    let team = queued(Queue::Team(support), "t", 2).await;
    let personal_bob = queued(Queue::Personal(bob), "pb", 3).await;
    let billing_one = queued(Queue::Team(billing), "b", 0).await;
    store
        .create_support_session(globex, &waiting_in(Queue::General, "x"), T0)
        .await
        .unwrap();

    let ids = |items: Vec<store::console::QueueItem>| {
        items
            .into_iter()
            .map(|i| SessionId(i.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store
            .visible_queue(acme, &Queue::all_open_to(ann, &[support]), 100)
            .await
            .unwrap()
            .0),
        vec![general, team],
        "general + own team, in line order"
    );
    assert_eq!(
        ids(store
            .visible_queue(acme, &Queue::all_open_to(bob, &[billing]), 100)
            .await
            .unwrap()
            .0),
        vec![billing_one, general, personal_bob]
    );
    assert_eq!(
        store
            .next_in_teams(acme, &[support, billing], 10)
            .await
            .unwrap(),
        vec![(billing_one, billing), (team, support)],
        "oldest team session first"
    );
    assert!(store.next_in_teams(acme, &[], 10).await.unwrap().is_empty());

    store
        .claim_session(acme, team, ann, 5, T0.plus_seconds(10))
        .await
        .unwrap()
        .won()
        .unwrap();
    assert_eq!(store.owned_session_count(acme, ann).await.unwrap(), 1);
    assert!(
        store
            .invite_participant(acme, team, bob, ann, T0)
            .await
            .unwrap()
            .is_none(),
        "only the owner invites"
    );
    assert!(
        store
            .invite_participant(acme, team, ann, bob, T0)
            .await
            .unwrap()
            .is_none(),
        "a rep who is not there (offline, or away) is not asked"
    );
    store
        .set_presence(acme, bob, Presence::Busy, T0)
        .await
        .unwrap();
    assert!(store
        .invite_participant(acme, team, ann, bob, T0)
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .invite_participant(acme, team, ann, bob, T0)
            .await
            .unwrap()
            .is_none(),
        "once"
    );
    assert!(
        store
            .active_sessions_of(acme, bob)
            .await
            .unwrap()
            .is_empty(),
        "asked is not joined"
    );
    let asked = store.invitations_for(acme, bob).await.unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].session_id, team.0);
    assert_eq!(store.invited_reps(acme, team).await.unwrap(), vec![bob]);
    assert!(store
        .answer_invitation(acme, team, bob, true, T0)
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .answer_invitation(acme, team, bob, false, T0)
            .await
            .unwrap()
            .is_none(),
        "answered once"
    );
    assert!(store.invitations_for(acme, bob).await.unwrap().is_empty());
    assert_eq!(
        store.active_sessions_of(acme, bob).await.unwrap().len(),
        1,
        "participants see it too"
    );
    assert_eq!(store.participants(acme, team).await.unwrap()[0].id, bob);

    // Transfer to billing: back in a queue, keeping its arrival time, so ahead of later arrivals.
    assert!(
        store
            .requeue_session(acme, team, bob, Queue::Team(billing), "not mine", T0)
            .await
            .unwrap()
            .is_none(),
        "only the owner"
    );
    store
        .requeue_session(
            acme,
            team,
            ann,
            Queue::Team(billing),
            "Transferred to Billing: invoice",
            T0.plus_seconds(20),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.next_in_teams(acme, &[billing], 10).await.unwrap(),
        vec![(billing_one, billing), (team, billing)]
    );
    assert!(
        store
            .active_sessions_of(acme, bob)
            .await
            .unwrap()
            .is_empty(),
        "participants leave with a transfer"
    );
    let log = store.session_events(acme, team).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec![
            "queued",
            "accepted",
            "invitation_sent",
            "invited",
            "requeued"
        ]
    );
    assert!(log[4].payload.contains("Transferred to Billing"));
}

/// Several messages in one group commit: each numbered in order, a resend in the same group
/// or of an earlier message stores nothing and gives its number back, an ended session takes
/// nothing, and the reps invited into a session are named for their consoles.
async fn a_group_commit_numbers_each_message_once(backend: Backend) {
    use store::chat::Posted;
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let colleague = add_rep(&store, acme, "colleague@acme.test").await;
    let session = |name: &'static str| {
        let store = store.clone();
        async move {
            let waiting = waiting_in(Queue::General, name);
            store
                .create_support_session(acme, &waiting, T0)
                .await
                .unwrap()
                .0
        }
    };
    let (open, ended) = (session("open").await, session("ended").await);
    store
        .claim_session(acme, open, rep, 5, T0)
        .await
        .unwrap()
        .won()
        .unwrap();
    store
        .set_presence(acme, colleague, Presence::Available, T0)
        .await
        .unwrap();
    store
        .invite_participant(acme, open, rep, colleague, T0)
        .await
        .unwrap()
        .unwrap();
    store
        .answer_invitation(acme, open, colleague, true, T0)
        .await
        .unwrap()
        .unwrap();
    store
        .end_session(acme, ended, Outcome::Abandoned, None, None, T0)
        .await
        .unwrap()
        .expect("the customer left");
    let message = |session, client_id: &str| {
        cleo_says(acme, session, client_id, &format!("text of {client_id}"))
    };
    let group = [
        (message(open, "a"), T0),
        (message(ended, "x"), T0),
        (message(open, "b"), T0),
        (message(open, "a"), T0),
        (message(open, "c"), T0),
    ];
    let posted = store.post_messages(&group).await.unwrap();
    let seqs: Vec<(Option<i64>, &str)> = posted
        .iter()
        .map(|p| match p {
            Posted::New { item, .. } => (Some(item.seq), "new"),
            Posted::Again(item) => (Some(item.seq), "again"),
            Posted::Closed => (None, "closed"),
        })
        .collect();
    let first = match &posted[0] {
        Posted::New { item, invited } => {
            assert_eq!(invited, &[colleague], "the invited rep is named");
            item.seq
        }
        other => panic!("stored, not {other:?}"),
    };
    assert_eq!(
        seqs,
        [
            (Some(first), "new"),
            (None, "closed"),
            (Some(first + 1), "new"),
            (Some(first), "again"),
            (Some(first + 2), "new"),
        ],
        "numbers without gaps; the resend returns the first copy"
    );
    let again = store
        .post_messages(&[(message(open, "b"), T0)])
        .await
        .unwrap();
    assert!(matches!(&again[..], [Posted::Again(item)] if item.seq == first + 1));
    // Resends stored in earlier transactions, several in one group: each gets its own copy.
    let resent = store
        .post_messages(&[(message(open, "c"), T0), (message(open, "b"), T0)])
        .await
        .unwrap();
    assert!(
        matches!(&resent[..], [Posted::Again(c), Posted::Again(b)]
            if (c.seq, b.seq) == (first + 2, first + 1) && c.body == "text of c"),
        "{resent:?}"
    );
    let next = store.post_message(&message(open, "d"), T0).await.unwrap();
    assert!(
        matches!(next, Posted::New { ref item, .. } if item.seq == first + 3),
        "a resend's number was given back: {next:?}"
    );
    let stored = store.chat_after(acme, open, first - 1, 100).await.unwrap();
    let texts: Vec<&str> = stored.iter().map(|i| i.body.as_str()).collect();
    assert_eq!(texts, ["text of a", "text of b", "text of c", "text of d"]);
    assert!(store
        .chat_after(acme, ended, 0, 100)
        .await
        .unwrap()
        .iter()
        .all(|i| i.kind != "message"));
}

/// What the chat writer's stories start from: an organization, one session waiting in its
/// general queue (reached with `capability`), and the node's chat writer on the store.
async fn a_session_and_the_chat_writer(
    backend: Backend,
    capability: &str,
) -> (Store, OrgId, SessionId, store::group_commit::ChatWriter) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let waiting = waiting_in(Queue::General, capability);
    let (session, _) = store
        .create_support_session(acme, &waiting, T0)
        .await
        .unwrap();
    let writer = store::group_commit::ChatWriter::start(store.clone());
    (store, acme, session, writer)
}

/// Many senders at once through the node's chat writer: each gets its own answer, and each
/// session's messages are numbered without gaps or repeats.
async fn the_chat_writer_answers_every_sender_of_a_group(backend: Backend) {
    use store::chat::Posted;
    let (_store, acme, session, writer) = a_session_and_the_chat_writer(backend, "busy").await;
    let sends = (0..40).map(|n| {
        let writer = writer.clone();
        tokio::spawn(async move {
            let message = cleo_says(
                acme,
                session,
                &format!("m{}", n % 30),
                &format!("message {n}"),
            );
            // What the sender's hook saw once the message was committed: before the answer.
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
            let hook = seen.clone();
            let committed = move |posted: &Posted| {
                *hook.lock().unwrap() = Some(posted.clone());
            };
            let answer = writer.post(message, T0, committed).await.unwrap();
            assert_eq!(
                seen.lock().unwrap().as_ref(),
                Some(&answer),
                "seen before the answer"
            );
            answer
        })
    });
    let mut new = Vec::new();
    let mut repeated = 0;
    for send in sends.collect::<Vec<_>>() {
        match send.await.unwrap() {
            Posted::New { item, .. } => new.push(item.seq),
            Posted::Again(_) => repeated += 1,
            Posted::Closed => panic!("the session is open"),
        }
    }
    new.sort_unstable();
    assert_eq!(
        (new.len(), repeated),
        (30, 10),
        "ten client ids were sent twice"
    );
    let first = new[0];
    assert_eq!(
        new,
        (first..first + 30).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
}

/// A message posted while another transaction holds the session's row (on SQLite: the
/// database's write lock) waits for its commit, then is stored: the chat writer waits for the
/// lock rather than failing the sender.
async fn the_chat_writer_waits_for_another_writes_commit(backend: Backend) {
    use store::chat::Posted;
    let (store, acme, session, writer) = a_session_and_the_chat_writer(backend, "held").await;
    const HOLD_MS: u64 = 300;
    let (held, holding) = tokio::sync::oneshot::channel();
    let holder = {
        let store = store.clone();
        tokio::spawn(async move { store.testing_hold_a_write(session, HOLD_MS, held).await })
    };
    let held_at = holding.await.unwrap();
    let message = cleo_says(acme, session, "held-1", "after the other write");
    let posted = writer.post(message, T0, |_| {}).await.unwrap();
    let stored_at = std::time::Instant::now();
    holder.await.unwrap().unwrap();
    assert!(matches!(posted, Posted::New { .. }), "{posted:?}");
    assert!(
        stored_at >= held_at + std::time::Duration::from_millis(HOLD_MS),
        "stored only after the other transaction let go"
    );
}

/// Search finds the last message written and a translation kept after it was stored, before
/// and after the message was indexed (SQLite indexes in batches; a kept translation changes
/// an indexed message's entry, and a waiting one is indexed as it is by then).
async fn search_finds_messages_and_their_later_translations(backend: Backend) {
    use domain::history::SearchTerms;
    use store::chat::Posted;
    use store::history::Viewer;
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (session, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "chat"), T0)
        .await
        .unwrap();
    let message = |client_id: &str, body: &str| cleo_says(acme, session, client_id, body);
    let found = |words: &'static str| {
        let store = store.clone();
        async move {
            let terms = SearchTerms::parse(words);
            let rows = store.search_history(acme, Viewer::Admin, &terms, None, 10);
            rows.await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    let seq_of = |posted: Posted| match posted {
        Posted::New { item, .. } => item.seq,
        other => panic!("stored, not {other:?}"),
    };
    // Stored, translated later, searched at once: the batch indexes it as it is by then.
    let first = seq_of(
        store
            .post_message(&message("a", "printer jammed"), T0)
            .await
            .unwrap(),
    );
    let kept = vec![(first, r#"{"de":"Drucker klemmt"}"#.to_owned())];
    store.save_translations(acme, session, &kept).await.unwrap();
    assert_eq!(found("printer").await, [session.0]);
    assert_eq!(found("Drucker").await, [session.0]);
    // Indexed first, then a translation replaces another: the entry follows.
    let second = seq_of(
        store
            .post_message(&message("b", "toner empty"), T0)
            .await
            .unwrap(),
    );
    assert_eq!(found("toner").await, [session.0]);
    let kept = vec![(second, r#"{"de":"Tonerpatrone leer"}"#.to_owned())];
    store.save_translations(acme, session, &kept).await.unwrap();
    let kept = vec![(second, r#"{"de":"Kartusche leer"}"#.to_owned())];
    store.save_translations(acme, session, &kept).await.unwrap();
    assert_eq!(found("Kartusche").await, [session.0]);
    assert!(
        found("Tonerpatrone").await.is_empty(),
        "the replaced one is gone"
    );
    assert!(
        found("toner").await.contains(&session.0),
        "the body still matches"
    );
    assert!(found("Drucker klemmt").await.contains(&session.0));
    assert!(found("nothing matches this").await.is_empty());
}

/// A node given fewer PostgreSQL connections opens no more than that, however many requests
/// wait (`database.max_connections`; 16 unless set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_are_capped_as_configured() {
    let url = store::testing::fresh_database_url(Backend::Postgres)
        .await
        .unwrap();
    let store = Store::connect_with(&url, 5).await.unwrap();
    let waiting: Vec<_> = (0..12)
        .map(|_| store.testing_hold_a_connection(0.3))
        .collect();
    for held in futures::future::join_all(waiting).await {
        held.unwrap();
    }
    assert_eq!(store.testing_connections_open().await.unwrap(), 5);
    store.close().await;
}

/// SQLite's chat writer never checkpoints in its own commits (that stalled every message
/// behind it); its checkpointer copies the log into the database file soon after. The file
/// grows only then: the log stays under the pool's automatic checkpoint of 1,000 pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_chat_commits_reach_the_database_file_through_the_checkpointer() {
    let url = store::testing::fresh_database_url(Backend::Sqlite)
        .await
        .unwrap();
    let path = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (session, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "chat"), T0)
        .await
        .unwrap();
    // Whatever the setup left in the log is copied back with the first checkpoint too.
    let file_size = || std::fs::metadata(&path).unwrap().len();
    let before = file_size();
    for n in 0..200 {
        let body = format!("{n} {}", "x".repeat(2000));
        let message = cleo_says(acme, session, &format!("m{n}"), &body);
        store.post_message(&message, T0).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_size() < before + 200 * 2000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        file_size() >= before + 200 * 2000,
        "the checkpointer copied the messages"
    );
}

/// A generated history read back for reports: every session of the range once, in arrival
/// order, across the chunks the facts are read in; filters keep their share; transfers and
/// ratings come through.
async fn report_facts_read_a_long_range_whole_and_in_order(backend: Backend) {
    use store::generated_history::HistoryPlan;
    use store::reports::ReportFilter;
    let store = store(backend).await;
    let (acme, admin) = org_with_admin(&store, "acme").await;
    let site = store
        .create_site(acme, &name("Acme Help"), &Slug::parse("help").unwrap(), T0)
        .await
        .unwrap();
    let other = store
        .create_site(acme, &name("Acme Shop"), &Slug::parse("shop").unwrap(), T0)
        .await
        .unwrap();
    let team = store.create_team(acme, &name("Support"), T0).await.unwrap();
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let day = 24 * 3600 * 1000;
    let plan = HistoryPlan {
        sessions: 25_000,
        from: T0,
        to: Timestamp(T0.0 + 30 * day),
        sites: vec![site, other],
        teams: vec![team],
        reps: vec![rep, admin],
    };
    assert_eq!(store.generate_history(acme, &plan).await.unwrap(), 25_000);
    let all = ReportFilter::default();
    let facts = store
        .report_facts(acme, T0, Timestamp(T0.0 + 30 * day), &all)
        .await
        .unwrap();
    assert_eq!(facts.len(), 25_000);
    assert!(facts
        .windows(2)
        .all(|w| (w[0].queued_at, w[0].id) < (w[1].queued_at, w[1].id)));
    assert!(facts.iter().any(|f| f.transfers == 1) && facts.iter().any(|f| f.rating.is_some()));
    let half = store
        .report_facts(acme, T0, Timestamp(T0.0 + 15 * day), &all)
        .await
        .unwrap();
    assert!(half.iter().all(|f| f.queued_at < T0.0 + 15 * day));
    assert_eq!(half.len(), 12_500);
    let only_site = ReportFilter {
        site: Some(site),
        ..ReportFilter::default()
    };
    let at_site = store
        .report_facts(acme, T0, Timestamp(T0.0 + 30 * day), &only_site)
        .await
        .unwrap();
    let counted = facts.iter().filter(|f| f.site_id == Some(site.0)).count();
    assert_eq!(at_site.len(), counted);
    assert!((10_000..15_000).contains(&counted), "{counted}");
}

macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() { super::$story(store::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() { super::$story(store::Backend::Postgres).await })*
        }
    };
}

async fn a_conversation_is_one_order_resumable_and_stores_each_message_once(backend: Backend) {
    use store::chat::{NewMessage, Posted, Sender};
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let rep = add_rep(&store, acme, "rep@acme.test").await;
    let (session, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "chat"), T0)
        .await
        .unwrap();
    let message = |sender, client_id: &'static str, body: &'static str| NewMessage {
        sender,
        sender_name: if sender == Sender::Customer {
            "Cleo".into()
        } else {
            "Riley".into()
        },
        ..cleo_says(acme, session, client_id, body)
    };
    // The customer writes while waiting; the rep takes the session and answers.
    let hello = message(Sender::Customer, "c1", "Hello?");
    let Posted::New { item: first, .. } = store.post_message(&hello, T0).await.unwrap() else {
        panic!("stored")
    };
    store
        .claim_session(acme, session, rep, 5, T0)
        .await
        .unwrap()
        .won()
        .unwrap();
    let answer = message(Sender::Rep(rep), "r1", "Hi Cleo");
    assert!(matches!(
        store.post_message(&answer, T0).await.unwrap(),
        Posted::New { .. }
    ));
    // A resend under the same client id stores nothing and returns the first copy.
    let again = store.post_message(&hello, T0).await.unwrap();
    assert_eq!(again, Posted::Again(first.clone()));
    // Another organization cannot write into it.
    let intruder = NewMessage {
        org: globex,
        ..message(Sender::Customer, "x1", "psst")
    };
    assert_eq!(
        store.post_message(&intruder, T0).await.unwrap(),
        Posted::Closed
    );

    let all = store.chat_after(acme, session, 0, 100).await.unwrap();
    let lines: Vec<(i64, &str, &str)> = all
        .iter()
        .map(|i| (i.seq, i.kind.as_str(), i.body.as_str()))
        .filter(|(_, kind, _)| *kind == "message" || *kind == "accepted")
        .map(|(seq, kind, body)| (seq, kind, if kind == "message" { body } else { "" }))
        .collect();
    assert_eq!(
        lines,
        [
            (2, "message", "Hello?"),
            (3, "accepted", ""),
            (4, "message", "Hi Cleo")
        ],
        "one order for messages and events, the session's own numbers"
    );
    assert!(store
        .chat_after(globex, session, 0, 100)
        .await
        .unwrap()
        .is_empty());
    // A German message corrects the customer's language; a reader's translation is kept.
    let german = NewMessage {
        language: "de",
        customer_language: Some("de"),
        translations: r#"{"en":"Thanks"}"#.into(),
        ..message(Sender::Customer, "c-de", "Danke")
    };
    assert!(matches!(
        store.post_message(&german, T0).await.unwrap(),
        Posted::New { .. }
    ));
    let session_now = store.support_session(acme, session).await.unwrap().unwrap();
    assert_eq!(session_now.language, "de");
    assert_eq!(
        store.rep_languages(acme, session).await.unwrap(),
        ["en"],
        "the owner's language"
    );
    store
        .save_translations(acme, session, &[(5, r#"{"en":"Thank you"}"#.to_owned())])
        .await
        .unwrap();
    let stored = store.chat_after(acme, session, 4, 1).await.unwrap();
    assert_eq!(stored[0].language.as_deref(), Some("de"));
    assert_eq!(
        stored[0].translations.as_deref(),
        Some(r#"{"en":"Thank you"}"#)
    );

    let resumed = store.chat_after(acme, session, 2, 100).await.unwrap();
    assert_eq!(
        resumed.first().map(|i| i.seq),
        Some(3),
        "after 2: exactly what followed"
    );

    store
        .end_session(acme, session, Outcome::Resolved, Some(rep), None, T0)
        .await
        .unwrap();
    let late = message(Sender::Customer, "c2", "still there?");
    let late = store.post_message(&late, T0);
    assert_eq!(
        late.await.unwrap(),
        Posted::Closed,
        "an ended session takes no message"
    );
    let last = store.chat_after(acme, session, 5, 100).await.unwrap();
    assert_eq!(
        last.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>(),
        ["ended"]
    );

    // The customer rates the ended session once; another organization cannot.
    assert!(!store
        .save_survey(globex, session, 5, None, T0)
        .await
        .unwrap());
    assert!(store
        .save_survey(acme, session, 4, Some("quick"), T0)
        .await
        .unwrap());
    assert!(
        !store.save_survey(acme, session, 1, None, T0).await.unwrap(),
        "once"
    );
    let survey = store.survey(acme, session).await.unwrap().unwrap();
    assert_eq!(
        (survey.rating, survey.comment.as_deref()),
        (4, Some("quick"))
    );
    assert!(store.survey(globex, session).await.unwrap().is_none());
}

/// The customer's page: seen while open (nothing to tell), gone when it closed, and back when
/// it opens again (said once); another organization's cannot touch it.
async fn a_customers_page_is_seen_gone_and_back(backend: Backend) {
    let store = store(backend).await;
    let (acme, _) = org_with_admin(&store, "acme").await;
    let (globex, _) = org_with_admin(&store, "globex").await;
    let (id, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "c"), T0)
        .await
        .unwrap();
    let at = |seconds| Some(T0.plus_seconds(seconds).millis());
    // Whether marking the page seen at `second` by `org` said "back", and the marks after it.
    let seen = |org, second| {
        let store = &store;
        async move {
            let back = store.customer_seen(org, id, T0.plus_seconds(second));
            let back = back.await.unwrap();
            let session = store.support_session(acme, id).await.unwrap().unwrap();
            (back, session.customer_seen_at, session.customer_gone_at)
        }
    };
    assert_eq!(seen(acme, 1).await, (false, at(1), None));
    store
        .customer_gone(acme, id, T0.plus_seconds(2))
        .await
        .unwrap();
    assert_eq!(
        seen(globex, 3).await,
        (false, at(1), at(2)),
        "not another organization's"
    );
    assert_eq!(seen(acme, 4).await, (true, at(4), None), "back");
    assert_eq!(seen(acme, 5).await, (false, at(5), None), "said once");

    // The sweep finds a waiting customer gone before its first bound, or silent since before
    // its second, and no other.
    let (quiet, _) = store
        .create_support_session(acme, &waiting_in(Queue::General, "q"), T0)
        .await
        .unwrap();
    store
        .customer_seen(acme, quiet, T0.plus_seconds(3))
        .await
        .unwrap();
    store
        .customer_gone(acme, id, T0.plus_seconds(6))
        .await
        .unwrap();
    let swept = |gone_before, silent_before| {
        let store = &store;
        async move {
            let found =
                store.customers_gone(T0.plus_seconds(gone_before), T0.plus_seconds(silent_before));
            found
                .await
                .unwrap()
                .iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(swept(6, 3).await, Vec::<SessionId>::new(), "neither yet");
    assert_eq!(swept(7, 3).await, vec![id], "gone before the bound");
    assert_eq!(
        swept(7, 4).await,
        vec![id, quiet],
        "and silent before the other"
    );
}

on_both_backends!(
    a_customers_page_is_seen_gone_and_back,
    a_conversation_is_one_order_resumable_and_stores_each_message_once,
    a_group_commit_numbers_each_message_once,
    the_chat_writer_answers_every_sender_of_a_group,
    the_chat_writer_waits_for_another_writes_commit,
    search_finds_messages_and_their_later_translations,
    organizations_and_their_first_admin,
    users_are_only_reachable_through_their_organization,
    teams_and_memberships_stay_within_an_organization,
    web_sessions_end_on_expiry_deactivation_and_sign_out,
    the_setup_token_works_once,
    fifty_concurrent_claims_have_exactly_one_winner,
    concurrent_claims_by_one_rep_stay_within_their_limit,
    each_session_numbers_its_own_events_without_gaps,
    a_silent_console_takes_its_rep_offline_once,
    the_event_log_is_ordered_and_resumable,
    the_audit_log_keeps_who_did_what,
    migrations_are_idempotent_and_the_database_answers,
    sites_keep_settings_hostnames_logo_fields_schedule_and_notices,
    notice_windows_are_logged_once_when_they_open_and_close,
    report_facts_read_a_long_range_whole_and_in_order,
    available_reps_follow_presence_activity_and_teams,
    a_key_opens_one_session_once,
    keys_issued_at_once_stay_within_the_cap_with_their_audit,
    queue_positions_and_recent_waits,
    presentations_and_ios_profiles,
    a_saml_answer_waits_on_its_login_and_an_assertion_counts_once,
    a_reps_console_sees_their_queues_and_moves_sessions,
);
