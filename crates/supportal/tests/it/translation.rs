//! Live translation in a chat, on both backends, through stand-ins for LibreTranslate and DeepL
//! at their HTTP boundary: a German-speaking customer and an English-speaking rep each read the
//! other in their own language with the original kept; a provider that is slow or down costs a
//! message at most the timeout, and the original goes out marked "not translated".

use crate::chat::{accept, chat_lines, customer_says, rep_says};
use crate::console::{rep, session_cookie, socket_at};
use crate::helpers::{location, spawn_app_with, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use crate::stand_in::{self, StandIn};
use crate::stand_in::{ENGLISH_ANSWER, ENGLISH_QUESTION, GERMAN_ANSWER, GERMAN_QUESTION};
use std::time::{Duration, Instant};
use store::Backend;

/// A portal whose site translates, on an app that uses `provider` at `url`.
async fn translating_portal(
    backend: Backend,
    provider: &str,
    url: &str,
    key: Option<&str>,
    timeout_ms: u64,
) -> Portal {
    let app = spawn_app_with(backend, |c| {
        c.translation.provider = provider.into();
        c.translation.url = Some(url.into());
        c.translation.api_key = key.map(str::to_owned);
        c.translation.timeout_ms = timeout_ms;
    })
    .await;
    let p = portal_app(app).await;
    p.settings(|s| s.translation = true).await;
    p
}

/// A customer whose portal is in German asks for help: their browser and waiting page.
async fn german_customer(p: &Portal) -> (TestApp, String) {
    let customer = p.app.other_browser();
    customer.get("/p/help?lang=de").await;
    let asked = customer
        .submit("/p/help", "/p/help/contact", &[("customer_name", "Jonas")])
        .await;
    (customer, location(&asked))
}

async fn a_german_customer_and_an_english_rep_read_each_other(
    backend: Backend,
    provider: &str,
    stand_in: StandIn,
    key: Option<&str>,
) {
    let p = translating_portal(backend, provider, &stand_in.url, key, 3000).await;
    let (customer, waiting) = german_customer(&p).await;
    let id = p.session_at(&waiting).await.id.0;

    // Written while waiting: nobody to translate for yet; the customer sees what they wrote.
    let (status, sent) = customer_says(&customer, &waiting, GERMAN_QUESTION, "c-1").await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["line"]["text"], GERMAN_QUESTION);
    assert!(sent["line"]["original"].is_null());
    assert_eq!(sent["line"]["not_translated"], false);
    assert_eq!(stand_in.calls(), 0, "no reader in another language yet");

    // Riley (English) takes it and reads it in English, the German one click away; the
    // translation is kept, so reading again asks the provider nothing.
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, id).await;
    let read = format!("/console/sessions/{id}/messages?after=0");
    let first: serde_json::Value = riley.get(&read).await.json().await.unwrap();
    let question = first
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "message");
    let question = question.expect("the customer's message");
    assert_eq!(question["text"], ENGLISH_QUESTION);
    assert_eq!(question["original"], GERMAN_QUESTION);
    assert_eq!(question["lang"], "de");
    assert_eq!(stand_in.calls(), 1);
    let _ = riley.get(&read).await;
    let (_, panel) = riley.get_text(&format!("/console/sessions/{id}")).await;
    assert!(panel.contains(ENGLISH_QUESTION) && panel.contains("data-testid=\"show-original\""));
    assert_eq!(
        stand_in.calls(),
        1,
        "a kept translation is not asked for again"
    );
    let (headers, body) = stand_in.first_request();
    match provider {
        "deepl" => {
            assert_eq!(body["source_lang"], "DE");
            assert_eq!(body["target_lang"], "EN-GB");
            assert_eq!(headers["authorization"], "DeepL-Auth-Key test-key:fx");
        }
        _ => {
            assert_eq!(
                (body["source"].as_str(), body["target"].as_str()),
                (Some("de"), Some("en"))
            );
            assert_eq!(body["format"], "text");
        }
    }

    // Both live: Riley answers in English, the customer reads German; the customer writes again
    // and Riley reads English at once (translated before it was announced).
    let seen = first.as_array().unwrap().last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    let mut customer_socket = socket_at(&p.app, &format!("{waiting}/ws?after={seen}"), None).await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let riley_path = format!("/console/sessions/{id}/ws?after={seen}");
    let mut riley_socket = socket_at(&p.app, &riley_path, Some(&cookie)).await;
    let (status, own) = rep_says(&riley, id, ENGLISH_ANSWER, "r-1").await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(
        own["line"]["text"], ENGLISH_ANSWER,
        "the rep reads their own words"
    );
    let heard = chat_lines(&mut customer_socket, 1).await;
    assert_eq!(heard[0]["text"], GERMAN_ANSWER);
    assert_eq!(heard[0]["original"], ENGLISH_ANSWER);
    let (_, page) = customer.get_text(&waiting).await;
    assert!(
        page.contains(GERMAN_ANSWER) && page.contains("Original anzeigen"),
        "{page}"
    );

    let follow_up = "Der Drucker zeigt einen Fehler mit dem Papier an und blinkt rot.";
    customer_says(&customer, &waiting, follow_up, "c-2").await;
    let on_console = chat_lines(&mut riley_socket, 2).await;
    let last = on_console.last().unwrap();
    assert_eq!(
        last["text"],
        format!(
            "[{}] {follow_up}",
            if provider == "deepl" { "en-gb" } else { "en" }
        )
    );
    assert_eq!(last["original"], follow_up);

    // The transcript keeps each message as written and its translation.
    let (_, transcript) = customer.get_text(&format!("{waiting}/transcript")).await;
    for text in [
        GERMAN_QUESTION,
        ENGLISH_QUESTION,
        ENGLISH_ANSWER,
        GERMAN_ANSWER,
    ] {
        assert!(transcript.contains(text), "{text} in {transcript}");
    }
}

