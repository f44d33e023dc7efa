//! `cargo bench --bench history [-- --chats N --messages M --keep DIR]`: the history, search and
//! reports API over a large store (issue 16). Builds a database of 100,000 chats and 5,000,000
//! messages (by default) straight into SQLite, starts the real server on it, waits for the search
//! index to catch up, then times `GET /api/v1/chats?limit=100` with each filter, pages deep in
//! the list, searches, a visitor's chats and a 30-day report — each over HTTP with a staff token,
//! median and worst of 10 after a warm-up — and prints the `EXPLAIN QUERY PLAN` of every list
//! query the server runs (from `store::history::explain_list`, the same SQL).
//!
//! `--keep DIR` keeps the generated data directory in DIR and reuses it on the next run (building
//! 5,000,000 messages and their search index takes minutes).

#[path = "load/driver.rs"]
mod driver;

use driver::{add_agents, ServerProc, PASSWORD};
use frontdesk::store::history::{self, ChatFilter, Cursor, Scope, StatusFilter};
use rusqlite::params;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const DAY_MS: i64 = 86_400_000;
const STAFF: usize = 10;
const VISITORS: usize = 60_000;
/// A word that is in exactly one message: the one at this position (or the last).
const RARE_AT: usize = 4_000_000;
const RARE_WORD: &str = "pelican";

struct Opts {
    chats: usize,
    messages: usize,
    keep: Option<PathBuf>,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        chats: 100_000,
        messages: 5_000_000,
        keep: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--chats" => o.chats = val().parse().expect("--chats N"),
            "--messages" => o.messages = val().parse().expect("--messages M"),
            "--keep" => o.keep = Some(PathBuf::from(val())),
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o.chats = o.chats.max(100);
    o.messages = o.messages.max(o.chats * 4);
    o
}

fn bin() -> PathBuf {
    std::env::var_os("FRONTDESK_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_frontdesk")))
}

fn config() -> String {
    driver::server_config("")
}

/// A deterministic stream of pseudo-random numbers (xorshift), so every run builds the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex_id(kind: u8, i: usize) -> String {
    format!("{kind:02x}{i:030x}")
}

/// Words people write: a vocabulary of 4,000 made-up words with a skewed frequency, so some are
/// in a few percent of the messages and most are rare; "delivery" is one of the common ones.
fn words() -> Vec<String> {
    let syllables = [
        "ka", "lo", "mi", "ter", "ran", "so", "ve", "lin", "dor", "pa", "que", "sti", "nu", "bel",
        "cor", "fa",
    ];
    let mut v = vec!["delivery".to_string(), "order".into(), "refund".into()];
    let mut r = Rng(7);
    while v.len() < 4_000 {
        let n = 2 + r.below(3);
        let w: String = (0..n)
            .map(|_| syllables[r.below(syllables.len() as u64) as usize])
            .collect();
        if w != RARE_WORD {
            v.push(w);
        }
    }
    v
}

