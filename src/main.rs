//! `frontdesk`: live customer-support chat in one executable. Parses the command line and hands
//! off: `serve` to server.rs, the account and backup commands to commands.rs.
//!
//! NOTE: the modules live in the library (`src/lib.rs`); declare new modules THERE, not here.
//! This file keeps only what must be in the binary: the process entry point, the allocator
//! (`#[global_allocator]` and its ELF initializer, musl only) and process-wide tuning.

/// The static (musl) build uses mimalloc, for Rust's allocations and (store/sqlite_alloc.rs)
/// SQLite's: on musl's own allocator the same server ran at a quarter of the speed and 60%
/// bigger under the load benchmark (packaging/README.md has the figures).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use frontdesk::cli::{Cli, Command, ServeArgs};
use frontdesk::{commands, config, server};
use std::process::ExitCode;

/// mimalloc, tuned for a server that must stay small: arenas are committed as they fill, not
/// up front (idle RSS 23 MB -> 7 MB), and freed pages go back to the OS at once rather than
/// after a second (10,000 connections: 105 MB -> 62 MB), at no cost the load benchmark shows.
/// The first arena is made by the first allocation, before `main`: so this runs as an ELF
/// initializer, ahead of the Rust runtime.
#[cfg(target_env = "musl")]
extern "C" fn tune_mimalloc() {
    // mimalloc v3's `mi_option_e` (the -sys crate, pinned in Cargo.toml, does not name these
    // two): recheck them when upgrading it.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: only sets allocator options.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(target_env = "musl")]
#[used]
#[link_section = ".init_array"]
static TUNE_MIMALLOC: extern "C" fn() = tune_mimalloc;

fn main() -> ExitCode {
    // Before anything opens a database, in every command.
    #[cfg(target_env = "musl")]
    frontdesk::store::sqlite_alloc::install();
    frontdesk::supervise::install_panic_hook();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => run_server(args),
        other => commands::run(other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frontdesk: {e}");
            ExitCode::FAILURE
        }
    }
}

/// glibc keeps freed memory in per-thread arenas, and after the first large free it serves
/// large blocks from them too: each argon2 hash (19 MiB) would stay resident in some arena.
/// A fixed mmap threshold sends blocks of 1 MiB and more straight back to the OS, and two
/// arenas are plenty for two busy threads. (The static build uses mimalloc instead; see above.)
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
        // Without this, every free that leaves 128 KiB at the top of an arena hands it back
        // (madvise and a TLB flush on every core): the database writer, which allocates and
        // frees a little journal per job, did so thousands of times a second. The thread
        // below still returns what stays free.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 20);
    }
    // Bursts (a thousand new chats, each rendered for every console) free many small blocks in
    // the middle of the heap, which glibc keeps; hand whole free pages back now and then.
    std::thread::Builder::new()
        .name("frontdesk-trim".into())
        .spawn(|| loop {
            // Trimming walks the heap under the allocator's lock: rarely, so it never shows in
            // latency.
            std::thread::sleep(std::time::Duration::from_secs(60));
            // SAFETY: malloc_trim is thread-safe and only releases free memory.
            unsafe {
                libc::malloc_trim(0);
            }
        })
        .ok();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn run_server(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    tune_allocator();
    // Settings are checked before anything binds or touches the data directory.
    let config = config::Config::resolve(&args)?;
    init_logging(&config);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking work is SQLite reads (at most a few at once) and password hashing.
        .max_blocking_threads(16)
        .build()?
        .block_on(server::serve(config))
}

fn init_logging(config: &config::Config) {
    use tracing_subscriber::EnvFilter;
    // RUST_LOG, when set, refines the configured level.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("frontdesk={0},warn", config.log_level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.log_format {
        config::LogFormat::Json => builder.json().init(),
        config::LogFormat::Plain => builder.init(),
    }
}
