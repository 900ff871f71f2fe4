//! Signing in and out, CSRF, rate limits, password change.

use crate::helpers::{location, spawn_app, spawn_app_with, PASSWORD};
use crate::on_both_backends;
use store::Backend;

async fn an_admin_signs_in_sees_the_admin_page_and_signs_out(backend: Backend) {
    let app = spawn_app(backend).await;
    app.org_with_admin("acme").await;

    let (status, page) = app.get_text("/admin").await;
    assert_eq!(status, 303, "signed-out visitors are sent to sign in");
    assert!(page.is_empty());
    assert_eq!(
        location(&app.get("/admin/teams").await),
        "/login?next=%2Fadmin%2Fteams"
    );

    let response = app.login("admin@acme.test", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/admin");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with("supportal_session="))
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain-http public URL: no Secure flag"
    );

    let (status, page) = app.get_text("/admin").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Org acme"),
        "the admin page shows the organization"
    );

    let response = app.submit("/admin", "/logout", &[]).await;
    assert_eq!(location(&response), "/login");
    assert_eq!(app.get("/admin").await.status(), 303, "signed out");
}

async fn a_wrong_password_is_refused_and_the_email_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    app.org_with_admin("acme").await;
    for (email, password) in [
        ("admin@acme.test", "not the password"),
        ("nobody@acme.test", PASSWORD),
        ("not an email", "x"),
    ] {
        let response = app.login(email, password).await;
        assert_eq!(response.status(), 401);
        let page = response.text().await.unwrap();
        assert!(page.contains("data-testid=\"login-error\""), "error shown");
        assert!(
            page.contains("Email or password is wrong."),
            "same message whether or not the account exists"
        );
        assert!(
            page.contains(&format!("value=\"{email}\"")),
            "what was typed is kept"
        );
    }
    assert_eq!(app.get("/admin").await.status(), 303, "still signed out");
}

async fn a_form_without_its_csrf_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.org_with_admin("acme").await;
    app.get("/login").await; // the browser has its CSRF cookie, but the form omits the field
    let form = [("email", "admin@acme.test"), ("password", PASSWORD)];
    let response = app
        .client
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Form expired"));

    let fake = "x".repeat(43);
    let forged = [
        ("email", "admin@acme.test"),
        ("password", PASSWORD),
        ("csrf", fake.as_str()),
    ];
    let response = app
        .client
        .post(app.url("/login"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "a token that is not this browser's");

    // Signed in, a state-changing admin form is refused the same way.
    app.login("admin@acme.test", PASSWORD).await;
    let response = app
        .client
        .post(app.url("/admin/teams"))
        .form(&[("name", "Sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(!app.get_text("/admin/teams").await.1.contains("Sneaky"));
}

async fn repeated_sign_in_attempts_are_slowed_down(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.server.behind_proxy = true;
        c.security.login_failures_per_account_and_address = 3
    })
    .await;
    app.org_with_admin("acme").await;
    let guesser = app.browser_at("203.0.113.9");
    for _ in 0..3 {
        assert_eq!(
            guesser
                .login("admin@acme.test", "wrong password!")
                .await
                .status(),
            401
        );
    }
    let response = guesser.login("admin@acme.test", PASSWORD).await;
    assert_eq!(
        response.status(),
        429,
        "from the guessing address even the right password waits"
    );
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((14 * 60..=15 * 60).contains(&retry), "{retry}");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Try again in 15 minutes."),
        "the message says when"
    );
    assert!(page.contains("admin@acme.test"), "what was typed stays");

    // The real user, from their own address, is not locked out by the guesser.
    let user = app.browser_at("198.51.100.20");
    assert_eq!(user.login("admin@acme.test", PASSWORD).await.status(), 303);
    // Nor is another account from the guessing address.
    app.org_with_admin("globex").await;
    assert_eq!(
        guesser.login("admin@globex.test", PASSWORD).await.status(),
        303
    );
}

