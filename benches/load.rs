//! `cargo bench --bench load [-- OPTIONS]`: the load benchmark of Frontdesk.
//!
//! Starts the release `frontdesk` binary on a free loopback port with a fresh data dir, creates
//! staff and visitors, and drives real clients. Scenarios: (1) idle memory and start-up with many
//! stored messages; (2) many connected visitors; (3) sustained chat traffic at a fixed rate, for
//! latency; (4) maximum throughput; (5) the same over Socket.IO. Prints a table and, as its last
//! line, one JSON object. Every acked message is checked to be in the database exactly once.
//!
//! Options: --transport ws|socketio, --visitors N, --staff M, --rate MSGS_PER_S (0 = as fast as
//! possible), --duration SECS, --chats N (chats driven flat out in the throughput scenarios,
//! default 200), --quick (a short run of every scenario).

#[path = "load/driver.rs"]
mod driver;

use driver::*;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Opts {
    transport: Transport,
    visitors: usize,
    staff: usize,
    rate: u64,
    duration: f64,
    quick: bool,
    /// Chats driven flat out in the throughput scenarios (a full window each).
    throughput_chats: usize,
    startup_messages: usize,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        transport: Transport::Ws,
        visitors: 10_000,
        staff: 50,
        rate: 2_000,
        duration: 60.0,
        quick: false,
        throughput_chats: 200,
        startup_messages: 1_000_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let val = |i: usize| -> String {
        args.get(i + 1)
            .cloned()
            .unwrap_or_else(|| panic!("{} needs a value", args[i]))
    };
    let (mut visitors, mut staff, mut duration, mut chats) = (None, None, None, None);
    while i < args.len() {
        match args[i].as_str() {
            "--transport" => {
                o.transport = match val(i).as_str() {
                    "ws" => Transport::Ws,
                    "socketio" => Transport::SocketIo,
                    other => panic!("--transport ws|socketio, not {other}"),
                };
                i += 1;
            }
            "--visitors" => {
                visitors = Some(val(i).parse().expect("--visitors N"));
                i += 1;
            }
            "--staff" => {
                staff = Some(val(i).parse().expect("--staff M"));
                i += 1;
            }
            "--rate" => {
                o.rate = val(i).parse().expect("--rate MSGS_PER_S");
                i += 1;
            }
            "--duration" => {
                duration = Some(val(i).parse().expect("--duration SECS"));
                i += 1;
            }
            "--chats" => {
                chats = Some(val(i).parse().expect("--chats N"));
                i += 1;
            }
            "--quick" => o.quick = true,
            "--bench" => {} // cargo bench passes this
            other => panic!("unknown option {other}"),
        }
        i += 1;
    }
    if o.quick {
        o.visitors = 500;
        o.staff = 10;
        o.duration = 5.0;
        o.rate = o.rate.min(1_000);
        o.throughput_chats = 100;
        o.startup_messages = 100_000;
    }
    o.visitors = visitors.unwrap_or(o.visitors).max(1);
    o.staff = staff.unwrap_or(o.staff).clamp(1, o.visitors);
    o.duration = duration.unwrap_or(o.duration);
    o.throughput_chats = chats.unwrap_or(o.throughput_chats).min(o.visitors);
    o
}

/// The server under test: this build's binary, or `FRONTDESK_BENCH_BIN` (another build, or a
/// wrapper that runs it under a profiler).
fn bin() -> PathBuf {
    std::env::var_os("FRONTDESK_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_frontdesk")))
}

/// Samples the server's RSS every 100 ms; returns the peak when stopped.
fn rss_sampler(
    pid: u32,
) -> (
    Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<f64>,
) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !s.load(Ordering::Relaxed) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            {
                peak = peak.max(kb / 1024.0);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        peak
    });
    (stop, h)
}

struct TrafficResult {
    msgs_per_s: f64,
    ack_p50: f64,
    ack_p99: f64,
    del_p50: f64,
    del_p99: f64,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    failed: u64,
    /// Server CPU time (user + system) per acknowledged message, µs, deliveries included:
    /// steadier than msg/s on a shared machine, where the client competes for the same cores.
    cpu_us_per_msg: f64,
}

