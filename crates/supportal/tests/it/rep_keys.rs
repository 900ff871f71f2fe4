//! Reps hand out keys: a session key leads a customer straight to them; a profile access key
//! unlocks one download. Digits per organization, at most 8 live, revocable.

use crate::helpers::{location, now, spawn_app, PASSWORD};
use crate::on_both_backends;
use crate::portal::portal_app;
use domain::session::{Queue, SessionState};
use store::Backend;

/// The digits of every key shown on a page, newest first.
fn keys_on(page: &str) -> Vec<String> {
    page.split("data-testid=\"session-key\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().replace(' ', ""))
        .collect()
}

async fn a_rep_issues_a_session_key_that_leads_a_customer_to_them(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let rep = p.app.other_browser();
    rep.login("riley@acme.test", PASSWORD).await;
    let response = rep
        .submit(
            "/account",
            "/account/keys",
            &[("purpose", "support"), ("validity", "15")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let keys = keys_on(&page);
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key.len(), 9, "9 digits by default");
    assert!(
        page.contains(&format!("&#x2f;join&#x2f;{key}")),
        "a join link"
    );
    assert!(
        page.contains("To connect with Robin Rep of Org acme"),
        "a message ready to copy"
    );

    let customer = &p.app;
    let response = customer.get(&format!("/join/{key}")).await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("data-testid=\"rep-name\">Robin Rep"),
        "the link opens the confirmation"
    );
    let response = customer
        .submit(
            "/p/help",
            "/p/help/key/confirm",
            &[
                ("key", key),
                ("customer_name", "Ivy"),
                ("field_device", "Phone"),
            ],
        )
        .await;
    let capability = location(&response).trim_start_matches("/s/").to_owned();
    let session = customer
        .store
        .session_by_capability(&domain::secret::token_digest(&capability))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        session.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::Personal(p.rep)
        }
    );
    assert!(
        keys_on(&rep.get_text("/account").await.1).is_empty(),
        "a used key is no longer live"
    );
}

