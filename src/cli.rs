//! The command line (product.md §1). Every serve flag also reads a `FRONTDESK_*` env var;
//! flags beat env, env beats the config file, the file beats defaults (see config.rs).

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "frontdesk",
    version,
    about = "Live customer-support chat for small businesses, in one executable.",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no command is given).
    Serve(ServeArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent copy of the database to FILE (safe while the server runs).
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
        #[command(flatten)]
        place: Place,
    },
    /// Exit 0 if the server at the configured address answers /healthz.
    Healthcheck {
        #[command(flatten)]
        place: Place,
        /// The address to ask (default: the configured listen address).
        #[arg(long, env = "FRONTDESK_LISTEN")]
        listen: Option<SocketAddr>,
    },
}

/// Where the data lives: for the commands that work on the database directly.
#[derive(Debug, Args, Clone, Default)]
pub struct Place {
    /// Data directory (holds frontdesk.db and uploads) [default: ./frontdesk-data]
    #[arg(long, env = "FRONTDESK_DATA")]
    pub data: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, env = "FRONTDESK_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "FRONTDESK_LISTEN")]
    pub listen: Option<SocketAddr>,
    #[command(flatten)]
    pub place: Place,
    /// Seconds a dropped visitor or staff has to reconnect before it counts as gone; sets both
    /// graces below (0: the seed's behaviour, disconnects take effect at once)
    #[arg(long, value_name = "SECS")]
    pub reconnect_grace: Option<u64>,
    /// Seconds a visitor has to come back [default: 900]
    #[arg(long, value_name = "SECS")]
    pub visitor_reconnect_grace: Option<u64>,
    /// Seconds a staff member has to come back [default: 300]
    #[arg(long, value_name = "SECS")]
    pub staff_reconnect_grace: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account and print its id.
    Add {
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["agent", "supervisor", "admin"])]
        role: String,
        #[command(flatten)]
        password: PasswordSource,
        #[command(flatten)]
        place: Place,
    },
    /// List staff accounts.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Set a new password (revokes the account's tokens).
    Passwd {
        /// Email or id of the account.
        user: String,
        #[command(flatten)]
        password: PasswordSource,
        #[command(flatten)]
        place: Place,
    },
    /// Disable an account (revokes its tokens); --enable turns it back on.
    Disable {
        /// Email or id of the account.
        user: String,
        #[arg(long)]
        enable: bool,
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// The password (visible in the process list: prefer --password-stdin).
    #[arg(long)]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}
