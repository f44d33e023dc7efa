//! Attachments (issue 14): `POST /api/v1/chats/{id}/attachments` (a file into an open chat),
//! `GET /api/v1/attachments/{id}` (its bytes, to those who may see the chat) and
//! `DELETE /api/v1/chats/{id}` (an admin deletes an ended chat with its files).
//!
//! An upload streams to `<data>/attachments/<random>.part` with a hard cap, is synced, typed
//! from its bytes (`crate::sniff`), renamed to `<random>`, stored as a row by the one writer,
//! and only then announced to the room by the live state as a type 2 message. Every refusal
//! and every upload that does not finish (the client goes away) leaves no file: `Pending`
//! removes it when dropped.

use super::{bearer, error_reply, json_reply, require_principal, with_app};
use crate::app::App;
use crate::auth::Principal;
use crate::error::{ApiError, StoreError};
use crate::live::events::Posted;
use crate::live::By;
use crate::live::{Code, Refusal};
use crate::model::{is_id, new_id, now_ms, ChatId};
use crate::sniff;
use crate::store::attachments::{self as store, Attachment, PART};
use crate::store::chats;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderValue, StatusCode};
use serde_json::json;
use serde_json::value::RawValue;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Buf, Filter, Reply};

/// Room for the multipart framing around the file (boundaries, part headers, a long name).
const FORM_OVERHEAD: u64 = 16 * 1024;
/// An upload that sends nothing for this long is given up (and its `.part` removed).
const IDLE: Duration = Duration::from_secs(30);

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let upload = warp::path!("api" / "v1" / "chats" / String / "attachments")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::header::optional::<u64>("content-length"))
        .and(body_stream())
        .then(
            |chat_id: String,
             app: App,
             token: Option<String>,
             ctype: Option<String>,
             len: Option<u64>,
             body: BodyStream| async move {
                match upload(&app, token, &chat_id, ctype, len, body).await {
                    Ok(v) => json_reply(StatusCode::CREATED, &v),
                    Err(e) => error_reply(&e),
                }
            },
        );
    let download = warp::path!("api" / "v1" / "attachments" / String)
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            match download(&app, token, &id).await {
                Ok(r) => r,
                Err(e) => error_reply(&e),
            }
        });
    let delete = warp::path!("api" / "v1" / "chats" / String)
        .and(warp::delete())
        .and(with_app(app))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            match delete_chat(&app, token, &id).await {
                Ok(()) => {
                    warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response()
                }
                Err(e) => error_reply(&e),
            }
        });
    upload.or(download).unify().or(delete).unify().boxed()
}

type BodyStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, warp::Error>> + Send>>;

/// The request body as a stream of `Bytes`, not read until polled.
fn body_stream() -> impl Filter<Extract = (BodyStream,), Error = warp::Rejection> + Clone {
    warp::body::stream().map(boxed_body)
}

fn boxed_body<S, B>(s: S) -> BodyStream
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf + Send,
{
    Box::pin(s.map(|r| {
        r.map(|mut b| {
            let n = b.remaining();
            b.copy_to_bytes(n)
        })
    }))
}

fn chat_closed() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "chat_closed", "This chat is closed.")
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("The file is larger than the limit of {max} bytes."),
    )
}

fn unsupported(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_type",
        message,
    )
}

const UNSUPPORTED: &str = "This type of file cannot be sent: send an image (PNG, JPEG, GIF, \
     WebP), a PDF, a text file or an office document.";
const MISMATCH: &str = "The file name's extension does not match what the file contains.";

/// A file on disk that is removed when dropped, unless `keep` was called: whatever ends an
/// upload early (a refusal, an error, the client going away and its future being dropped)
/// leaves nothing behind.
struct Pending {
    path: Option<PathBuf>,
}

impl Pending {
    fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(error = %e, path = %p.display(), "could not remove an unfinished upload");
                }
            }
        }
    }
}

