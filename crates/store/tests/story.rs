#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test
//! The store's story suite. Every story runs on SQLite and on PostgreSQL: the test names
//! `sqlite::…` and `postgres::…` in the output show both backends ran.

use domain::session::{Outcome, Queue, SessionEvent, StartMethod};
use domain::text::{DisplayName, Email, Slug};
use domain::{OrgId, Role, SessionId, TeamId, Timestamp, UserId};
use store::orgs::NewOrganization;
use store::support::NewSupportSession;
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
        .update_organization(org, &name("Acme Inc"), 5)
        .await
        .unwrap());
    let acme = store.organization(org).await.unwrap().unwrap();
    assert_eq!(
        (acme.name.as_str(), acme.default_session_limit),
        ("Acme Inc", 5)
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
            .claim_session(globex, session, reps[0], T0)
            .await
            .unwrap()
            .is_none(),
        "foreign org"
    );

    let claims = reps.iter().map(|rep| {
        let store = store.clone();
        let rep = *rep;
        tokio::spawn(async move { store.claim_session(acme, session, rep, T0).await })
    });
    let results = futures::future::join_all(claims).await;
    let winners: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .filter(Option::is_some)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins");

    let row = store.support_session(acme, session).await.unwrap().unwrap();
    assert_eq!(row.state, "active");
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
        (seq_a, seq_b),
        (1, 2),
        "sequence numbers are per organization"
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
        .claim_session(acme, a, rep, T0.plus_seconds(5))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .end_session(acme, a, Outcome::Resolved, Some(UserId(9_999)), T0)
            .await
            .unwrap()
            .is_none(),
        "not the owner"
    );
    let ended = store
        .end_session(acme, a, Outcome::Resolved, Some(rep), T0.plus_seconds(60))
        .await
        .unwrap()
        .unwrap();
    let cancelled = store
        .end_session(acme, b, Outcome::Abandoned, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .end_session(acme, b, Outcome::Abandoned, None, T0)
            .await
            .unwrap()
            .is_none(),
        "already ended"
    );
    assert_eq!((claim, ended, cancelled), (3, 4, 5));

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
    let _ = TeamId(0);
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

on_both_backends!(
    organizations_and_their_first_admin,
    users_are_only_reachable_through_their_organization,
    teams_and_memberships_stay_within_an_organization,
    web_sessions_end_on_expiry_deactivation_and_sign_out,
    the_setup_token_works_once,
    fifty_concurrent_claims_have_exactly_one_winner,
    the_event_log_is_ordered_and_resumable,
    the_audit_log_keeps_who_did_what,
    migrations_are_idempotent_and_the_database_answers,
);