async fn key_digits_limits_and_revoking(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    // The admin shortens keys to 6 digits: only with a validity that keeps guessing odds low,
    // and the page says what the odds are.
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let settings = |validity: &'static str| {
        let admin = &admin;
        async move {
            let fields = [
                ("name", "Org acme"),
                ("default_session_limit", "3"),
                ("key_digits", "6"),
                ("key_max_validity", validity),
            ];
            let response = admin.submit("/admin/organization", "/admin/organization", &fields);
            let response = response.await;
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, page) = settings("1440").await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Keys of 6 digits valid 1 day could be guessed with a chance of 1 in 208."),
        "{page}"
    );
    assert!(page.contains("value=\"6\""), "what was typed stays");
    let (status, page) = settings("30").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("during its validity with a chance of <strong>1 in 10,000</strong>")
            && page.contains("<strong>1 in 208</strong> per day"),
        "{page}"
    );
    let rep = p.app.other_browser();
    rep.login("riley@acme.test", PASSWORD).await;
    for _ in 0..8 {
        rep.submit(
            "/account",
            "/account/keys",
            &[("purpose", "support"), ("validity", "5")],
        )
        .await;
    }
    let page = rep.get_text("/account").await.1;
    let keys = keys_on(&page);
    assert_eq!(keys.len(), 8);
    assert!(
        keys.iter().all(|k| k.len() == 6),
        "the organization's digit count"
    );
    let response = rep
        .submit(
            "/account",
            "/account/keys",
            &[("purpose", "support"), ("validity", "5")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You already have 8 live keys"));
    let response = rep
        .submit(
            "/account",
            "/account/keys",
            &[("purpose", "support"), ("validity", "16")],
        )
        .await;
    assert_eq!(response.status(), 422, "validity only from the list");
    let page = rep.get_text("/account").await.1;
    assert!(
        page.contains("value=\"30\"") && !page.contains("value=\"60\""),
        "reps are offered validities up to the organization's longest"
    );

    let revoke_action = page
        .split("action=\"/account/keys/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let response = rep
        .submit(
            "/account",
            &format!("/account/keys/{revoke_action}/revoke"),
            &[],
        )
        .await;
    assert_eq!(location(&response), "/account");
    assert_eq!(keys_on(&rep.get_text("/account").await.1).len(), 7);
    // With a place free, a validity beyond the organization's longest is still refused.
    let response = rep
        .submit(
            "/account",
            "/account/keys",
            &[("purpose", "support"), ("validity", "60")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let text = response.text().await.unwrap();
    assert!(text.contains("Keys here are valid 30 minutes at most."));
    let revoked = &keys[0];
    let response = p
        .app
        .submit("/p/help", "/p/help/key", &[("key", revoked)])
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This key is not valid or has expired."),
        "the customer is told it no longer works (not why: that would tell a guesser)"
    );
    // Another rep cannot revoke Riley's keys.
    p.app.add_rep(p.org, "other@acme.test").await;
    let intruder = p.app.other_browser();
    intruder.login("other@acme.test", PASSWORD).await;
    let second = page
        .split("action=\"/account/keys/")
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        intruder
            .submit("/account", &format!("/account/keys/{second}/revoke"), &[])
            .await
            .status(),
        404
    );
}

async fn a_profile_access_key_unlocks_one_download(backend: Backend) {
    use store::extras::NewIosProfile;
    let p = portal_app(spawn_app(backend).await).await;
    let plist = b"<?xml version=\"1.0\"?><plist><dict><key>PayloadContent</key></dict></plist>";
    let profile = NewIosProfile {
        name: "VPN",
        description: "",
        public: false,
        content: plist,
    };
    let id = p
        .app
        .store
        .add_ios_profile(p.org, p.site, &profile, now())
        .await
        .unwrap()
        .unwrap();
    let rep = p.app.other_browser();
    rep.login("riley@acme.test", PASSWORD).await;
    let response = rep
        .submit(
            "/account",
            "/account/keys",
            &[("purpose", &format!("profile:{id}")), ("validity", "60")],
        )
        .await;
    let page = response.text().await.unwrap();
    assert!(page.contains("Access key for profile VPN"));
    let key = keys_on(&page).remove(0);
    let action = format!("/p/help/profiles/{id}");
    let response = p
        .app
        .submit("/p/help", &action, &[("access_key", &key)])
        .await;
    assert_eq!(
        response.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    // The message sends the customer to the site's portal page, where the profile is.
    let shown = page.replace("&#x2f;", "/");
    let opened = format!("open {}/p/help on your iPhone", p.app.address);
    assert!(shown.contains(&opened), "{shown}");
    // A used (or never issued) key is refused as a profile key, not as a session key.
    for used_or_unknown in [key.as_str(), "123123123"] {
        let again = p
            .app
            .submit("/p/help", &action, &[("access_key", used_or_unknown)])
            .await;
        let page = again.text().await.unwrap();
        assert!(
            page.contains("This profile key is not valid or has expired."),
            "{used_or_unknown}"
        );
    }
    let response = rep
        .submit(
            "/account",
            "/account/keys",
            &[("purpose", "profile:999999"), ("validity", "60")],
        )
        .await;
    assert_eq!(
        response.status(),
        422,
        "only the organization's private profiles"
    );
}

async fn keys_are_issued_from_the_console_too(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let rep = p.app.other_browser();
    rep.login("riley@acme.test", PASSWORD).await;
    let response = rep
        .submit(
            "/console",
            "/account/keys",
            &[
                ("purpose", "support"),
                ("validity", "15"),
                ("return_to", "console"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/console", "back to the console");
    let console = rep.get_text("/console").await.1;
    let keys = keys_on(&console);
    assert_eq!(keys.len(), 1, "the console shows the live key");
    let response = rep
        .submit(
            "/console",
            "/account/keys",
            &[
                ("purpose", "support"),
                ("validity", "7"),
                ("return_to", "console"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("data-testid=\"get-next\""),
        "errors come back in the console"
    );
}

on_both_backends!(
    keys_are_issued_from_the_console_too,
    a_rep_issues_a_session_key_that_leads_a_customer_to_them,
    key_digits_limits_and_revoking,
    a_profile_access_key_unlocks_one_download,
);