/// The attachment folder, made (and swept of stale `.part` files) on first use in this
/// process: those are uploads a stopped process never finished.
async fn attachment_dir(app: &App) -> Result<PathBuf, ApiError> {
    static PREPARED: tokio::sync::Mutex<Vec<PathBuf>> = tokio::sync::Mutex::const_new(Vec::new());
    let dir = store::dir(&app.config.data_dir);
    let mut prepared = PREPARED.lock().await;
    if !prepared.contains(&dir) {
        let d = dir.clone();
        let removed = tokio::task::spawn_blocking(move || store::prepare_dir(&d))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|e| ApiError::from(StoreError::Io(e)))?;
        if removed > 0 {
            tracing::info!(removed, "removed unfinished uploads");
        }
        prepared.push(dir.clone());
    }
    Ok(dir)
}

/// Who may upload into this chat, checked before a byte of the body is read. The live state
/// checks again when the message is announced (the chat may close meanwhile).
async fn uploader(app: &App, who: &Principal, chat_id: &str) -> Result<By, ApiError> {
    let not_found = || ApiError::not_found("No such chat.");
    if !is_id(chat_id) {
        return Err(not_found());
    }
    let id = chat_id.to_string();
    let rec = app
        .store
        .read(move |c| chats::chat_record(c, &id))
        .await?
        .ok_or_else(not_found)?;
    let open = rec.status != "ended";
    match who {
        Principal::Visitor(v) if v.id == rec.visitor_id => {
            if !open {
                return Err(chat_closed());
            }
            Ok(By::Visitor(v.id.clone()))
        }
        Principal::Visitor(_) => Err(not_found()),
        Principal::Staff(s) => {
            if !open {
                return Err(chat_closed());
            }
            if !rec.staff.iter().any(|id| *id == s.id.as_str()) {
                return Err(ApiError::forbidden("You do not serve this chat."));
            }
            Ok(By::Staff(s.clone()))
        }
    }
}

/// A received file, on disk as `.part`, synced.
struct Received {
    part: Pending,
    part_path: PathBuf,
    raw_name: String,
    size: u64,
    head: Vec<u8>,
    text: bool,
}

async fn upload<S>(
    app: &App,
    token: Option<String>,
    chat_id: &str,
    ctype: Option<String>,
    len: Option<u64>,
    body: S,
) -> Result<serde_json::Value, ApiError>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Send + Unpin + 'static,
{
    let who = require_principal(app, token).await?;
    let by = uploader(app, &who, chat_id).await?;
    let max = app.config.max_attachment_bytes;
    if len.is_some_and(|l| l > max as u64 + FORM_OVERHEAD) {
        return Err(too_large(max));
    }
    let boundary = ctype
        .as_deref()
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| {
            ApiError::bad_request("Send the file as multipart/form-data in a field named file.")
        })?;
    let dir = attachment_dir(app).await?;
    let got = receive(body, &boundary, &dir, max).await?;
    if got.size == 0 {
        return Err(ApiError::bad_request("The file is empty."));
    }
    let kind = if sniff::is_ole(&got.head) {
        // Word and Excel are told apart by the compound file's directory: read all of it.
        let whole = tokio::fs::read(&got.part_path)
            .await
            .map_err(|e| ApiError::from(StoreError::Io(e)))?;
        sniff::kind(&whole, false)
    } else {
        sniff::kind(&got.head, got.text)
    }
    .ok_or_else(|| unsupported(UNSUPPORTED))?;
    let name = sniff::display_name(&got.raw_name, kind);
    sniff::name_matches(kind, &name).map_err(|_| unsupported(MISMATCH))?;

    let stored_name = new_id();
    let stored = dir.join(&stored_name);
    let file = Pending {
        path: Some(stored.clone()),
    };
    tokio::fs::rename(&got.part_path, &stored)
        .await
        .map_err(|e| ApiError::from(StoreError::Io(e)))?;
    got.part.keep();
    sync_dir(&dir).await;

    let row = Attachment {
        id: new_id(),
        chat_id: chat_id.to_string(),
        uploader_staff: match &by {
            By::Staff(s) => Some(s.id.to_string()),
            By::Visitor(_) => None,
        },
        name,
        mime: kind.mime().to_string(),
        size: got.size as i64,
        stored_name,
        created_at: now_ms(),
    };
    let object = json!({
        "id": row.id,
        "name": row.name,
        "size": row.size,
        "mime": row.mime,
        "url": format!("/api/v1/attachments/{}", row.id),
    });
    let r = row.clone();
    app.store
        .write(move |c| store::insert(c, &r))
        .await
        .map_err(|e| match e {
            // The chat went away meanwhile (an admin deleted it once it ended).
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                chat_closed()
            }
            other => ApiError::from(other),
        })?;
    let content = RawValue::from_string(json!({ "attachment": object }).to_string())
        .map_err(|_| ApiError::internal())?;
    let staff = matches!(by, By::Staff(_));
    if let Err(refusal) = app
        .live
        .post(
            by,
            ChatId::from(chat_id),
            Posted {
                type_id: crate::model::MESSAGE_ATTACHMENT,
                content: Arc::from(content),
                client_msg_id: None,
            },
        )
        .await
    {
        let id = row.id.clone();
        if let Err(e) = app.store.write(move |c| store::delete(c, &id)).await {
            tracing::warn!(error = %e, "could not remove a refused attachment's row");
        }
        drop(file);
        return Err(refused(&refusal, staff));
    }
    file.keep();
    Ok(json!({ "chat_id": chat_id, "attachment": object }))
}

