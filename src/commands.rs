//! The commands that work on the database directly: `user …`, `backup`, `healthcheck`.
//! They go through the same store (and its one writer) as the server, so they are safe to run
//! while the server is up.

use crate::auth;
use crate::cli::{Command, PasswordSource, UserCommand};
use crate::config;
use crate::model::Role;
use crate::store::accounts::{self, NewStaff};
use crate::store::audit::{self, Actor};
use crate::store::{backup, Store, DB_FILE};
use std::error::Error;
use std::io::{BufRead, Read, Write};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Serve(_) => unreachable!("serve is handled in main"),
        Command::User(u) => user(u),
        Command::Backup { file, place } => {
            let data = config::resolve_data_dir(&place)?;
            backup::backup_file(&data.join(DB_FILE), &file)?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Healthcheck { place, listen } => {
            healthcheck(config::resolve_listen(&place, listen)?)
        }
    }
}

fn read_password(src: &PasswordSource) -> Result<String> {
    let pw = match &src.password {
        Some(p) => p.clone(),
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\n', '\r']).to_string()
        }
    };
    auth::check_new_password(&pw).map_err(|e| e.message)?;
    Ok(pw)
}

fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            email,
            name,
            role,
            password,
            place,
        } => {
            let role = Role::from_name(&role).ok_or("unknown role")?;
            let email = email.trim().to_string();
            crate::http::check_email("--email", &email).map_err(|e| e.message)?;
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err("--name must not be empty".into());
            }
            let hash = auth::hash_password(&read_password(&password)?)?;
            let store = Store::open(&config::resolve_data_dir(&place)?, Default::default())?;
            let staff = store.write_blocking(move |c| {
                let staff = accounts::create_staff(
                    c,
                    NewStaff {
                        email,
                        full_name: name,
                        display_name: None,
                        title: None,
                        role,
                        password_hash: hash,
                    },
                )?;
                audit::staff_created(c, &Actor::Cli, &staff)?;
                Ok(staff)
            })?;
            println!("{}", staff.id);
            Ok(())
        }
        UserCommand::List { place } => {
            let store = Store::open(&config::resolve_data_dir(&place)?, Default::default())?;
            let staff = store.read_blocking(accounts::list_staff)?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<32}  {:<10}  {:<8}  {:<30}  name",
                "id", "role", "status", "email"
            )?;
            for s in staff {
                let status = if s.disabled { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{:<32}  {:<10}  {:<8}  {:<30}  {}",
                    s.id,
                    s.role_id.name(),
                    status,
                    s.email,
                    s.full_name
                )?;
            }
            Ok(())
        }
        UserCommand::Passwd {
            user,
            password,
            place,
        } => {
            let hash = auth::hash_password(&read_password(&password)?)?;
            let store = Store::open(&config::resolve_data_dir(&place)?, Default::default())?;
            let id = store.write_blocking(move |c| {
                let s = accounts::find_staff(c, &user)?;
                accounts::set_staff_password(c, &s.id, &hash)?;
                audit::staff_changed(c, &Actor::Cli, Some(&s), &s, true)?;
                Ok(s.email)
            })?;
            println!("password changed for {id}; its sessions were signed out");
            Ok(())
        }
        UserCommand::Disable {
            user,
            enable,
            place,
        } => {
            let store = Store::open(&config::resolve_data_dir(&place)?, Default::default())?;
            let email = store.write_blocking(move |c| {
                let s = accounts::find_staff(c, &user)?;
                accounts::set_staff_disabled(c, &s.id, !enable)?;
                let after = accounts::staff_by_id(c, &s.id)?;
                audit::staff_changed(
                    c,
                    &Actor::Cli,
                    Some(&s),
                    after.as_ref().unwrap_or(&s),
                    false,
                )?;
                Ok(s.email)
            })?;
            println!("{email} {}", if enable { "enabled" } else { "disabled" });
            Ok(())
        }
    }
}

/// A plain HTTP/1.1 GET of /healthz: exit 0 on `200 … ok`.
fn healthcheck(addr: std::net::SocketAddr) -> Result<()> {
    let timeout = std::time::Duration::from_secs(3);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot reach {addr}: {e}"))?;
    s.set_read_timeout(Some(timeout))?;
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    if reply.starts_with("HTTP/1.1 200") && reply.trim_end().ends_with("ok") {
        println!("ok");
        Ok(())
    } else {
        Err(format!(
            "{addr} answered: {}",
            reply.lines().next().unwrap_or("nothing")
        )
        .into())
    }
}