async fn run_traffic(floor: &Floor, rate: u64, secs: f64, pad: &str) -> TrafficResult {
    let st = &floor.stats;
    st.ack_us.lock().unwrap().clear();
    st.deliver_us.lock().unwrap().clear();
    let (a0, d0) = (
        st.acked.load(Ordering::Relaxed),
        st.delivered.load(Ordering::Relaxed),
    );
    let (dup0, ooo0, f0) = (
        st.duplicated.load(Ordering::Relaxed),
        st.out_of_order.load(Ordering::Relaxed),
        st.failed.load(Ordering::Relaxed),
    );
    let msgs_per_s = traffic(floor, rate, secs, pad).await;
    let expected = st.acked.load(Ordering::Relaxed) - a0;
    let lost = drain(floor, d0 + expected, 30.0).await;
    let mut acks = st.ack_us.lock().unwrap().clone();
    let mut dels = st.deliver_us.lock().unwrap().clone();
    TrafficResult {
        msgs_per_s,
        ack_p50: percentile_ms(&mut acks, 0.5),
        ack_p99: percentile_ms(&mut acks, 0.99),
        del_p50: percentile_ms(&mut dels, 0.5),
        del_p99: percentile_ms(&mut dels, 0.99),
        lost,
        duplicated: st.duplicated.load(Ordering::Relaxed) - dup0,
        out_of_order: st.out_of_order.load(Ordering::Relaxed) - ooo0,
        failed: st.failed.load(Ordering::Relaxed) - f0,
        cpu_us_per_msg: 0.0,
    }
}

/// A server with `chats` claimed chats over `t`, driven flat out for `secs`.
async fn throughput(
    o: &Opts,
    t: Transport,
    chats: usize,
    staff: usize,
    secs: f64,
) -> (TrafficResult, u64, u64) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let emails = add_agents(&bin(), &data, staff);
    let server = ServerProc::start(&bin(), &server_config(""), Some(data.clone()));
    let visitors = create_visitors(server.addr, chats, 64).await;
    let floor = open_floor(&server, t, &emails, &visitors, true).await;
    let (cpu0, acked0) = (server.cpu_secs(), floor.stats.acked.load(Ordering::Relaxed));
    let mut r = run_traffic(&floor, 0, secs, "throughput").await;
    let acked = floor.stats.acked.load(Ordering::Relaxed) - acked0;
    r.cpu_us_per_msg = (server.cpu_secs() - cpu0) * 1e6 / (acked.max(1) as f64);
    let (missing, dup_db) = verify_in_db(&data, &floor.stats);
    let _ = o;
    server.stop();
    (r, missing, dup_db)
}