async fn many_addresses_guessing_leave_the_real_user_a_way_in(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.server.behind_proxy = true;
        c.security.login_failures_per_account_and_address = 3;
        c.security.login_failures_per_account = 4;
    })
    .await;
    app.org_with_admin("acme").await;
    // Guesses from everywhere, one at a time (as a slow botnet would), reach the account's ceiling.
    for n in 1..=4 {
        let guesser = app.browser_at(&format!("203.0.113.{n}"));
        assert_eq!(guesser.login("admin@acme.test", "nope").await.status(), 401);
    }
    // Past it, an address that has failed before waits, even with the right password...
    let failed_before = app.browser_at("203.0.113.2");
    let refused = failed_before.login("admin@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    // ...while an address with no failures still gets one judged try: wrong is wrong...
    let fresh = app.browser_at("203.0.113.50");
    assert_eq!(fresh.login("admin@acme.test", "nope").await.status(), 401);
    assert_eq!(fresh.login("admin@acme.test", PASSWORD).await.status(), 429);
    // ...and the real user, from their clean address, signs in.
    let user = app.browser_at("198.51.100.20");
    assert_eq!(user.login("admin@acme.test", PASSWORD).await.status(), 303);
    assert_eq!(user.get("/admin").await.status(), 200);
}

async fn a_user_changes_their_password_and_other_sign_ins_end(backend: Backend) {
    // Password changes count against the sign-in limit: this story makes six attempts.
    let app = spawn_app_with(backend, |c| {
        c.security.login_failures_per_account_and_address = 20;
    })
    .await;
    app.org_with_admin("acme").await;
    let laptop = app.other_browser();
    app.login("admin@acme.test", PASSWORD).await;
    laptop.login("admin@acme.test", PASSWORD).await;
    assert_eq!(laptop.get("/account").await.status(), 200);

    let response = app
        .submit(
            "/account",
            "/account/password",
            &[("current", "wrong"), ("new", "short"), ("confirm", "")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("That is not your current password."));
    assert!(page.contains("At least 10 characters."));

    let new = "a much better passphrase";
    let response = app
        .submit(
            "/account",
            "/account/password",
            &[("current", PASSWORD), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Your password was changed."));
    assert_eq!(
        app.get("/account").await.status(),
        200,
        "this sign-in continues"
    );
    assert_eq!(
        laptop.get("/account").await.status(),
        303,
        "the other one ended"
    );

    let fresh = app.other_browser();
    assert_eq!(fresh.login("admin@acme.test", PASSWORD).await.status(), 401);
    assert_eq!(
        fresh
            .other_browser()
            .login("admin@acme.test", new)
            .await
            .status(),
        303
    );
}

async fn sign_in_follows_only_local_next_links(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.security.login_failures_per_account_and_address = 50;
    })
    .await;
    app.org_with_admin("acme").await;
    let (_, page) = app.get_text("/login?next=%2Fadmin%2Fteams").await;
    assert!(
        page.contains("name=\"next\" value=\"&#x2f;admin&#x2f;teams\""),
        "{page}"
    );
    let response = app
        .submit(
            "/login",
            "/login",
            &[
                ("email", "admin@acme.test"),
                ("password", PASSWORD),
                ("next", "/admin/teams"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin/teams");
    let other = app.other_browser();
    let response = other
        .submit(
            "/login",
            "/login",
            &[
                ("email", "admin@acme.test"),
                ("password", PASSWORD),
                ("next", "https://evil.test/"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin");
    // Bypass forms (a tab that browsers drop, a control character that cannot be a header):
    // each signs in to the home page, none answers 500. Also through the sign-in page's query.
    for bad in [
        "/\t/evil.example",
        "/\u{1}/admin",
        "/\\evil.example",
        "/\u{0}",
    ] {
        let (status, _) = app
            .get_text(&format!("/login?next={}", urlencode(bad)))
            .await;
        // Shown (the target ignored), or refused as a bad address: never a server error.
        assert!(status == 200 || status == 400, "{bad:?}: {status}");
        let response = app
            .other_browser()
            .submit(
                "/login",
                "/login",
                &[
                    ("email", "admin@acme.test"),
                    ("password", PASSWORD),
                    ("next", bad),
                ],
            )
            .await;
        // Control characters are cleaned from form values first ("/\u{0}" becomes "/"): the
        // target is this instance's home or the page asked for, never another host.
        let target = location(&response);
        assert_eq!(response.status().as_u16(), 303, "{bad:?}");
        assert!(target == "/admin" || target == "/", "{bad:?} -> {target}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn password_guesses_are_limited_everywhere_and_bounded_in_size(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.security.login_failures_per_account_and_address = 3;
        c.security.login_attempts_per_ip_per_minute = 100;
    })
    .await;
    app.org_with_admin("acme").await;
    app.login("admin@acme.test", PASSWORD).await;
    // The password form counts with sign-in's lockout: parallel guesses are counted before
    // they are judged, so no more than the allowance is ever judged.
    let wrong = [("current", "guess"), ("new", ""), ("confirm", "")];
    let statuses = futures::future::join_all(
        (0..5).map(|_| app.submit("/account", "/account/password", &wrong)),
    )
    .await
    .into_iter()
    .map(|r| r.status().as_u16())
    .collect::<Vec<_>>();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    let page = app
        .submit("/account", "/account/password", &wrong)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Too many attempts. Try again in 15 minutes."),
        "said beside the field"
    );

    // A password longer than anyone types is refused like a wrong one, not hashed, not a 500.
    let other = app.other_browser();
    let huge = "p".repeat(200_000);
    let started = std::time::Instant::now();
    let response = other
        .submit(
            "/login",
            "/login",
            &[("email", "someone@else.test"), ("password", &huge)],
        )
        .await;
    assert!(response.status().as_u16() < 500, "{}", response.status());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

async fn signing_in_rotates_the_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    app.org_with_admin("acme").await;
    let (_, form) = app.get_text("/login").await;
    let before = crate::helpers::csrf_in(&form);
    let response = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", "admin@acme.test"),
            ("password", PASSWORD),
            ("csrf", before.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let rotated = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find_map(|c| c.strip_prefix("supportal_csrf="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("a new token with the sign-in");
    assert_ne!(rotated, before);
    // A form holding the token from before the sign-in no longer passes.
    let stale = app
        .client
        .post(app.url("/account/presence"))
        .form(&[("presence", "away"), ("csrf", before.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 403);
    // Pages carry the sign-in's own token, and it passes.
    let (_, page) = app.get_text("/account").await;
    let current = crate::helpers::csrf_in(&page);
    assert_ne!(current, before);
    let fresh = app
        .client
        .post(app.url("/account/presence"))
        .form(&[("presence", "away"), ("csrf", current.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200, "accepted, the page shown again");
}

async fn a_signed_in_form_needs_the_token_of_its_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    app.org_with_admin("acme").await;
    let session = crate::console::session_cookie(&app, "admin@acme.test").await;
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // What a page of this sign-in carries.
    let page = bare
        .get(app.url("/admin/teams"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::helpers::csrf_in(&page);
    let post = |cookie: String, token: String, team: &'static str| {
        let request = bare
            .post(app.url("/admin/teams"))
            .header("cookie", cookie)
            .form(&[("name", team), ("csrf", &token)]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // A token planted in the CSRF cookie (by a sibling subdomain, say) and repeated in the
    // form matches the cookie, but not the sign-in: refused.
    let planted = "p".repeat(43);
    let cookie = format!("{session}; supportal_csrf={planted}");
    assert_eq!(post(cookie, planted, "Planted").await, 403);
    // The sign-in's own token passes, whatever the CSRF cookie holds.
    let cookie = format!("{session}; supportal_csrf={}", "q".repeat(43));
    assert_eq!(post(cookie, token.clone(), "Support").await, 303);
    // Another sign-in of the same user has another token.
    let other = crate::console::session_cookie(&app, "admin@acme.test").await;
    assert_eq!(post(other, token, "Elsewhere").await, 403);
    let (_, teams) = app.get_text("/admin/teams").await;
    assert!(!teams.contains("Planted") && !teams.contains("Elsewhere"));
}

on_both_backends!(
    a_signed_in_form_needs_the_token_of_its_sign_in,
    signing_in_rotates_the_csrf_token,
    password_guesses_are_limited_everywhere_and_bounded_in_size,
    an_admin_signs_in_sees_the_admin_page_and_signs_out,
    a_wrong_password_is_refused_and_the_email_kept,
    a_form_without_its_csrf_token_is_refused,
    repeated_sign_in_attempts_are_slowed_down,
    many_addresses_guessing_leave_the_real_user_a_way_in,
    a_user_changes_their_password_and_other_sign_ins_end,
    sign_in_follows_only_local_next_links,
);
