//! The binary as an operator runs it: config check, admin create, mistakes, first start, SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_supportal");

fn supportal(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("SUPPORTAL_DATA_DIR", dir.join("data"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("supportal-cli-{name}-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_check_shows_effective_values_without_secrets() {
    let dir = temp_dir("check");
    std::fs::write(
        dir.join("supportal.toml"),
        "[server]\nbind = \"127.0.0.1:9999\"\n[webrtc]\nturn = [\"turn:127.0.0.1:3478\"]\n",
    )
    .unwrap();
    let out = supportal(
        &dir,
        &["config", "check"],
        &[
            (
                "SUPPORTAL_DATABASE__URL",
                "postgres://supportal:hunter2@db.internal/supportal",
            ),
            ("SUPPORTAL_DATABASE__MAX_CONNECTIONS", "6"),
            ("SUPPORTAL_LOG__FORMAT", "json"),
            ("SUPPORTAL_ADMIN_PASSWORD", "not configuration"),
            ("SUPPORTAL_WEBRTC__TURN_SECRET", "coturn-static-secret"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("bind = \"127.0.0.1:9999\""),
        "file applied: {shown}"
    );
    assert!(shown.contains("format = \"json\""), "environment applied");
    assert!(shown.contains("max_connections = 6"), "{shown}");
    assert!(shown.contains("postgres://supportal:***@db.internal/supportal"));
    assert!(!shown.contains("hunter2"), "secrets never printed");
    assert!(shown.contains("turn_secret = \"***\""), "{shown}");
    assert!(
        !shown.contains("coturn-static-secret"),
        "secrets never printed"
    );

    let secret = [("SUPPORTAL_WEBRTC__TURN_SECRET", "coturn-static-secret")];
    let example = supportal(&dir, &["config", "example"], &secret);
    assert!(text(&example.stdout).contains("[security]"));
}

#[test]
fn operator_mistakes_give_one_clear_line_and_a_failure_code() {
    let dir = temp_dir("mistakes");
    /// Arguments, environment, and what the one line of error must say.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 8] = [
        (
            &["config", "check"],
            &[("SUPPORTAL_SERVER__BIND", "everywhere")],
            "config server.bind: 'everywhere' is not an address",
        ),
        (
            &["config", "check"],
            &[("SUPPORTAL_LOG__FORMAT", "xml")],
            "config log.format",
        ),
        (
            &["config", "check"],
            &[("SUPPORTAL_SERVER__BNID", "x")],
            "unknown field",
        ),
        (
            &["config", "check"],
            &[("SUPPORTAL_WEBRTC__CREDENTIAL_SECS", "5")],
            "config webrtc.credential_secs: must be from 60 to 86400",
        ),
        (
            &["config", "check"],
            &[("SUPPORTAL_DATABASE__MAX_CONNECTIONS", "8")],
            "config database.max_connections: applies to PostgreSQL only",
        ),
        (
            &["config", "check"],
            &[
                ("SUPPORTAL_DATABASE__URL", "postgres://postgres@127.0.0.1/x"),
                ("SUPPORTAL_DATABASE__MAX_CONNECTIONS", "2"),
            ],
            "config database.max_connections: must be from 4 to 10000",
        ),
        (
            &["migrate"],
            &[(
                "SUPPORTAL_DATABASE__URL",
                "postgres://postgres@127.0.0.1:1/nothing",
            )],
            "cannot reach the database at postgres://postgres@127.0.0.1:1/nothing",
        ),
        (
            &["--config", "missing.toml", "config", "check"],
            &[],
            "config --config: no file at missing.toml",
        ),
    ];
    for (args, env, expected) in cases {
        let out = supportal(&dir, args, env);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked") && !err.contains("backtrace"));
    }

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = supportal(&dir, &["serve", "--bind", &addr], &[]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("cannot listen on {addr} (server.bind)")),
        "{err}"
    );
}

#[test]
fn admin_create_takes_the_password_from_the_environment_or_stdin() {
    let dir = temp_dir("admin");
    let out = supportal(
        &dir,
        &[
            "admin",
            "create",
            "--email",
            "ops@acme.test",
            "--name",
            "Ops",
            "--org",
            "acme",
            "--instance-admin",
        ],
        &[("SUPPORTAL_ADMIN_PASSWORD", "a strong password")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Created organization acme with admin ops@acme.test."));

    let mut child = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--email",
            "second@acme.test",
            "--name",
            "Second",
        ])
        .current_dir(&dir)
        .env("SUPPORTAL_DATA_DIR", dir.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another strong one\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Created admin second@acme.test in organization acme."));

    let again = supportal(
        &dir,
        &[
            "admin",
            "create",
            "--email",
            "ops@acme.test",
            "--name",
            "Ops",
        ],
        &[("SUPPORTAL_ADMIN_PASSWORD", "a strong password")],
    );
    assert!(text(&again.stderr).contains("--email: an account with ops@acme.test already exists"));
    let weak = supportal(
        &dir,
        &["admin", "create", "--email", "x@acme.test", "--name", "X"],
        &[("SUPPORTAL_ADMIN_PASSWORD", "weak")],
    );
    assert!(text(&weak.stderr).contains("At least 10 characters."));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::connect(&format!(
            "sqlite://{}",
            dir.join("data/supportal.db").display()
        ))
        .await
        .unwrap();
        let (user, _) = store
            .credentials(&domain::text::Email::parse("ops@acme.test").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(user.is_instance_admin && user.role == domain::Role::Admin);
        let (second, _) = store
            .credentials(&domain::text::Email::parse("second@acme.test").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.org_id, user.org_id);
    });
}

/// `supportal serve` on a free port with its data under `dir`, and the lines it prints.
fn serve_in(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env("SUPPORTAL_DATA_DIR", dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

#[test]
fn first_start_prints_a_setup_link_and_sigterm_stops_the_server_gracefully() {
    let dir = temp_dir("serve");
    let (mut child, mut lines) = serve_in(&dir);
    let mut link = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(at) = line.find("http://") {
            if line.contains("/setup?token=") {
                link = Some(line[at..].trim().to_owned());
            }
        }
        if line.starts_with("Supportal is running") {
            break;
        }
    }
    let link = link.expect("a setup link is printed");
    assert!(
        !link.contains(":0/"),
        "the link names the real port: {link}"
    );
    let status = reqwest::blocking_get(&link);
    assert_eq!(status, 200, "the printed link opens the setup page");
    assert!(
        dir.join("data/supportal.db").exists(),
        "SQLite database created in the data directory"
    );

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits cleanly: {exit:?}");
}

/// A SIGTERM as soon as the server says it runs (a supervisor stopping it at once) stops it
/// gracefully too: its handler is in place by then.
#[test]
fn a_sigterm_right_after_the_start_line_stops_the_server_gracefully() {
    for round in 0..5 {
        let dir = temp_dir(&format!("early-term-{round}"));
        let (mut child, lines) = serve_in(&dir);
        for line in lines {
            if line.unwrap().starts_with("Supportal is running") {
                break;
            }
        }
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let exit = child.wait().unwrap();
        assert!(exit.success(), "round {round}: exits cleanly: {exit:?}");
    }
}

mod reqwest {
    /// A GET from a synchronous test, through a throwaway runtime.
    pub fn blocking_get(url: &str) -> u16 {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }
}
