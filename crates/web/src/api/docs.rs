//! The API described: the OpenAPI 3.1 document generated from the handlers and their types,
//! and a page for people that shows the same document (served by the binary, no outside
//! script or style).

use super::{directory, error, keys, notices, reports, sessions, sites};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Supportal REST API",
        description = "Support sessions, notices and the directory of a Supportal organization. \
            Authenticate with an API token an admin makes (Admin → API): \
            `Authorization: Bearer spt_…`. Each token has scopes; a call outside them is refused \
            with 403 `insufficient_scope`. Errors share one shape: \
            `{\"error\": {\"code\", \"message\", \"field\", \"reason\"}}`."
    ),
    paths(
        sessions::list, sessions::one, sessions::transcript, sessions::survey,
        notices::list, notices::create, notices::end,
        keys::issue, keys::revoke,
        reports::sessions,
        sites::list, sites::one, sites::update_texts, sites::set_schedule, sites::remove_schedule,
        directory::reps, directory::teams, directory::issue_types,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerToken),
    tags(
        (name = "sessions", description = "Support sessions, their events, transcripts and surveys"),
        (name = "notices", description = "Notices customers see on a site's portal"),
        (name = "keys", description = "Session keys issued for a rep"),
        (name = "reports", description = "Sessions counted and timed per day or group"),
        (name = "sites", description = "Support portals: their texts and opening hours"),
        (name = "directory", description = "Reps, teams and issue types"),
    )
)]
struct ApiDoc;

/// The token scheme every authenticated route names, and the answers every route may give
/// whatever it is: 400 for an address that cannot be read (a control character in it).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let unreadable = utoipa::openapi::ResponseBuilder::new()
            .description("The request could not be read")
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .responses
                    .responses
                    .entry("400".into())
                    .or_insert_with(|| unreadable.clone().into());
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("spt_…")
                    .description(Some("An API token from Admin → API"))
                    .build(),
            ),
        );
    }
}

/// The document, made once.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").into();
    document
});

/// `GET /api/v1/openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Response {
    let mut document = DOCUMENT.clone();
    document.servers = Some(vec![utoipa::openapi::Server::new(
        state.config.public_url.clone(),
    )]);
    match document.to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(err) => super::ApiError::internal(err).into_response(),
    }
}

/// `GET /api/v1/docs`: every route with its parameters, body and answers, from the document.
pub async fn page(State(state): State<AppState>) -> Result<Html<String>, crate::error::AppError> {
    let base = format!("{}{}", state.config.public_url, super::PREFIX);
    state.templates.page("api/docs.html", page_context(&base)?)
}

/// What the reference page shows: the document's routes (method and path with the operation)
/// and its types.
fn page_context(base: &str) -> Result<minijinja::Value, crate::error::AppError> {
    let document = serde_json::to_value(&*DOCUMENT).map_err(crate::error::AppError::internal)?;
    let mut routes = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for (path, methods) in paths {
            for (method, operation) in methods.as_object().into_iter().flatten() {
                routes.push(serde_json::json!({
                    "path": path,
                    "method": method.to_uppercase(),
                    "operation": operation,
                }));
            }
        }
    }
    Ok(minijinja::context! {
        info => minijinja::Value::from_serialize(&document["info"]),
        routes => minijinja::Value::from_serialize(&routes),
        schemas => minijinja::Value::from_serialize(&document["components"]["schemas"]),
        base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_page_shows_every_route_and_type_of_the_document() {
        let catalog = std::sync::Arc::new(crate::i18n::Catalog::load().unwrap());
        let templates = crate::templates::Templates::load(catalog).unwrap();
        let html = templates
            .render("api/docs.html", page_context("http://x/api/v1").unwrap())
            .unwrap_or_else(|e| panic!("{e:#}"));
        // Escaped as every text is (a slash too).
        let html = html.replace("&#x2f;", "/");
        for shown in [
            "GET /api/v1/sessions",
            "POST /api/v1/notices/{id}/end",
            "id=\"schema-SessionPage\"",
            "<code>sessions:read</code>",
        ] {
            assert!(html.contains(shown), "{shown}");
        }
    }
}
