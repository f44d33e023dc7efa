//! `/api/v1/staff`: the team. Any staff may list it (to add someone to a chat); only admins
//! create and change accounts, except that staff keep their own profile (name, display name,
//! title; photos in `avatars.rs`).

use super::accounts::{check_email, optional_text};
use super::{bearer, body, parse_json, respond, with_app};
use crate::app::App;
use crate::auth;
use crate::error::ApiError;
use crate::live::actor::Revoke;
use crate::model::{Role, Staff, MAX_MAX_CHATS};
use crate::store::accounts::{self, NewStaff, StaffChanges};
use crate::store::audit::{self, Actor};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let list = warp::path!("api" / "v1" / "staff")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            let res = async {
                super::require_staff(&app, token).await?;
                let all = app.store.read(accounts::list_staff).await?;
                Ok(json!({ "results": all }))
            };
            respond(StatusCode::OK, res.await)
        });
    let create = warp::path!("api" / "v1" / "staff")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::CREATED, create(&app, token, &body).await)
        });
    let update = warp::path!("api" / "v1" / "staff" / String)
        .and(warp::patch())
        .and(with_app(app))
        .and(bearer())
        .and(body(limit))
        .then(
            |id: String, app: App, token: Option<String>, body: Bytes| async move {
                respond(StatusCode::OK, update(&app, token, &id, &body).await)
            },
        );
    list.or(create).unify().or(update).unify().boxed()
}

async fn admin_only(app: &App, token: Option<String>) -> Result<Staff, ApiError> {
    super::require_admin(app, token, "Only admins can manage staff accounts.").await
}

fn role(id: i64) -> Result<Role, ApiError> {
    Role::from_id(id).ok_or_else(|| {
        ApiError::bad_request("Invalid field: role_id (1 admin, 2 supervisor, 3 agent).")
    })
}

/// Hashes a new password in one of the argon2 slots logins use: memory stays bounded by the
/// slots whatever mix of logins and account changes arrives.
async fn hash(app: &App, password: String) -> Result<String, ApiError> {
    auth::check_new_password(&password)?;
    app.login
        .hashing(move || auth::hash_password(&password))
        .await?
        .map_err(ApiError::from)
}

#[derive(Deserialize)]
pub struct NewStaffRequest {
    email: String,
    full_name: String,
    display_name: Option<String>,
    title: Option<String>,
    role_id: i64,
    password: String,
}

async fn create(app: &App, token: Option<String>, body: &[u8]) -> Result<Staff, ApiError> {
    let by = Actor::staff(&admin_only(app, token).await?);
    let req: NewStaffRequest = parse_json(body)?;
    let email = req.email.trim().to_string();
    check_email("email", &email)?;
    let full_name = optional_text("full_name", Some(req.full_name), 100)?
        .ok_or_else(|| ApiError::bad_request("Missing/Invalid field: full_name."))?;
    let display_name = optional_text("display_name", req.display_name, 100)?;
    let title = optional_text("title", req.title, 100)?;
    let role = role(req.role_id)?;
    let password_hash = hash(app, req.password).await?;
    Ok(app
        .store
        .write(move |c| {
            let staff = accounts::create_staff(
                c,
                NewStaff {
                    email,
                    full_name,
                    display_name,
                    title,
                    role,
                    password_hash,
                },
            )?;
            audit::staff_created(c, &by, &staff)?;
            Ok(staff)
        })
        .await?)
}

#[derive(Deserialize)]
pub struct ChangeRequest {
    email: Option<String>,
    full_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    display_name: Option<Option<String>>,
    role_id: Option<i64>,
    disabled: Option<bool>,
    password: Option<String>,
    max_chats: Option<i64>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

async fn update(
    app: &App,
    token: Option<String>,
    id: &str,
    body: &[u8],
) -> Result<Staff, ApiError> {
    let me = super::require_staff(app, token).await?;
    let req: ChangeRequest = parse_json(body)?;
    if me.role_id != Role::Admin {
        // Staff keep their own profile (how visitors see them); the rest is for admins.
        let only_admins = [
            ("email", req.email.is_some()),
            ("role_id", req.role_id.is_some()),
            ("disabled", req.disabled.is_some()),
            ("password", req.password.is_some()),
            ("max_chats", req.max_chats.is_some()),
        ];
        if me.id.as_str() != id {
            return Err(ApiError::forbidden(
                "Only admins can manage staff accounts.",
            ));
        }
        if let Some((field, _)) = only_admins.iter().find(|(_, given)| *given) {
            return Err(ApiError::forbidden(format!(
                "Only admins can change this: {field}. You can change your full_name, \
                 display_name and title."
            )));
        }
    }
    let mut changes = StaffChanges {
        disabled: req.disabled,
        ..Default::default()
    };
    if let Some(e) = req.email {
        let e = e.trim().to_string();
        check_email("email", &e)?;
        changes.email = Some(e);
    }
    if let Some(t) = req.title {
        changes.title = Some(optional_text("title", t, 100)?);
    }
    if let Some(n) = req.full_name {
        changes.full_name = Some(
            optional_text("full_name", Some(n), 100)?
                .ok_or_else(|| ApiError::bad_request("Missing/Invalid field: full_name."))?,
        );
    }
    if let Some(d) = req.display_name {
        changes.display_name = Some(optional_text("display_name", d, 100)?);
    }
    if let Some(r) = req.role_id {
        changes.role = Some(role(r)?);
    }
    if let Some(m) = req.max_chats {
        changes.max_chats = Some(
            u32::try_from(m)
                .ok()
                .filter(|m| *m <= MAX_MAX_CHATS)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid field: max_chats (a whole number from 0 to {MAX_MAX_CHATS})."
                    ))
                })?,
        );
    }
    if let Some(p) = req.password {
        changes.password_hash = Some(hash(app, p).await?);
    }
    // Disabling and a new password revoke the account's tokens; a new role changes what its
    // console may see and do. Either way its live connections go now: with a still-good token
    // the console reconnects and gets the feed of its new role.
    let cut = changes.disabled == Some(true) || changes.password_hash.is_some();
    let new_role = changes.role;
    // Capacity, names and the title show in every console (and names in the rooms' staff).
    let shown = changes.max_chats.is_some()
        || changes.full_name.is_some()
        || changes.display_name.is_some()
        || changes.title.is_some()
        || changes.email.is_some();
    let target = id.to_string();
    let (by, password) = (Actor::staff(&me), changes.password_hash.is_some());
    let (before, after) = app
        .store
        .write(move |c| {
            let before = accounts::staff_by_id(c, &target)?;
            let after = accounts::update_staff(c, &target, changes)?;
            audit::staff_changed(c, &by, before.as_ref(), &after, password)?;
            Ok((before, after))
        })
        .await?;
    let role_changed = new_role.is_some() && before.is_some_and(|b| b.role_id != after.role_id);
    if cut || role_changed {
        app.live.revoke(Revoke::Staff(after.id.clone())).await;
    } else if shown {
        // Consoles show the new load and names; waiting chats may now be routed to them.
        app.live.staff_changed(after.clone()).await;
    }
    Ok(after)
}
