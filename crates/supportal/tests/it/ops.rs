//! Health, readiness, metrics and the headers every response carries.

use crate::helpers::{spawn_app, spawn_app_with};
use crate::on_both_backends;
use store::Backend;

async fn health_readiness_and_metrics(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get_text("/healthz").await, (200, "ok".into()));
    assert_eq!(app.get_text("/readyz").await, (200, "ready".into()));
    app.get("/login").await;
    app.get("/nowhere").await;
    let (status, metrics) = app.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            r#"supportal_http_requests_total{method="GET",route="/login",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"route="unmatched",status="404""#));
    assert!(metrics.contains("supportal_http_request_duration_seconds_bucket"));

    app.store.close().await;
    assert_eq!(
        app.get_text("/readyz").await,
        (503, "not ready".into()),
        "not ready without its database, and nothing more said"
    );
}

async fn metrics_are_for_the_operator_only(backend: Backend) {
    // Behind a proxy: a request from elsewhere (its X-Forwarded-For) finds nothing.
    let app = spawn_app_with(backend, |c| c.server.behind_proxy = true).await;
    let from = |ip: &'static str| {
        app.client
            .get(app.url("/metrics"))
            .header("x-forwarded-for", ip)
            .send()
    };
    assert_eq!(from("203.0.113.5").await.unwrap().status(), 404);
    assert_eq!(from("127.0.0.1").await.unwrap().status(), 200);

    // X-Forwarded-For counts only from a configured proxy: with the proxy elsewhere, this
    // loopback client's claim to be 203.0.113.5 is ignored (and loopback may scrape).
    let app = spawn_app_with(backend, |c| {
        c.server.behind_proxy = true;
        c.server.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let claimed = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.5")
        .send()
        .await
        .unwrap();
    assert_eq!(
        claimed.status(),
        200,
        "the claim from a non-proxy is ignored"
    );

    // With a token: only a request that bears it, from anywhere.
    let app = spawn_app_with(backend, |c| {
        c.server.metrics_token = Some("s3cret-scraper".into());
    })
    .await;
    let with = |auth: Option<&'static str>| {
        let request = app.client.get(app.url("/metrics"));
        match auth {
            Some(auth) => request.header("authorization", auth).send(),
            None => request.send(),
        }
    };
    assert_eq!(with(None).await.unwrap().status(), 404);
    assert_eq!(with(Some("Bearer wrong")).await.unwrap().status(), 404);
    let scraped = with(Some("Bearer s3cret-scraper")).await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped
        .text()
        .await
        .unwrap()
        .contains("supportal_http_requests_total"));
}

async fn nothing_personal_is_cached_and_https_is_pinned(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/login").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(
        page.headers().get("strict-transport-security").is_none(),
        "http: no HSTS"
    );
    let css = app.get("/static/app.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    let https = spawn_app_with(backend, |c| {
        c.server.public_url = Some("https://support.example.com".into());
    })
    .await;
    let page = https.get("/login").await;
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

async fn pages_carry_security_headers_and_errors_are_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/login").await;
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    let (status, page) = app.get_text("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(page.contains("data-testid=\"error-page\"") && page.contains("Page not found"));
    let json = app
        .client
        .get(app.url("/nope"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json.json::<serde_json::Value>().await.unwrap()["error"],
        "Page not found"
    );
    let css = app.get("/static/app.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    // An icon for the tab, where pages name it and where browsers look without being told.
    let page = app.get_text("/login").await.1;
    assert!(page.contains("rel=\"icon\""));
    let asked = app.get("/favicon.ico").await;
    assert_eq!(crate::helpers::location(&asked), "/static/favicon.svg");
    let icon = app.get("/static/favicon.svg").await;
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

async fn a_slow_request_is_answered_and_dropped(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(backend, |c| c.server.request_timeout_secs = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Promises 100 bytes of body, sends 7, then stalls.
    slow.write_all(
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\nemail=a",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        slow.read_to_end(&mut answer),
    )
    .await;
    assert!(
        read.is_ok(),
        "the server answered and closed within the timeout"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

async fn slow_headers_are_dropped_and_connections_capped(backend: Backend) {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(backend, |c| c.server.header_read_timeout_secs = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(addr.clone());

    // Headers trickled in (and a connection that never says anything) are cut off.
    let mut trickle = connect().await.unwrap();
    let mut silent = connect().await.unwrap();
    let started = Instant::now();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    for header in ["Host: x\r\n", "X-A: 1\r\n", "X-B: 2\r\n"] {
        tokio::time::sleep(Duration::from_millis(400)).await;
        if trickle.write_all(header.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), trickle.read_to_end(&mut rest));
    assert!(closed.await.is_ok(), "slow headers: dropped");
    let mut nothing = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut nothing));
    assert!(closed.await.is_ok(), "silent: dropped");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // Three connections fill the cap: a fourth client waits until one of them closes (well
    // before their 5 s header deadline would free a place).
    let app = spawn_app_with(backend, |c| {
        c.server.header_read_timeout_secs = 5;
        c.server.max_connections = 3;
    })
    .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(addr.clone());
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut held_open = connect().await.unwrap();
        held_open
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = [0u8; 12];
        held_open.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200");
        held.push(held_open);
    }
    let fourth = app.other_browser();
    let waiting = tokio::spawn(async move { fourth.get("/healthz").await.status().as_u16() });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !waiting.is_finished(),
        "the fourth waits while three are open"
    );
    held.pop();
    let answered = tokio::time::timeout(Duration::from_secs(3), waiting).await;
    assert_eq!(answered.unwrap().unwrap(), 200, "answered once one closed");
}

on_both_backends!(
    slow_headers_are_dropped_and_connections_capped,
    a_slow_request_is_answered_and_dropped,
    metrics_are_for_the_operator_only,
    nothing_personal_is_cached_and_https_is_pinned,
    health_readiness_and_metrics,
    pages_carry_security_headers_and_errors_are_pages
);
