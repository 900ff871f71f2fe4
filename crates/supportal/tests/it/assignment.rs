//! Automatic assignment and waiting rules, driven by the test's own clock: offers go to the
//! best rep, a decline or a timeout passes the session on, nobody is asked twice, and when
//! everyone has declined it stays queued. Waiting rules alert once or move sessions.

use crate::helpers::{location, now, spawn_app_with, PASSWORD};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use domain::assignment::WaitingRule;
use domain::rep::Presence;
use domain::session::{Queue, SessionState};
use domain::{SessionId, Timestamp, UserId};
use store::assignment::TeamRules;
use store::Backend;

async fn no_background_tick(backend: Backend) -> Portal {
    portal_app(spawn_app_with(backend, |c| c.console.assignment_interval_ms = 0).await).await
}

async fn team_request(p: &Portal, name: &str) -> SessionId {
    p.team_request(name).await.0
}

async fn tick(p: &Portal, at: Timestamp) {
    web::app::assignment::tick(&p.app.state, at).await.unwrap();
}

async fn offered_to(p: &Portal, rep: UserId) -> Vec<i64> {
    p.app
        .store
        .offers_for(p.org, rep)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.session_id)
        .collect()
}

async fn offers_pass_on_until_everyone_was_asked_once(backend: Backend) {
    let p = no_background_tick(backend).await;
    let t0 = now();
    let sam = p.app.add_rep(p.org, "sam@acme.test").await;
    let tess = p.app.add_rep(p.org, "tess@acme.test").await;
    for rep in [sam, tess] {
        p.app
            .store
            .set_user_teams(p.org, rep, &[p.team])
            .await
            .unwrap();
    }
    p.app
        .store
        .set_presence(p.org, sam, Presence::Available, t0)
        .await
        .unwrap();
    p.app
        .store
        .set_presence(p.org, tess, Presence::Away, t0)
        .await
        .unwrap();
    p.app
        .store
        .set_team_rules(
            p.org,
            p.team,
            &TeamRules {
                auto_assign: true,
                offer_timeout_secs: 30,
                waiting_rule: None,
            },
        )
        .await
        .unwrap();

    let session = team_request(&p, "Offered").await;
    tick(&p, t0).await;
    // Riley has been idle longest (available since the fixture was made); Tess is away.
    assert_eq!(offered_to(&p, p.rep).await, vec![session.0]);
    assert!(
        offered_to(&p, sam).await.is_empty(),
        "one open offer per session"
    );
    tick(&p, t0).await;
    assert_eq!(
        p.app.store.offered_reps(session).await.unwrap(),
        vec![p.rep],
        "ticking again changes nothing"
    );

    // Riley declines in the console: Sam is asked next.
    let riley = p.app.other_browser();
    riley.login("riley@acme.test", PASSWORD).await;
    let console = riley.get_text("/console").await.1;
    assert!(console.contains("data-testid=\"offer\"") && console.contains("Offered"));
    let listed = console
        .matches(&format!("data-session-id=\"{session}\""))
        .count();
    assert_eq!(
        listed, 1,
        "the offered customer is listed once, as an offer"
    );
    let response = riley
        .submit(
            "/console",
            &format!("/console/offers/{session}/decline"),
            &[],
        )
        .await;
    assert_eq!(location(&response), "/console");
    tick(&p, t0.plus_seconds(1)).await;
    assert_eq!(offered_to(&p, sam).await, vec![session.0]);

    // Sam does not answer in 30 s: the offer closes; nobody else is available, so it stays queued.
    tick(&p, t0.plus_seconds(40)).await;
    assert!(offered_to(&p, sam).await.is_empty());
    tick(&p, t0.plus_seconds(80)).await;
    assert_eq!(
        p.app.store.offered_reps(session).await.unwrap().len(),
        2,
        "never offered to the same rep twice"
    );
    let waiting = p
        .app
        .store
        .support_session(p.org, session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        waiting.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::Team(p.team)
        }
    );
    let kinds: Vec<String> = p
        .app
        .store
        .session_events(p.org, session)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            "queued",
            "offered",
            "offer_closed",
            "offered",
            "offer_closed"
        ]
    );

    // A later request is offered and accepted from the console.
    let next = team_request(&p, "Second").await;
    tick(&p, t0.plus_seconds(90)).await;
    let who = p.app.store.offered_reps(next).await.unwrap()[0];
    let email = if who == p.rep {
        "riley@acme.test"
    } else {
        "sam@acme.test"
    };
    let rep = p.app.other_browser();
    rep.login(email, PASSWORD).await;
    let response = rep
        .submit("/console", &format!("/console/offers/{next}/accept"), &[])
        .await;
    assert_eq!(location(&response), format!("/console/sessions/{next}"));
    let taken = p
        .app
        .store
        .support_session(p.org, next)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        taken.session_state().unwrap(),
        SessionState::Active { owner: who }
    );
    let again = rep
        .submit("/console", &format!("/console/offers/{next}/accept"), &[])
        .await;
    assert_eq!(again.status(), 409, "an offer is accepted once");
}