#[tokio::main]
async fn main() {
    let o = parse_args();
    let t_all = Instant::now();
    println!(
        "Frontdesk load benchmark — transport {}, {} visitors, {} staff, rate {} msg/s, {} s per scenario{}",
        o.transport.name(),
        o.visitors,
        o.staff,
        o.rate,
        o.duration,
        if o.quick { " (quick)" } else { "" }
    );
    println!("{:<58} {:>14}", "measure", "value");
    let row = |name: &str, v: String| println!("{name:<58} {v:>14}");

    // (1) Idle memory, and start-up with many stored messages.
    let idle_server = ServerProc::start(&bin(), &server_config(""), None);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let rss_idle = idle_server.rss_mb();
    let rss_anon_idle = idle_server.rss_anon_mb();
    row("(1) idle server RSS, MB", format!("{rss_idle:.1}"));
    row(
        "(1) idle server RSS, anonymous part, MB",
        format!("{rss_anon_idle:.1}"),
    );
    drop(idle_server);
    let startup_ms = startup_with_messages(o.startup_messages);
    row(
        &format!(
            "(1) ready to serve with {} stored messages, ms",
            o.startup_messages
        ),
        format!("{startup_ms:.0}"),
    );

    // (2) Many connected visitors, held; (3) sustained traffic over the same floor.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let emails = add_agents(&bin(), &data, o.staff);
    let server = ServerProc::start(&bin(), &server_config(""), Some(data.clone()));
    let (stop_rss, rss_thread) = rss_sampler(server.pid());
    let visitors = create_visitors(server.addr, o.visitors, 64).await;
    let floor = open_floor(&server, o.transport, &emails, &visitors, true).await;
    row(
        &format!(
            "(2) {} visitors + {} staff connected, connects/s",
            o.visitors, o.staff
        ),
        format!("{:.0}", floor.connect_per_s),
    );
    row(
        "(2) server RSS with all connected, before any chat, MB",
        format!("{:.1}", floor.rss_connected_mb),
    );
    row(
        "(2) the same, anonymous part (no mapped binary), MB",
        format!("{:.1}", floor.rss_anon_connected_mb),
    );
    let hold = if o.quick { 2.0 } else { o.duration };
    tokio::time::sleep(Duration::from_secs_f64(hold)).await;
    row(
        &format!("(2) server RSS after holding them {hold:.0} s, MB"),
        format!("{:.1}", server.rss_mb()),
    );

    let sustained = if o.rate > 0 {
        let r = run_traffic(&floor, o.rate, o.duration, "sustained").await;
        row(
            &format!("(3) sustained {} msg/s: achieved msg/s", o.rate),
            format!("{:.0}", r.msgs_per_s),
        );
        row(
            "(3) ack latency p50 / p99, ms",
            format!("{:.2} / {:.2}", r.ack_p50, r.ack_p99),
        );
        row(
            "(3) delivery latency p50 / p99, ms",
            format!("{:.2} / {:.2}", r.del_p50, r.del_p99),
        );
        Some(r)
    } else {
        None
    };
    let (missing, dup_db) = verify_in_db(&data, &floor.stats);
    for (_, c) in &floor.visitors {
        c.close();
    }
    for c in &floor.staff {
        c.close();
    }
    stop_rss.store(true, Ordering::Relaxed);
    let rss_peak = rss_thread.join().unwrap();
    row("(2–3) server RSS peak, MB", format!("{rss_peak:.1}"));
    server.stop();

    // (4) Maximum throughput on the chosen transport, (5) the other transport, and the echo
    // baseline with as many connections.
    let tp_staff = o.staff.min(20);
    let (tp, tp_missing, tp_dup) =
        throughput(&o, o.transport, o.throughput_chats, tp_staff, o.duration).await;
    row(
        &format!(
            "(4) max throughput over {}, {} chats: msg/s",
            o.transport.name(),
            o.throughput_chats
        ),
        format!("{:.0}", tp.msgs_per_s),
    );
    row(
        "(4) ack latency p50 / p99 at max throughput, ms",
        format!("{:.2} / {:.2}", tp.ack_p50, tp.ack_p99),
    );
    row(
        "(4) server CPU per message, µs",
        format!("{:.1}", tp.cpu_us_per_msg),
    );
    let other = match o.transport {
        Transport::Ws => Transport::SocketIo,
        Transport::SocketIo => Transport::Ws,
    };
    let (tp2, tp2_missing, tp2_dup) =
        throughput(&o, other, o.throughput_chats, tp_staff, o.duration).await;
    row(
        &format!("(5) max throughput over {}: msg/s", other.name()),
        format!("{:.0}", tp2.msgs_per_s),
    );
    row(
        "(5) server CPU per message, µs",
        format!("{:.1}", tp2.cpu_us_per_msg),
    );
    let baseline = echo_rate(o.throughput_chats + tp_staff, o.duration.min(10.0)).await;
    row(
        "baseline: plain tokio-tungstenite echo, msg/s",
        format!("{baseline:.0}"),
    );
    let ratio = tp.msgs_per_s / baseline.max(1.0);
    row("ratio to baseline", format!("{ratio:.3}"));

    let s = sustained.as_ref();
    let lost =
        s.map(|r| r.lost).unwrap_or(0) + missing + tp.lost + tp_missing + tp2.lost + tp2_missing;
    let duplicated = s.map(|r| r.duplicated).unwrap_or(0)
        + dup_db
        + tp.duplicated
        + tp_dup
        + tp2.duplicated
        + tp2_dup;
    let out_of_order = s.map(|r| r.out_of_order).unwrap_or(0) + tp.out_of_order + tp2.out_of_order;
    let failed = s.map(|r| r.failed).unwrap_or(0) + tp.failed + tp2.failed;
    row(
        "lost / duplicated / out of order / refused",
        format!("{lost} / {duplicated} / {out_of_order} / {failed}"),
    );
    row(
        "total run time, s",
        format!("{:.0}", t_all.elapsed().as_secs_f64()),
    );

    let (ws_rate, sio_rate) = match o.transport {
        Transport::Ws => (tp.msgs_per_s, tp2.msgs_per_s),
        Transport::SocketIo => (tp2.msgs_per_s, tp.msgs_per_s),
    };
    let (ws_cpu, sio_cpu) = match o.transport {
        Transport::Ws => (tp.cpu_us_per_msg, tp2.cpu_us_per_msg),
        Transport::SocketIo => (tp2.cpu_us_per_msg, tp.cpu_us_per_msg),
    };
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let summary = json!({
        "transport": o.transport.name(),
        "visitors": o.visitors,
        "staff": o.staff,
        "connect_per_s": round(floor.connect_per_s),
        "rate": o.rate,
        "msgs_per_s": round(tp.msgs_per_s),
        "sustained_msgs_per_s": s.map(|r| round(r.msgs_per_s)),
        "ack_p50_ms": s.map(|r| round(r.ack_p50)),
        "ack_p99_ms": s.map(|r| round(r.ack_p99)),
        "deliver_p50_ms": s.map(|r| round(r.del_p50)),
        "deliver_p99_ms": s.map(|r| round(r.del_p99)),
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "refused": failed,
        "server_rss_mb_idle": round(rss_idle),
        "server_rss_mb_peak": round(rss_peak),
        "server_rss_mb_connected": round(floor.rss_connected_mb),
        "server_rss_anon_mb_idle": round(rss_anon_idle),
        "server_rss_anon_mb_connected": round(floor.rss_anon_connected_mb),
        "startup_ms": round(startup_ms),
        "startup_messages": o.startup_messages,
        "ws_msgs_per_s": round(ws_rate),
        "socketio_msgs_per_s": round(sio_rate),
        "ws_cpu_us_per_msg": round(ws_cpu),
        "socketio_cpu_us_per_msg": round(sio_cpu),
        "socketio_share_of_ws": round(sio_rate / ws_rate.max(1.0)),
        "throughput_chats": o.throughput_chats,
        "baseline_echo_msgs_per_s": round(baseline),
        "ratio_to_baseline": round(ratio * 1000.0) / 1000.0,
        "quick": o.quick,
    });
    println!("{summary}");
    if lost + duplicated + out_of_order > 0 {
        std::process::exit(1);
    }
}

