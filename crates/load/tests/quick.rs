//! The load tool's quick mode as a smoke test: every scenario completes without errors against
//! a real server (the workspace's own build of it). No timing is asserted: figures on a shared
//! machine are for docs/benchmarks.md, measured on a release build, never for a test.
#![allow(clippy::expect_used)] // a test: a failed expect is a failed test

use std::path::PathBuf;
use std::process::Command;

#[test]
fn every_scenario_completes_without_errors() {
    let tool = PathBuf::from(env!("CARGO_BIN_EXE_supportal-load"));
    let server = tool.with_file_name("supportal");
    assert!(
        server.exists(),
        "{} is missing: build the whole workspace (scripts/test does) before this test",
        server.display()
    );
    let output = Command::new(&tool)
        .args(["--quick", "--server"])
        .arg(&server)
        .env_remove("SUPPORTAL_DEMO_PASSWORD")
        .output()
        .expect("the load tool runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "supportal-load --quick failed:\n{stdout}\n{stderr}"
    );
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