/// The live state's refusal as an HTTP answer.
pub(crate) fn refused(r: &Refusal, staff: bool) -> ApiError {
    let status = match r.code {
        Code::ChatClosed | Code::NoOpenChat | Code::NotClaimed => StatusCode::CONFLICT,
        Code::NotInChat | Code::NotAllowed if staff => StatusCode::FORBIDDEN,
        Code::NotInChat | Code::NotAllowed => StatusCode::NOT_FOUND,
        Code::ShuttingDown | Code::SaveFailed => StatusCode::SERVICE_UNAVAILABLE,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::CONFLICT,
    };
    ApiError::new(status, r.code.as_str(), r.sentence.to_string())
}

/// Reads the form, writing the one `file` field to a new `.part` file as it arrives.
async fn receive<S>(body: S, boundary: &str, dir: &Path, max: usize) -> Result<Received, ApiError>
where
    S: Stream<Item = Result<Bytes, warp::Error>> + Send + Unpin + 'static,
{
    let limits = multer::SizeLimit::new()
        .whole_stream(max as u64 + FORM_OVERHEAD)
        .per_field(max as u64);
    let mut form = multer::Multipart::with_constraints(
        body,
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let form_error = |e: multer::Error| match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            too_large(max)
        }
        _ => ApiError::bad_request("The form could not be read (cut off or malformed)."),
    };
    let idle = || {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "The upload stalled.",
        )
    };
    let mut received: Option<Received> = None;
    loop {
        let field = tokio::time::timeout(IDLE, form.next_field())
            .await
            .map_err(|_| idle())?
            .map_err(form_error)?;
        let Some(mut field) = field else { break };
        if field.name() != Some("file") {
            continue;
        }
        if received.is_some() {
            return Err(ApiError::bad_request("Send one file at a time."));
        }
        let raw_name = field
            .file_name()
            .map(str::to_string)
            .ok_or_else(|| ApiError::bad_request("The file field has no file name."))?;
        let part_path = dir.join(format!("{}{PART}", new_id()));
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part_path)
            .await
            .map_err(|e| ApiError::from(StoreError::Io(e)))?;
        let part = Pending {
            path: Some(part_path.clone()),
        };
        let mut size: u64 = 0;
        let mut head = Vec::new();
        let mut text = sniff::Text::default();
        while let Some(chunk) = tokio::time::timeout(IDLE, field.chunk())
            .await
            .map_err(|_| idle())?
            .map_err(form_error)?
        {
            size += chunk.len() as u64;
            if size > max as u64 {
                return Err(too_large(max));
            }
            if head.len() < sniff::HEAD_BYTES {
                let take = chunk.len().min(sniff::HEAD_BYTES - head.len());
                head.extend_from_slice(&chunk[..take]);
            }
            text.feed(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| ApiError::from(StoreError::Io(e)))?;
        }
        out.sync_all()
            .await
            .map_err(|e| ApiError::from(StoreError::Io(e)))?;
        received = Some(Received {
            part,
            part_path,
            raw_name,
            size,
            head,
            text: text.is_text(),
        });
    }
    received.ok_or_else(|| ApiError::bad_request("The form has no file field."))
}

