//! Health, readiness, metrics and the headers every response carries.

use crate::helpers::spawn_app;
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
        app.get("/readyz").await.status(),
        503,
        "not ready without its database"
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
}

on_both_backends!(
    health_readiness_and_metrics,
    pages_carry_security_headers_and_errors_are_pages
);