async fn waiting_rules_alert_once_or_move_the_session(backend: Backend) {
    let p = no_background_tick(backend).await;
    let t0 = now();
    let billing = p
        .app
        .store
        .create_team(
            p.org,
            &domain::text::DisplayName::parse("Billing").unwrap(),
            t0,
        )
        .await
        .unwrap();
    let alert = TeamRules {
        auto_assign: false,
        offer_timeout_secs: 30,
        waiting_rule: Some(WaitingRule::Alert { minutes: 5 }),
    };
    p.app
        .store
        .set_team_rules(p.org, p.team, &alert)
        .await
        .unwrap();
    let session = team_request(&p, "Patient").await;
    tick(&p, t0.plus_seconds(4 * 60)).await;
    assert!(
        p.app
            .store
            .session_events(p.org, session)
            .await
            .unwrap()
            .iter()
            .all(|e| e.kind != "overdue"),
        "not yet"
    );
    tick(&p, t0.plus_seconds(6 * 60)).await;
    tick(&p, t0.plus_seconds(7 * 60)).await;
    let overdue: Vec<_> = p
        .app
        .store
        .session_events(p.org, session)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "alerted once");
    assert!(overdue[0]
        .payload
        .contains("Waiting over 5 min in team Support"));

    let overflow = TeamRules {
        auto_assign: false,
        offer_timeout_secs: 30,
        waiting_rule: Some(WaitingRule::Overflow {
            minutes: 5,
            to: Queue::Team(billing),
        }),
    };
    let arrived = p
        .app
        .store
        .support_session(p.org, session)
        .await
        .unwrap()
        .unwrap()
        .queued_at;
    p.app
        .store
        .set_team_rules(p.org, p.team, &overflow)
        .await
        .unwrap();
    tick(&p, t0.plus_seconds(8 * 60)).await;
    let moved = p
        .app
        .store
        .support_session(p.org, session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::Team(billing)
        }
    );
    assert_eq!(moved.queued_at, arrived, "it keeps its arrival time");
    assert!(p
        .app
        .store
        .session_events(p.org, session)
        .await
        .unwrap()
        .last()
        .unwrap()
        .payload
        .contains("moved to team Billing"));

    // Admins set the rules on the team's page; bad input comes back beside its field.
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let page = format!("/admin/teams/{}", p.team);
    let rules = format!("{page}/rules");
    let response = admin
        .submit(
            &page,
            &rules,
            &[
                ("auto_assign", "on"),
                ("offer_timeout_secs", "2"),
                ("rule", "alert"),
                ("rule_minutes", "10"),
                ("overflow_to", "general"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Enter a number from 5 to 600."));
    let response = admin
        .submit(
            &page,
            &rules,
            &[
                ("auto_assign", "on"),
                ("offer_timeout_secs", "45"),
                ("rule", "overflow"),
                ("rule_minutes", "10"),
                ("overflow_to", "general"),
            ],
        )
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Queue rules saved."));
    let saved = p
        .app
        .store
        .team_rules(p.org, p.team)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        saved,
        TeamRules {
            auto_assign: true,
            offer_timeout_secs: 45,
            waiting_rule: Some(WaitingRule::Overflow {
                minutes: 10,
                to: Queue::General
            })
        }
    );
}

async fn an_overdue_session_is_served_before_newer_arrivals(backend: Backend) {
    let p = no_background_tick(backend).await;
    let t0 = now();
    // An older general-queue customer, then a team request.
    let customer = p.app.other_browser();
    customer
        .submit(
            "/p/help",
            "/p/help/contact",
            &[("customer_name", "General first")],
        )
        .await;
    let team_session = team_request(&p, "Team later").await;
    let order = || async {
        let teams = p.app.store.user_team_ids(p.org, p.rep).await.unwrap();
        p.app
            .store
            .visible_queue(p.org, &Queue::all_open_to(p.rep, &teams), 100)
            .await
            .unwrap()
            .0
            .into_iter()
            .map(|i| i.customer_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        order().await,
        vec!["General first", "Team later"],
        "arrival order"
    );
    let rule = TeamRules {
        auto_assign: false,
        offer_timeout_secs: 30,
        waiting_rule: Some(WaitingRule::Prioritize { minutes: 5 }),
    };
    p.app
        .store
        .set_team_rules(p.org, p.team, &rule)
        .await
        .unwrap();
    tick(&p, t0.plus_seconds(6 * 60)).await;
    tick(&p, t0.plus_seconds(7 * 60)).await;
    assert_eq!(
        order().await,
        vec!["Team later", "General first"],
        "the overdue one comes first"
    );
    let raised = p
        .app
        .store
        .support_session(p.org, team_session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raised.priority, 1, "raised once");
    let log = p
        .app
        .store
        .session_events(p.org, team_session)
        .await
        .unwrap();
    assert!(log.last().unwrap().payload.contains("priority raised"));
}

on_both_backends!(
    offers_pass_on_until_everyone_was_asked_once,
    waiting_rules_alert_once_or_move_the_session,
    an_overdue_session_is_served_before_newer_arrivals,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_counts_down_in_the_console() {
    use crate::browser::Browser;
    use crate::console_browser::sign_in_to_console;
    let p = no_background_tick(Backend::Sqlite).await;
    let rules = TeamRules {
        auto_assign: true,
        offer_timeout_secs: 60,
        waiting_rule: None,
    };
    p.app
        .store
        .set_team_rules(p.org, p.team, &rules)
        .await
        .unwrap();
    let session = team_request(&p, "Offered").await;
    tick(&p, now()).await;
    assert_eq!(offered_to(&p, p.rep).await, vec![session.0]);
    let riley = Browser::start().await;
    sign_in_to_console(&riley, &p.app.address, "riley@acme.test").await;
    riley.wait_for("[data-testid='offer-countdown']").await;
    // Read where it is now: the list is pushed again (replaced) as the queue changes.
    let read = "return document.querySelector('[data-testid=offer-countdown]').textContent;";
    let left = || async {
        let shown = riley.client.execute(read, vec![]).await.unwrap();
        shown.as_str().unwrap().trim().parse::<u64>().unwrap()
    };
    let first = left().await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let later = left().await;
    assert!(later < first && first <= 60, "{first} s, then {later} s");
    riley.close().await;
}