/// Builds a database with `n` stored messages (in 10,000 chats, 100 of them still open), then
/// times a start until `/healthz` answers.
fn startup_with_messages(n: usize) -> f64 {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ServerProc::start(&bin(), &server_config(""), Some(data.clone())).stop();
    {
        let mut db = rusqlite::Connection::open(data.join("frontdesk.db")).unwrap();
        let tx = db.transaction().unwrap();
        let chats = 10_000.min(n.max(1));
        tx.execute("INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'Loaded', 0, 0)", []).unwrap();
        for c in 0..chats {
            // One open chat per visitor: the last one stays open (offline queue).
            let (status, visitor) = if c + 1 == chats {
                ("offline", "v".to_string())
            } else {
                ("ended", format!("v{c}"))
            };
            if visitor != "v" {
                tx.execute("INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES (?1, 'Loaded', 0, 0)", [&visitor]).unwrap();
            }
            tx.execute(
                "INSERT INTO chats (id, visitor_id, status, created_at) VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![format!("c{c}"), visitor, status],
            )
            .unwrap();
        }
        let mut stmt = tx.prepare("INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at) VALUES (?1, ?2, ?3, 1, '{\"content\":\"a stored message of ordinary length\"}', 0)").unwrap();
        let per_chat = n / chats;
        for i in 0..n {
            let chat = (i / per_chat.max(1)).min(chats - 1);
            stmt.execute(rusqlite::params![
                format!("m{i}"),
                format!("c{chat}"),
                (i % per_chat.max(1)) as i64
                    + 1
                    + (i / (per_chat.max(1) * chats)) as i64 * per_chat as i64
            ])
            .unwrap();
        }
        drop(stmt);
        tx.commit().unwrap();
    }
    // Warm the page cache the way a running machine would have it, then time the start.
    let _ = std::fs::read(data.join("frontdesk.db"));
    let mut times = vec![];
    for _ in 0..3 {
        let s = ServerProc::start(&bin(), &server_config(""), Some(data.clone()));
        times.push(s.ready_after.as_secs_f64() * 1000.0);
        s.stop();
    }
    times.sort_by(f64::total_cmp);
    times[1]
}
