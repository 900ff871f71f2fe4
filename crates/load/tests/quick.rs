//! The load tool's quick mode as a smoke test: every scenario completes without errors against
//! a real server (the workspace's own build of it). No timing is asserted: figures on a shared
//! machine are for docs/benchmarks.md, measured on a release build, never for a test.
#![allow(clippy::expect_used)] // a test: a failed expect is a failed test

use std::path::PathBuf;
use std::process::Command;

/// The tool and the server beside it (the workspace's own build).
fn tool_and_server() -> (PathBuf, PathBuf) {
    let tool = PathBuf::from(env!("CARGO_BIN_EXE_supportal-load"));
    let server = tool.with_file_name("supportal");
    assert!(
        server.exists(),
        "{} is missing: build the whole workspace (scripts/test does) before this test",
        server.display()
    );
    (tool, server)
}

/// Run the tool with `args` in quick mode; its output, after checking it succeeded.
fn run_quick(args: &[&str]) -> String {
    let (tool, server) = tool_and_server();
    let output = Command::new(&tool)
        .args(args)
        .args(["--quick", "--server"])
        .arg(&server)
        .env_remove("SUPPORTAL_DEMO_PASSWORD")
        .output()
        .expect("the load tool runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "supportal-load {args:?} --quick failed:\n{stdout}\n{stderr}"
    );
    stdout
}

#[test]
fn every_scenario_completes_without_errors() {
    let stdout = run_quick(&[]);
    for scenario in [
        "== portal page",
        "== sessions started",
        "== idle sockets",
        "== console fan-out",
        "== chat delivery",
    ] {
        assert!(
            stdout.contains(scenario),
            "{scenario} did not run:\n{stdout}"
        );
    }
    assert!(stdout.contains(" 0 errors"), "{stdout}");
    println!("{stdout}");
}

/// The cluster scenario: three nodes and one behind a real nginx, on the machine's PostgreSQL
/// and Redis (the ones scripts/test makes sure of).
#[test]
fn the_cluster_scenario_completes_without_errors() {
    let postgres = std::env::var("SUPPORTAL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let redis = std::env::var("SUPPORTAL_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let stdout = run_quick(&["cluster", "--postgres", &postgres, "--redis", &redis]);
    assert!(stdout.contains("== several nodes"), "{stdout}");
    assert!(stdout.contains("ratio 3 nodes / one node"), "{stdout}");
    assert!(stdout.contains(" 0 errors"), "{stdout}");
    println!("{stdout}");
}

/// The reports scenario on both backends: a small history written through the store's
/// generator, then a month's report loaded (the page with its chart, and the CSV) without error.
#[test]
fn the_reports_scenario_completes_without_errors_on_both_backends() {
    let postgres = std::env::var("SUPPORTAL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    for args in [&["reports"][..], &["reports", "--postgres", &postgres][..]] {
        let stdout = run_quick(args);
        assert!(stdout.contains("written: 20,000 sessions"), "{stdout}");
        assert!(stdout.contains("page by day  p50"), "{stdout}");
        assert!(stdout.contains(" 0 errors"), "{stdout}");
        println!("{stdout}");
    }
}

/// The chat scenario with its floors: the committing relay, and both relays started again as a
/// process of their own (`--serve-relay`), each delivering every message once.
#[test]
fn the_chat_floors_run_in_the_tool_and_in_a_process_of_their_own() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let each = dir.path().join("latencies.txt");
    let each_arg = each.to_str().expect("a UTF-8 path");
    let stdout = run_quick(&["chat", "--chat-floor", "--chat-latencies", each_arg]);
    for relay in [
        "baseline, a bare WebSocket relay in the tool:",
        "floor, the relay committing each message to SQLite before forwarding it:",
        "the bare relay in a process of its own:",
        "the committing relay in a process of its own:",
        "the complete relay (numbered, idempotent, acknowledged) in a process of its own:",
        "the complete relay on one thread in a process of its own:",
        "supportal:",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(relay))
            .unwrap_or_else(|| panic!("{relay} did not run:\n{stdout}"));
        assert!(line.contains("lost 0  twice 0"), "{line}");
    }
    // The relay's own process is measured too (its CPU, read from /proc).
    assert!(stdout.contains("CPU per message: relay "), "{stdout}");
    assert!(stdout.contains(" 0 errors"), "{stdout}");
    // Every message Supportal delivered, in the order sent: its id, send time, latency.
    let written = std::fs::read_to_string(&each).expect("the latencies file");
    let rows: Vec<(&str, f64, u64)> = written
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "{l}");
            (
                f[0],
                f[1].parse().expect("seconds"),
                f[2].parse().expect("µs"),
            )
        })
        .collect();
    assert!(rows.len() >= 20, "{written}");
    assert!(
        rows.iter()
            .all(|(id, _, micros)| id.starts_with(['c', 'r']) && *micros > 0),
        "{written}"
    );
    assert!(
        rows.windows(2).all(|w| w[0].1 <= w[1].1),
        "in the order sent:\n{written}"
    );
    println!("{stdout}");
}