async fn translated_through_libretranslate(backend: Backend) {
    let stand_in = stand_in::libretranslate(Duration::ZERO).await;
    a_german_customer_and_an_english_rep_read_each_other(backend, "libretranslate", stand_in, None)
        .await;
}

async fn translated_through_deepl(backend: Backend) {
    let stand_in = stand_in::deepl("test-key:fx").await;
    let key = Some("test-key:fx");
    a_german_customer_and_an_english_rep_read_each_other(backend, "deepl", stand_in, key).await;
}

/// A rep's message to the German customer while the provider at `url` misbehaves: it arrives
/// within the timeout (500 ms here), as written, marked "not translated".
async fn delivered_untranslated_within_the_timeout(backend: Backend, url: &str) {
    let p = translating_portal(backend, "libretranslate", url, None, 500).await;
    let (customer, waiting) = german_customer(&p).await;
    let id = p.session_at(&waiting).await.id.0;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, id).await;
    let read = format!("{waiting}/messages?after=0");
    let so_far: serde_json::Value = customer.get(&read).await.json().await.unwrap();
    let seen = so_far.as_array().unwrap().last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    let mut customer_socket = socket_at(&p.app, &format!("{waiting}/ws?after={seen}"), None).await;
    for (n, words) in ["Please restart the printer.", "Is it working now?"]
        .iter()
        .enumerate()
    {
        let started = Instant::now();
        let (status, _) = rep_says(&riley, id, words, &format!("r-{n}")).await;
        assert_eq!(status, 200);
        let heard = chat_lines(&mut customer_socket, 1).await;
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2500), "delivered in {took:?}");
        assert_eq!(heard[0]["text"], *words);
        assert_eq!(heard[0]["not_translated"], true);
        assert!(heard[0]["original"].is_null());
    }
    let (_, page) = customer.get_text(&waiting).await;
    assert!(page.contains("data-testid=\"not-translated\"") && page.contains("nicht übersetzt"));
}

async fn a_slow_provider_costs_at_most_the_timeout(backend: Backend) {
    let slow = stand_in::libretranslate(Duration::from_secs(20)).await;
    delivered_untranslated_within_the_timeout(backend, &slow.url).await;
}

async fn a_provider_that_is_down_costs_nothing(backend: Backend) {
    let down = stand_in::nobody_listening().await;
    delivered_untranslated_within_the_timeout(backend, &down).await;
}

/// A site that does not translate shows every message as written, unmarked, and asks nobody.
async fn a_site_without_translation_asks_no_provider(backend: Backend) {
    let stand_in = stand_in::libretranslate(Duration::ZERO).await;
    let p = translating_portal(backend, "libretranslate", &stand_in.url, None, 3000).await;
    p.settings(|s| s.translation = false).await;
    let (customer, waiting) = german_customer(&p).await;
    let id = p.session_at(&waiting).await.id.0;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, id).await;
    customer_says(&customer, &waiting, GERMAN_QUESTION, "c-1").await;
    let (_, sent) = rep_says(&riley, id, ENGLISH_ANSWER, "r-1").await;
    assert_eq!(sent["line"]["text"], ENGLISH_ANSWER);
    let read = format!("/console/sessions/{id}/messages?after=0");
    let lines: serde_json::Value = riley.get(&read).await.json().await.unwrap();
    let texts: Vec<_> = lines
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "message")
        .collect();
    assert_eq!(texts[0]["text"], GERMAN_QUESTION);
    assert_eq!(texts[0]["not_translated"], false);
    assert_eq!(stand_in.calls(), 0);
}

/// A rep who never chose a chat language chats in their browser's; once they choose one, a
/// sign-in from a browser in another language keeps it.
async fn a_reps_chat_language_follows_the_browser_until_chosen(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let email = domain::text::Email::parse("riley@acme.test").unwrap();
    let language = || async {
        let (riley, _) = p.app.store.credentials(&email).await.unwrap().unwrap();
        riley.language
    };
    assert_eq!(language().await, "en", "nothing chosen, never signed in");
    let german = p.app.browser_speaking("de-DE,de;q=0.9,en;q=0.5");
    assert_eq!(
        german.login("riley@acme.test", PASSWORD).await.status(),
        303
    );
    assert_eq!(language().await, "de", "taken from the browser");

    let chose = german
        .submit("/account", "/account/language", &[("language", "en")])
        .await;
    assert_eq!(chose.status(), 200);
    let again = p.app.browser_speaking("de");
    assert_eq!(again.login("riley@acme.test", PASSWORD).await.status(), 303);
    assert_eq!(
        language().await,
        "en",
        "the rep's choice outlives other browsers"
    );
}

on_both_backends!(
    a_reps_chat_language_follows_the_browser_until_chosen,
    translated_through_libretranslate,
    translated_through_deepl,
    a_slow_provider_costs_at_most_the_timeout,
    a_provider_that_is_down_costs_nothing,
    a_site_without_translation_asks_no_provider,
);
