//! Schemathesis (PyPI), the property-based API tester, against the generated OpenAPI document:
//! every operation with generated and edge-case input, with a token holding every scope. No
//! answer may be a server error, and every answer must match the document (status, content
//! type, schema). Bounded: a fixed number of examples per operation and a fixed seed, so a run
//! repeats. scripts/test installs Schemathesis into target/schemathesis.

use crate::api::make_token;
use crate::helpers::{spawn_with, test_config, PASSWORD};
use crate::portal::portal_app;
use std::path::PathBuf;
use store::Backend;

fn schemathesis() -> PathBuf {
    match std::env::var_os("SUPPORTAL_SCHEMATHESIS") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/schemathesis/bin/schemathesis"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let tool = schemathesis();
    assert!(
        tool.exists(),
        "{} is missing: scripts/test installs Schemathesis (python3 -m venv target/schemathesis && target/schemathesis/bin/pip install schemathesis)",
        tool.display()
    );
    let mut config = test_config(Backend::Sqlite).await;
    // The tester makes thousands of calls in a minute with one token.
    config.security.api_requests_per_token_per_minute = 1_000_000;
    let p = portal_app(spawn_with(&config).await).await;
    // Something to read: a session in each state.
    p.contact_request("Quinn").await;
    let (taken, _) = p.contact_request("Cleo").await;
    let riley = crate::console::rep(&p.app, "riley@acme.test").await;
    crate::chat::accept(&riley, taken.0).await;
    let admin = p.app.other_browser();
    assert_eq!(admin.login("admin@acme.test", PASSWORD).await.status(), 303);
    let scopes = [
        "sessions:read",
        "notices:write",
        "keys:write",
        "sites:write",
        "reports:read",
    ];
    let token = make_token(&admin, "Schemathesis", &scopes).await;
    let schema = p.app.url("/api/v1/openapi.json");
    let report = tempfile_path("schemathesis-report");
    let mut command = std::process::Command::new(&tool);
    command
        .args(["run", &schema])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "50", "--seed", "20261205", "--workers", "2"])
        .args(["--request-timeout", "10", "--no-color"])
        .arg("--report-dir")
        .arg(&report)
        // Its cache (crashes it saw) goes to a directory of this run, not the source tree.
        .current_dir(std::env::temp_dir());
    // The server runs on this test's runtime: the tester waits on a thread of its own.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("Schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Schemathesis found problems:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    let _ = std::fs::remove_dir_all(report);
}

fn tempfile_path(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{prefix}-{}", rand::random::<u64>()))
}
