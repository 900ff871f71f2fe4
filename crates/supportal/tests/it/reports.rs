//! Reports over real sessions, on both backends: the table's figures as the sessions made
//! them, the chart drawn on the server, and the CSV with the same figures as the table.

use crate::chat::{accept, end_session};
use crate::console::rep;
use crate::helpers::PASSWORD;
use crate::on_both_backends;
use crate::portal::portal_app;
use store::Backend;

async fn the_report_counts_what_happened_and_its_csv_is_the_table(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let riley = rep(&p.app, "riley@acme.test").await;
    // Two by the contact button (one helped, resolved and rated 4; one still waiting), one by
    // the issue form (taken).
    let (helped, waiting) = p.contact_request("Ann").await;
    p.contact_request("Bob").await;
    let (form, _) = p.team_request("Cy").await;
    accept(&riley, helped.0).await;
    accept(&riley, form.0).await;
    end_session(&riley, helped.0, "resolved").await;
    let survey = format!("{waiting}/survey");
    assert_eq!(
        p.app
            .submit(&waiting, &survey, &[("rating", "4")])
            .await
            .status(),
        303
    );

    let admin = p.app.other_browser();
    assert_eq!(admin.login("admin@acme.test", PASSWORD).await.status(), 303);
    let (status, page) = admin.get_text("/admin/reports?group=method").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-testid=\"report-chart\""));
    assert!(
        page.contains("<svg") && page.contains("<rect"),
        "the chart is drawn on the server"
    );
    assert!(!page.contains("<script src=\"http"));
    let href_start = page.find("/admin/reports.csv?").unwrap();
    let href = page[href_start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let response = admin.get(&href).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("method,arrived,accepted,resolved"),
        "{csv}"
    );
    let line = |key: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{key},")))
            .unwrap_or_else(|| panic!("{key} in {csv}"))
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // arrived, accepted, resolved, left while waiting, transfers
    assert_eq!(line("Contact button")[1..6], ["2", "1", "1", "0", "0"]);
    assert_eq!(line("Issue form")[1..6], ["1", "1", "0", "0", "0"]);
    let total = line("Total");
    assert_eq!(total[1..6], ["3", "2", "1", "0", "0"]);
    assert_eq!(total[9..11], ["4.00", "1"], "one rating, 4");
    // The table shows the same figures.
    let row_of = |key: &str| {
        let start = page.find(&format!("<th scope=\"row\">{key}</th>")).unwrap();
        let cells: Vec<String> = page[start..]
            .split("</tr>")
            .next()
            .unwrap()
            .split("<td>")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap().to_owned())
            .collect();
        cells
    };
    assert_eq!(row_of("Contact button")[..5], line("Contact button")[1..6]);
    assert_eq!(row_of("Total")[..5], total[1..6]);

    // The same figures through the API.
    let token = crate::api::make_token(&admin, "Data team", &["reports:read"]).await;
    let data_team = crate::api::Api::new(&p.app, Some(&token));
    let (_, api) = data_team.get("/api/v1/reports/sessions?group=method").await;
    assert_eq!(api["total"]["arrived"], 3, "{api}");
    assert_eq!(api["total"]["rating_average"], 4.0);
    let contact = api["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "Contact button")
        .unwrap();
    assert_eq!(
        (contact["arrived"].as_i64(), contact["resolved"].as_i64()),
        (Some(2), Some(1))
    );
    // By rep and by team: each session under the name of who took it, or of its queue.
    let arrived_by = |group: &'static str| {
        let data_team = &data_team;
        async move {
            let path = format!("/api/v1/reports/sessions?group={group}");
            let (_, api) = data_team.get(&path).await;
            let mut rows: Vec<(String, i64)> = api["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["key"].as_str().unwrap().to_owned(),
                        r["arrived"].as_i64().unwrap(),
                    )
                })
                .filter(|(_, arrived)| *arrived > 0)
                .collect();
            rows.sort();
            rows
        }
    };
    assert_eq!(
        arrived_by("rep").await,
        [("Not taken".to_owned(), 1), ("Robin Rep".to_owned(), 2)]
    );
    assert_eq!(
        arrived_by("team").await,
        [("No team queue".to_owned(), 2), ("Support".to_owned(), 1)]
    );

    // Refused dates stay beside their field.
    let (status, page) = admin
        .get_text("/admin/reports?from=2026-12-10&to=2026-12-01")
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"f-to-error\""), "{page}");
}

on_both_backends!(the_report_counts_what_happened_and_its_csv_is_the_table,);
