//! Static files, embedded in the binary (no files to deploy beside it).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../static/css/app.css"),
    ),
    (
        "waiting.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/waiting.js"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/chat.js"),
    ),
    (
        "sharing.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/sharing.js"),
    ),
    (
        "presentation.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/presentation.js"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/console.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../static/favicon.svg"),
    ),
    (
        "zone.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/zone.js"),
    ),
    (
        "embed.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/embed.js"),
    ),
    (
        "framed.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/framed.js"),
    ),
    (
        "file-into-field.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/js/file-into-field.js"),
    ),
];

pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn every_static_file_a_template_references_is_served() {
        for (template, source) in crate::templates::TEMPLATES {
            for reference in source.split("/static/").skip(1) {
                let name: String = reference
                    .chars()
                    .take_while(|c| {
                        c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_'
                    })
                    .collect();
                assert!(
                    FILES.iter().any(|(file, _, _)| *file == name),
                    "{template} refers to /static/{name}, which is not served"
                );
            }
        }
    }
}
