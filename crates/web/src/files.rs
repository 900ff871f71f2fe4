//! Files in a chat: received from a multipart form as they stream in (the size counted, the
//! file dropped past the limit, blocked types refused before a byte is kept), saved under the
//! files directory with a random name, recorded with their message, and served only as a
//! download that no browser renders.

use crate::app::chat::{Author, Content, Sent};
use crate::chat::{as_seen_by, client_id_or_new, refusal, ChatLine, Reader};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::Multipart;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use domain::files::FileName;
use domain::{FieldError, OrgId};
use store::chat::FileRecord;
use store::support::SupportSession;
use tokio::io::AsyncWriteExt;

/// A file kept under the files directory, not yet recorded.
#[derive(Debug)]
pub struct Saved {
    pub name: FileName,
    pub size: i64,
    /// Relative to the files directory: `<org>/<random>`.
    pub stored_as: String,
}

/// What a file form sent: the sender's id for the message, and the file or why it was refused.
pub struct Received {
    pub client_id: String,
    pub file: Result<Saved, FieldError>,
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!("the upload could not be read: {e}"))
}

/// Read a file form (`csrf`, `client_id`, then `file`). The CSRF token must come before the
/// file: nothing is written for a forged form.
pub async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    mut form: Multipart,
    org: OrgId,
) -> AppResult<Received> {
    let expected = crate::csrf::expected_token(headers, state.config.cookie_secure);
    let (mut csrf, mut client_id) = (String::new(), String::new());
    let mut file = Err(FieldError::Required);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(unreadable)?,
            Some("client_id") => client_id = field.text().await.map_err(unreadable)?,
            Some("file") => {
                if !crate::csrf::genuine(expected.as_deref(), Some(&csrf)) {
                    return Err(AppError::Csrf);
                }
                file = save(state, field, org).await?;
            }
            _ => {}
        }
    }
    if csrf.is_empty() {
        return Err(AppError::Csrf);
    }
    Ok(Received { client_id, file })
}

/// Stream one file field to disk; a refusal (no file, blocked type, too large) keeps nothing.
async fn save(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
    org: OrgId,
) -> AppResult<Result<Saved, FieldError>> {
    let raw_name = field.file_name().unwrap_or_default().to_owned();
    let name = match FileName::parse(&raw_name) {
        Ok(name) => name,
        Err(e) => return Ok(Err(e)),
    };
    let files = &state.config.files;
    if let Err(e) = name.check_type(&files.blocked_extensions) {
        return Ok(Err(e));
    }
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    let stored_as = format!("{org}/{token}");
    let path = files.dir.join(&stored_as);
    let dir = files.dir.join(org.to_string());
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AppError::internal)?;
    let mut out = tokio::fs::File::create(&path)
        .await
        .map_err(AppError::internal)?;
    let mut size: u64 = 0;
    let written: AppResult<Result<(), FieldError>> = async {
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            size += chunk.len() as u64;
            if size > files.max_bytes() {
                return Ok(Err(FieldError::FileTooLarge {
                    max_mb: files.max_mb,
                }));
            }
            out.write_all(&chunk).await.map_err(AppError::internal)?;
        }
        out.flush().await.map_err(AppError::internal)?;
        Ok(Ok(()))
    }
    .await;
    drop(out);
    match written {
        Ok(Ok(())) => Ok(Ok(Saved {
            name,
            size: size as i64,
            stored_as,
        })),
        Ok(Err(refused)) => {
            let _ = tokio::fs::remove_file(&path).await;
            Ok(Err(refused))
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(e)
        }
    }
}

/// Send what the file form held as `author`: the stored line as the author sees it, or why
/// nothing was sent (in the reader's language).
pub async fn send(
    state: &AppState,
    session: &SupportSession,
    author: Author<'_>,
    received: Received,
    reader: &Reader,
) -> AppResult<Result<ChatLine, String>> {
    let client_id = client_id_or_new(&received.client_id)?;
    let saved = match received.file {
        Ok(saved) => saved,
        Err(e) => return Ok(Err(refusal(state, reader, e))),
    };
    let sent = crate::app::chat::send(
        state,
        session,
        author,
        &client_id,
        Content::File(&saved),
        false,
    );
    let sent = sent.await;
    let kept = matches!(sent, Ok(Sent::Stored(_)));
    if !kept {
        // A resend, an ended session or a failure: this copy is nobody's.
        let _ = tokio::fs::remove_file(state.config.files.dir.join(&saved.stored_as)).await;
    }
    Ok(as_seen_by(state, &sent?, reader))
}

/// The file as a download: never rendered (any type is sent as bytes to save).
pub async fn download(state: &AppState, record: &FileRecord) -> AppResult<Response> {
    let path = state.config.files.dir.join(&record.stored_as);
    let bytes = tokio::fs::read(&path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => AppError::NotFound,
        _ => AppError::internal(e),
    })?;
    let name = FileName::parse(&record.name).unwrap_or_else(|_| FileName::fallback());
    Ok(attachment("application/octet-stream", &name, bytes))
}

/// Anything people download (chat files, transcripts, iOS profiles): saved under `name`, safe
/// in the header whatever its characters, never sniffed, sandboxed should a browser open it
/// anyway, and not kept by caches.
pub fn attachment(
    content_type: &'static str,
    name: &FileName,
    body: impl Into<axum::body::Body>,
) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        name.ascii_fallback(),
        domain::files::rfc5987(name.as_str())
    );
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}
