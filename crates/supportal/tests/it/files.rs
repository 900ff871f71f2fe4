//! Files in a chat, on both backends: sent by either side, downloadable only by the session's
//! people and the organization's admins, always as an attachment no browser renders, blocked
//! types and oversize files refused beside the field with nothing kept, resends stored once.

use crate::chat::accept;
use crate::console::rep;
use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::portal_app;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use store::Backend;

/// Send a file from `browser` into `action` (its form's token read from `page`).
async fn send_file(
    browser: &TestApp,
    page: &str,
    action: &str,
    (name, bytes): (&str, Vec<u8>),
    client_id: &str,
    json: bool,
) -> (u16, String) {
    let (_, html) = browser.get_text(page).await;
    let csrf = crate::helpers::csrf_in(&html);
    let form = Form::new()
        .text("csrf", csrf)
        .text("client_id", client_id.to_owned())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let mut request = browser.client.post(browser.url(action)).multipart(form);
    if json {
        request = request.header("accept", "application/json");
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// How many files are kept under the app's files directory.
fn files_kept(app: &TestApp) -> usize {
    let dir = &app.state.config.files.dir;
    let Ok(orgs) = std::fs::read_dir(dir) else {
        return 0;
    };
    orgs.flatten()
        .map(|org| std::fs::read_dir(org.path()).map_or(0, |f| f.count()))
        .sum()
}

async fn files_go_both_ways_as_downloads_only_their_people_get(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.files.max_mb = 1).await;
    let p = portal_app(app).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    let upload = format!("{waiting}/files");

    // The customer sends a log file: it is a line of the conversation, with a download link.
    let log = ("printer <b>log.txt", b"paper jam at tray 2".to_vec());
    let (status, body) = send_file(&p.app, &waiting, &upload, log.clone(), "f-1", true).await;
    assert_eq!(status, 200, "{body}");
    let sent: Value = serde_json::from_str(&body).unwrap();
    let file = &sent["line"]["file"];
    assert_eq!(file["name"], "printer <b>log.txt");
    assert_eq!(file["size"], "19 bytes");
    let id = file["id"].as_i64().unwrap();
    // Sent again with the same id (a retry): one message, one file kept.
    let (_, again) = send_file(&p.app, &waiting, &upload, log, "f-1", true).await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["line"]["seq"], sent["line"]["seq"]);
    assert_eq!(files_kept(&p.app), 1);

    // Riley's page links it as text; Riley downloads it, as an attachment that is never run.
    let (_, panel) = riley
        .get_text(&format!("/console/sessions/{}", session.0))
        .await;
    let link = format!("href=\"&#x2f;console&#x2f;files/{id}\" data-testid=\"attachment-link\"");
    assert!(panel.contains(&link), "{panel}");
    assert!(
        panel.contains("printer &lt;b&gt;log.txt"),
        "the name is text"
    );
    let download = riley.get(&format!("/console/files/{id}")).await;
    assert_eq!(download.status(), 200);
    let headers = download.headers().clone();
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        "attachment; filename=\"printer <b>log.txt\"; filename*=UTF-8''printer%20%3Cb%3Elog.txt"
    );
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        b"paper jam at tray 2"
    );

    // Riley sends a picture back; an SVG is a download like any other file.
    let svg = ("diagram.svg", b"<svg onload=\"alert(1)\"></svg>".to_vec());
    let console = format!("/console/sessions/{}", session.0);
    let (status, body) = send_file(
        &riley,
        &console,
        &format!("{console}/files"),
        svg,
        "r-f1",
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let svg_id = serde_json::from_str::<Value>(&body).unwrap()["line"]["file"]["id"]
        .as_i64()
        .unwrap();
    let mine = p.app.get(&format!("{waiting}/files/{svg_id}")).await;
    assert_eq!(mine.headers()["content-type"], "application/octet-stream");
    assert!(mine.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));

    // Nobody else: another session's customer, a rep not in the session, another organization.
    let (_, other_waiting) = p.contact_request("Dana").await;
    let theirs = p.app.get(&format!("{other_waiting}/files/{id}")).await;
    assert_eq!(theirs.status(), 404, "another session's customer");
    p.app.add_rep(p.org, "sam@acme.test").await;
    let sam = rep(&p.app, "sam@acme.test").await;
    assert_eq!(
        sam.get(&format!("/console/files/{id}")).await.status(),
        404,
        "a rep not in it"
    );
    p.app.org_with_admin("globex").await;
    let stranger = p.app.other_browser();
    stranger.login("admin@globex.test", PASSWORD).await;
    assert_eq!(
        stranger.get(&format!("/console/files/{id}")).await.status(),
        404
    );
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    assert_eq!(
        admin.get(&format!("/console/files/{id}")).await.status(),
        200,
        "an admin"
    );
}

async fn refused_files_are_said_beside_the_field_and_not_kept(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.files.max_mb = 1).await;
    let p = portal_app(app).await;
    let (_, waiting) = p.contact_request("Cleo").await;
    let upload = format!("{waiting}/files");
    let program = ("setup.EXE", b"MZ".to_vec());
    let (status, body) = send_file(&p.app, &waiting, &upload, program, "f-1", true).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Files of this type cannot be sent."),
        "{body}"
    );
    let big = ("scan.pdf", vec![b'x'; 1024 * 1024 + 1]);
    let (status, body) = send_file(&p.app, &waiting, &upload, big, "f-2", true).await;
    assert_eq!(status, 422);
    assert!(body.contains("Files can be at most 1 MB."), "{body}");
    // The oversize file was streamed into the files directory before it was refused: the
    // count below looks where files go, and finds nothing left there.
    assert!(p.app.state.config.files.dir.is_dir());
    assert_eq!(files_kept(&p.app), 0, "nothing kept of refused files");
    // Without script the page comes back with the reason beside the field, in German too.
    p.app.get(&format!("{waiting}?lang=de")).await;
    let program = ("run.bat", b"echo".to_vec());
    let (status, page) = send_file(&p.app, &waiting, &upload, program, "f-3", false).await;
    assert_eq!(status, 422);
    assert!(
        page.contains(
            "data-testid=\"file-error\">Dateien dieses Typs können nicht gesendet werden."
        ),
        "{page}"
    );
    // A form without its token keeps nothing.
    let forged = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("a.txt"));
    let response = p
        .app
        .client
        .post(p.app.url(&upload))
        .multipart(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(files_kept(&p.app), 0);
}

on_both_backends!(
    files_go_both_ways_as_downloads_only_their_people_get,
    refused_files_are_said_beside_the_field_and_not_kept,
);