/// The staff: (id, email).
fn staff_ids(db: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut s = db
        .prepare("SELECT id, email FROM staff ORDER BY email")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Builds the data directory: staff by the CLI, then chats, messages, who served, tags and
/// ratings straight into the database the server made.
fn build(data: &Path, o: &Opts, now: i64) {
    let t0 = Instant::now();
    add_agents(&bin(), data, STAFF);
    let out = Command::new(bin())
        .args([
            "user",
            "add",
            "--email",
            "admin@load.test",
            "--name",
            "Admin",
        ])
        .args(["--role", "admin", "--password", PASSWORD, "--data"])
        .arg(data)
        .output()
        .expect("user add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut db = rusqlite::Connection::open(data.join("frontdesk.db")).unwrap();
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")
        .unwrap();
    let staff: Vec<String> = staff_ids(&db)
        .into_iter()
        .filter(|(_, email)| email.starts_with("agent"))
        .map(|(id, _)| id)
        .collect();
    let vocabulary = words();
    let tx = db.transaction().unwrap();
    {
        let mut visitor = tx
            .prepare(
                "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES (?1, ?2, 1, ?3)",
            )
            .unwrap();
        for v in 0..VISITORS.min(o.chats) {
            visitor
                .execute(params![
                    hex_id(1, v),
                    format!("Visitor {v}"),
                    now - 200 * DAY_MS
                ])
                .unwrap();
        }
        let mut tag = tx
            .prepare("INSERT INTO tags (id, name, created_at) VALUES (?1, ?2, 0)")
            .unwrap();
        for t in 0..21 {
            let name = if t == 20 {
                "vip".to_string()
            } else {
                format!("tag{t}")
            };
            tag.execute(params![hex_id(2, t), name]).unwrap();
        }
        let mut chat = tx
            .prepare(
                "INSERT INTO chats (id, visitor_id, status, severity_level, created_at, ended_at, \
                 rating, rated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
            )
            .unwrap();
        let mut served = tx
            .prepare("INSERT INTO chat_staff (chat_id, staff_id, joined_at, left_at) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        let mut tagged = tx
            .prepare("INSERT INTO chat_tags (chat_id, tag_id) VALUES (?1, ?2)")
            .unwrap();
        let mut message = tx
            .prepare(
                "INSERT INTO messages (id, chat_id, sequence_num, type_id, sender, content, created_at) \
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut r = Rng(42);
        let span = 120 * DAY_MS;
        let per_chat = o.messages / o.chats;
        let mut written = 0usize;
        let mut text = String::new();
        for i in 0..o.chats {
            let id = hex_id(3, i);
            let created = now - span + (i as i64) * span / o.chats as i64;
            let open = i + 50 >= o.chats;
            let status = match (open, i % 2) {
                (false, _) => "ended",
                (true, 0) => "claimed",
                (true, _) => "unclaimed",
            };
            let ended = (!open).then_some(created + 20 * 60_000);
            let severity = if i % 4 == 0 { (i / 4 % 3) as i64 } else { 0 };
            let rating = if open {
                None
            } else if i % 7 == 0 {
                Some("bad")
            } else if i % 3 == 0 {
                Some("good")
            } else {
                None
            };
            chat.execute(params![
                id,
                hex_id(1, i % VISITORS),
                status,
                severity,
                created,
                ended,
                rating
            ])
            .unwrap();
            let agent = &staff[i % staff.len()];
            if status != "unclaimed" {
                served
                    .execute(params![id, agent, created + 30_000, ended])
                    .unwrap();
            }
            if i % 5 == 0 {
                tagged.execute(params![id, hex_id(2, i / 5 % 20)]).unwrap();
            }
            if i % 2_000 == 0 {
                tagged.execute(params![id, hex_id(2, 20)]).unwrap();
            }
            // Between 40% and 160% of the mean number of messages; the last chat takes the rest.
            let n = if i + 1 == o.chats {
                o.messages.saturating_sub(written).max(1)
            } else {
                (per_chat * 2 / 5 + r.below((per_chat * 6 / 5) as u64 + 1) as usize)
                    .min(o.messages.saturating_sub(written + (o.chats - i - 1)))
                    .max(1)
            };
            let reply_after = 5_000 + (i as i64 % 300) * 1_000;
            for seq in 1..=n {
                let from_staff = seq % 2 == 0 && status != "unclaimed";
                text.clear();
                let count = 4 + r.below(10);
                for k in 0..count {
                    if k > 0 {
                        text.push(' ');
                    }
                    let x = r.below(vocabulary.len() as u64);
                    // Skewed: small indexes are much more frequent.
                    let w = (x * x / vocabulary.len() as u64) as usize;
                    text.push_str(&vocabulary[w]);
                }
                if written == RARE_AT.min(o.messages - 1) {
                    text.push(' ');
                    text.push_str(RARE_WORD);
                }
                let content = serde_json::json!({ "content": text }).to_string();
                message
                    .execute(params![
                        format!("{written:032x}"),
                        id,
                        seq as i64,
                        from_staff.then_some(agent),
                        content,
                        created + reply_after * (seq as i64 - 1)
                    ])
                    .unwrap();
                written += 1;
            }
        }
    }
    tx.commit().unwrap();
    println!(
        "built {} chats, {} messages in {:.0} s",
        o.chats,
        o.messages,
        t0.elapsed().as_secs_f64()
    );
}

/// Waits until the server's search index has every message (it indexes when idle).
fn wait_indexed(data: &Path) -> f64 {
    let t0 = Instant::now();
    let db = rusqlite::Connection::open_with_flags(
        data.join("frontdesk.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let last: i64 = db
        .query_row("SELECT coalesce(max(rowid), 0) FROM messages", [], |r| {
            r.get(0)
        })
        .unwrap();
    loop {
        let done: i64 = db
            .query_row("SELECT indexed_rowid FROM search_state", [], |r| r.get(0))
            .unwrap_or(0);
        if done >= last {
            return t0.elapsed().as_secs_f64();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3_600),
            "the search index did not catch up in an hour ({done} of {last})"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

async fn login(addr: std::net::SocketAddr, email: &str) -> String {
    driver::login(addr, email).await
}

/// Median and worst of 10 timed GETs after one warm-up; the first response's body.
async fn time_get(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> (f64, f64, serde_json::Value) {
    let mut times = vec![];
    let mut first = serde_json::Value::Null;
    for k in 0..11 {
        let t = Instant::now();
        let res = client.get(url).bearer_auth(token).send().await.unwrap();
        let status = res.status();
        let body = res.bytes().await.unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(status.is_success(), "{url}: {status} {body:?}");
        if k == 0 {
            first = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        } else {
            times.push(ms);
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1], first)
}

#[tokio::main]
async fn main() {
    let o = parse_args();
    let now = frontdesk::model::now_ms();
    let tmp = tempfile::tempdir().unwrap();
    let data = match &o.keep {
        Some(dir) => dir.join("data"),
        None => tmp.path().join("data"),
    };
    let reuse = data.join("frontdesk.db").exists();
    if !reuse {
        // The server makes the schema; the CLI adds staff; the rest goes straight in.
        ServerProc::start(&bin(), &config(), Some(data.clone())).stop();
        build(&data, &o, now);
    } else {
        println!("reusing {}", data.display());
    }
    let server = ServerProc::start(&bin(), &config(), Some(data.clone()));
    println!(
        "server ready in {:.0} ms",
        server.ready_after.as_secs_f64() * 1000.0
    );
    let indexing = wait_indexed(&data);
    println!("search index caught up in {indexing:.0} s");

    let db = rusqlite::Connection::open_with_flags(
        data.join("frontdesk.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let (chats, messages, newest): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM chats), (SELECT count(*) FROM messages), \
             (SELECT max(created_at) FROM chats)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    println!("store: {chats} chats, {messages} messages");
    let staff = staff_ids(&db);
    let agent = staff
        .iter()
        .find(|(_, email)| email == "agent0@load.test")
        .map(|(id, _)| id.clone())
        .unwrap();
    let admin_token = login(server.addr, "admin@load.test").await;
    let agent_token = login(server.addr, "agent0@load.test").await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.addr);

    let mid: (i64, String) = db
        .query_row(
            "SELECT created_at, id FROM chats ORDER BY created_at, id LIMIT 1 OFFSET ?1",
            [chats / 2],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let deep = Cursor {
        created_at: mid.0,
        id: mid.1,
    };
    let day30 = newest - 30 * DAY_MS;
    let visitor = hex_id(1, 123);
    let f = ChatFilter::default;
    let search = frontdesk::store::search::match_expr;
    // (label, query string, scope, filter, cursor)
    let cases: Vec<(&str, String, Scope, ChatFilter, Option<Cursor>)> = vec![
        ("no filter", String::new(), Scope::All, f(), None),
        (
            "page in the middle (cursor)",
            format!("cursor={}", deep.encode()),
            Scope::All,
            f(),
            Some(deep.clone()),
        ),
        (
            "status=open",
            "status=open".into(),
            Scope::All,
            ChatFilter {
                status: Some(StatusFilter::Open),
                ..f()
            },
            None,
        ),
        (
            "status=ended",
            "status=ended".into(),
            Scope::All,
            ChatFilter {
                status: Some(StatusFilter::Ended),
                ..f()
            },
            None,
        ),
        (
            "visitor",
            format!("visitor={visitor}"),
            Scope::All,
            ChatFilter {
                visitor: Some(visitor.clone()),
                ..f()
            },
            None,
        ),
        (
            "staff",
            format!("staff={agent}"),
            Scope::All,
            ChatFilter {
                staff: Some(agent.clone()),
                ..f()
            },
            None,
        ),
        (
            "tag (1 chat in 100)",
            "tag=tag7".into(),
            Scope::All,
            ChatFilter {
                tag: Some("tag7".into()),
                ..f()
            },
            None,
        ),
        (
            "tag (1 chat in 2,000)",
            "tag=vip".into(),
            Scope::All,
            ChatFilter {
                tag: Some("vip".into()),
                ..f()
            },
            None,
        ),
        (
            "rating=bad",
            "rating=bad".into(),
            Scope::All,
            ChatFilter {
                rating: Some("bad".into()),
                ..f()
            },
            None,
        ),
        (
            "severity=2",
            "severity=2".into(),
            Scope::All,
            ChatFilter {
                severity: Some(2),
                ..f()
            },
            None,
        ),
        (
            "min_message_count=75",
            "min_message_count=75".into(),
            Scope::All,
            ChatFilter {
                min_message_count: Some(75),
                ..f()
            },
            None,
        ),
        (
            "since/until (one day, 30 days ago)",
            format!("since={}&until={}", day30, day30 + DAY_MS),
            Scope::All,
            ChatFilter {
                since: Some(day30),
                until: Some(day30 + DAY_MS),
                ..f()
            },
            None,
        ),
        (
            "search, a word in one message",
            format!("q={RARE_WORD}"),
            Scope::All,
            ChatFilter {
                search: search(RARE_WORD),
                ..f()
            },
            None,
        ),
        (
            "search, a common word",
            "q=delivery".into(),
            Scope::All,
            ChatFilter {
                search: search("delivery"),
                ..f()
            },
            None,
        ),
        (
            "search + status=ended + staff",
            format!("q=refund&status=ended&staff={agent}"),
            Scope::All,
            ChatFilter {
                search: search("refund"),
                status: Some(StatusFilter::Ended),
                staff: Some(agent.clone()),
                ..f()
            },
            None,
        ),
        (
            "an agent's view (served + queue)",
            String::new(),
            Scope::Agent(agent.clone()),
            f(),
            None,
        ),
        (
            "an agent's view, status=ended",
            "status=ended".into(),
            Scope::Agent(agent.clone()),
            ChatFilter {
                status: Some(StatusFilter::Ended),
                ..f()
            },
            None,
        ),
    ];

    println!();
    println!(
        "{:<40} {:>9} {:>9} {:>8}",
        "GET /api/v1/chats?limit=100 &…", "p50 ms", "max ms", "results"
    );
    let mut plans = vec![];
    let mut summary = serde_json::Map::new();
    for (label, query, scope, filter, cursor) in &cases {
        let token = if matches!(scope, Scope::Agent(_)) {
            &agent_token
        } else {
            &admin_token
        };
        let url = format!("{base}/api/v1/chats?limit=100&{query}");
        let (p50, max, body) = time_get(&client, &url, token).await;
        let n = body["results"].as_array().map(|a| a.len()).unwrap_or(0);
        println!("{label:<40} {p50:>9.2} {max:>9.2} {n:>8}");
        summary.insert(
            label.to_string(),
            serde_json::json!({"p50_ms": p50, "max_ms": max}),
        );
        let plan = history::explain_list(&db, scope, filter, cursor.as_ref(), 100).unwrap();
        plans.push((label.to_string(), plan));
    }
    let others = [
        (
            "GET /api/v1/visitors/{id}/chats",
            format!("{base}/api/v1/visitors/{visitor}/chats"),
        ),
        (
            "GET /api/v1/chats/{id}/messages",
            format!("{base}/api/v1/chats/{}/messages?limit=100", hex_id(3, 500)),
        ),
        (
            "GET /api/v1/reports, 30 days",
            format!("{base}/api/v1/reports?since={day30}&until={newest}"),
        ),
        (
            "GET /api/v1/reports, 30 days, CSV",
            format!("{base}/api/v1/reports?since={day30}&until={newest}&format=csv"),
        ),
    ];
    println!();
    for (label, url) in others {
        let (p50, max, _) = time_get(&client, &url, &admin_token).await;
        println!("{label:<40} {p50:>9.2} {max:>9.2}");
        summary.insert(
            label.to_string(),
            serde_json::json!({"p50_ms": p50, "max_ms": max}),
        );
    }

    println!("\nEXPLAIN QUERY PLAN of each list query (the SQL the server runs):");
    let mut full_scans = 0;
    for (label, plan) in &plans {
        println!("  {label}:");
        for line in plan {
            let full = is_full_scan(line);
            full_scans += full as usize;
            println!("    {}{line}", if full { "FULL SCAN → " } else { "" });
        }
    }
    println!("  the report's queries:");
    for sql in frontdesk::store::reports::QUERIES {
        let mut s = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = s.parameter_count();
        let args: Vec<i64> = vec![0; n];
        let lines: Vec<String> = s
            .query_map(rusqlite::params_from_iter(args), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for line in lines {
            let full = is_full_scan(&line);
            full_scans += full as usize;
            println!("    {}{line}", if full { "FULL SCAN → " } else { "" });
        }
    }
    summary.insert("full_scans".into(), full_scans.into());
    summary.insert("chats".into(), chats.into());
    summary.insert("messages".into(), messages.into());
    summary.insert("index_catch_up_s".into(), indexing.into());
    println!("{}", serde_json::Value::Object(summary));
    server.stop();
}

/// A step that reads a whole table without an index (`SCAN t` with no `USING`); scans of the
/// full-text index and of covering indexes in order are not.
fn is_full_scan(line: &str) -> bool {
    line.trim_start_matches(|c: char| !c.is_alphabetic())
        .starts_with("SCAN")
        && !line.contains("USING")
        && !line.contains("VIRTUAL TABLE")
}