/// Makes a rename durable. A failure only costs durability of this one name: logged.
async fn sync_dir(dir: &Path) {
    let d = dir.to_path_buf();
    let res = tokio::task::spawn_blocking(move || std::fs::File::open(&d)?.sync_all()).await;
    if let Ok(Err(e)) = res {
        tracing::warn!(error = %e, "could not sync the attachment folder");
    }
}

async fn download(app: &App, token: Option<String>, id: &str) -> Result<Response, ApiError> {
    let who = require_principal(app, token).await?;
    let not_found = || ApiError::not_found("No such attachment.");
    if !is_id(id) {
        return Err(not_found());
    }
    let key = id.to_string();
    let (a, visitor) = app
        .store
        .read(move |c| store::get(c, &key))
        .await?
        .ok_or_else(not_found)?;
    let allowed = match &who {
        Principal::Visitor(v) => v.id == visitor,
        Principal::Staff(s) if s.role_id.is_supervisor() => true,
        Principal::Staff(s) => {
            let (chat, staff) = (a.chat_id.clone(), s.id.to_string());
            app.store
                .read(move |c| store::staff_served(c, &chat, &staff))
                .await?
        }
    };
    if !allowed {
        return Err(not_found());
    }
    let path =
        store::path_of(&store::dir(&app.config.data_dir), &a.stored_name).ok_or_else(not_found)?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(id = %a.id, "an attachment's file is missing");
            return Err(not_found());
        }
        Err(e) => return Err(StoreError::Io(e).into()),
    };
    let mut r = Response::new(bytes.into());
    let h = r.headers_mut();
    let mime = if a.mime.starts_with("text/") {
        format!("{}; charset=utf-8", a.mime)
    } else {
        a.mime.clone()
    };
    let image = a.mime.starts_with("image/");
    let header = |v: String| HeaderValue::from_str(&v).map_err(|_| ApiError::internal());
    h.insert(http::header::CONTENT_TYPE, header(mime)?);
    h.insert(
        http::header::CONTENT_DISPOSITION,
        header(content_disposition(image, &a.name))?,
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("private"),
    );
    Ok(r)
}

/// `inline` or `attachment` with the name twice (RFC 6266): an ASCII stand-in for old
/// clients and the exact name as `filename*` (RFC 8187, UTF-8, percent-encoded).
pub fn content_disposition(inline: bool, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn delete_chat(app: &App, token: Option<String>, id: &str) -> Result<(), ApiError> {
    super::require_admin(app, token, "Only admins can delete chats.").await?;
    if !is_id(id) {
        return Err(ApiError::not_found("No such chat."));
    }
    let key = id.to_string();
    let files = app
        .store
        .write(move |c| store::delete_chat(c, &key))
        .await?;
    let dir = store::dir(&app.config.data_dir);
    let n = files.len();
    tokio::task::spawn_blocking(move || store::remove_files(&dir, &files))
        .await
        .map_err(|_| ApiError::internal())?;
    tracing::info!(chat = %id, files = n, "chat deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disposition_names_the_file_safely_both_ways() {
        assert_eq!(
            content_disposition(true, "a b.png"),
            "inline; filename=\"a b.png\"; filename*=UTF-8''a%20b.png"
        );
        assert_eq!(
            content_disposition(false, "Ré\"sumé\\.pdf"),
            "attachment; filename=\"R__sum__.pdf\"; filename*=UTF-8''R%C3%A9%22sum%C3%A9%5C.pdf"
        );
        assert!(HeaderValue::from_str(&content_disposition(false, "日本\u{7f}.txt")).is_ok());
    }

    #[test]
    fn refusals_answer_with_their_status() {
        let r = |code| Refusal::fixed(code, "x");
        assert_eq!(
            refused(&r(Code::ChatClosed), false).status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            refused(&r(Code::NotInChat), false).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            refused(&r(Code::NotInChat), true).status,
            StatusCode::FORBIDDEN
        );
    }
}
