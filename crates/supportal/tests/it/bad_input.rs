//! Bad input from outside never makes a server error: NUL and other control characters, very
//! long values and invalid UTF-8 in every kind of form, and control characters in addresses.
//! (PostgreSQL refuses a NUL in text where SQLite stores it: both backends run this.)

use crate::console::rep;
use crate::helpers::{spawn_app_with, TestApp};
use crate::on_both_backends;
use crate::portal::portal_app;
use store::Backend;

fn nasty() -> Vec<String> {
    vec![
        "a\u{0}b".into(),
        "\u{1}\u{7}\u{1b}[31mred\u{7f}".into(),
        "\u{0}".repeat(10),
        "x".repeat(100_000),
        "ok\tline\r\nnext".into(),
    ]
}

/// A form: the page it is on, where it posts, what it sends.
type Form<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

async fn status_of(browser: &TestApp, page: &str, action: &str, fields: &[(&str, &str)]) -> u16 {
    browser.submit(page, action, fields).await.status().as_u16()
}

async fn no_input_from_outside_makes_a_server_error(backend: Backend) {
    let p = portal_app(
        spawn_app_with(backend, |c| {
            c.security.key_attempts_per_ip_per_minute = 1_000;
            c.security.login_attempts_per_ip_per_minute = 1_000;
            c.security.login_failures_per_account_and_address = 1_000;
        })
        .await,
    )
    .await;
    let issue = p.issue.to_string();
    let admin = rep(&p.app, "admin@acme.test").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    for value in nasty() {
        let v = value.as_str();
        let customer = p.app.other_browser();
        let forms: Vec<Form> = vec![
            ("/p/help", "/p/help/contact", vec![("customer_name", v)]),
            (
                "/p/help/request",
                "/p/help/request",
                vec![
                    ("customer_name", v),
                    ("issue_type", &issue),
                    ("field_device", "Phone"),
                    ("company", v),
                    ("company_code", v),
                    ("description", v),
                ],
            ),
            ("/p/help", "/p/help/key", vec![("key", v)]),
            ("/", "/join", vec![("key", v)]),
            ("/login", "/login", vec![("email", v), ("password", v)]),
        ];
        for (page, action, fields) in &forms {
            let status = status_of(&customer, page, action, fields).await;
            assert!(
                status < 500,
                "{action} with {:?}: {status}",
                &v[..v.len().min(20)]
            );
        }
        let staff: Vec<(&TestApp, Form)> = vec![
            (
                &admin,
                (
                    "/admin/sites",
                    "/admin/sites",
                    vec![("name", v), ("slug", v)],
                ),
            ),
            (
                &admin,
                (
                    "/admin/reps",
                    "/admin/reps",
                    vec![
                        ("email", v),
                        ("display_name", v),
                        ("role", "rep"),
                        ("session_limit", v),
                    ],
                ),
            ),
            (&admin, ("/admin/teams", "/admin/teams", vec![("name", v)])),
            (
                &riley,
                (
                    "/account",
                    "/account/password",
                    vec![("current", v), ("new", v), ("confirm", v)],
                ),
            ),
            (
                &riley,
                ("/console", "/console/presence", vec![("presence", v)]),
            ),
        ];
        for (who, (page, action, fields)) in &staff {
            let status = status_of(who, page, action, fields).await;
            assert!(
                status < 500,
                "{action} with {:?}: {status}",
                &v[..v.len().min(20)]
            );
        }
        let notices = format!("/admin/sites/{}/notices", p.site);
        let fields = [("name", v), ("severity", "warning"), ("text_en", v)];
        assert!(status_of(&admin, &notices, &notices, &fields).await < 500);
        // A rep's end notes.
        let (session, _) = p.contact_request("Notes").await;
        riley
            .submit(
                "/console",
                &format!("/console/sessions/{session}/accept"),
                &[],
            )
            .await;
        let end = format!("/console/sessions/{session}/end");
        let page = format!("/console/sessions/{session}");
        let fields = [("outcome", "resolved"), ("notes", v)];
        assert!(status_of(&riley, &page, &end, &fields).await < 500);
    }

    // A NUL is cleaned away, not stored (and not refused by PostgreSQL).
    let (session, _) = p.contact_request("Ada\u{0}Lovelace").await;
    let stored = p.session(session).await;
    assert_eq!(stored.customer_name, "AdaLovelace");

    // Control characters in addresses: nothing matches, nothing breaks.
    for path in [
        "/p/%00",
        "/p/help%00",
        "/s/%00",
        "/s/%00/status",
        "/join/%00",
        "/presentations/%00",
        "/admin/sites/%00",
        "/p/help?lang=%00",
        "/login?next=%00",
        "/p/%1b%5b31m",
    ] {
        let (status, _) = admin.get_text(path).await;
        assert!(
            status == 404 || status == 400,
            "{path}: {status} (not found or bad request)"
        );
    }

    // Invalid UTF-8 in a form body.
    let customer = p.app.other_browser();
    let (_, home) = customer.get_text("/p/help").await;
    let csrf = crate::helpers::csrf_in(&home);
    let mut body = format!("csrf={csrf}&customer_name=").into_bytes();
    body.extend_from_slice(b"%FF%FE%C3%28%00");
    let response = customer
        .client
        .post(customer.url("/p/help/contact"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().as_u16() < 500, "{}", response.status());
}

on_both_backends!(no_input_from_outside_makes_a_server_error);
