//! The load benchmark's correctness checks as an ordinary test: a small floor of chats over both
//! transports, traffic at a fixed rate and flat out; nothing lost, duplicated or reordered, and
//! every acked message in the database exactly once. (Timings are only measured by the
//! benchmark, never asserted here.)

#[path = "../../benches/load/driver.rs"]
mod driver;

use driver::*;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

async fn check(t: Transport) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_frontdesk"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let emails = add_agents(&bin, &data, 2);
    let server = ServerProc::start(&bin, &server_config(""), Some(data.clone()));
    let visitors = create_visitors(server.addr, 20, 8).await;
    let floor = open_floor(&server, t, &emails, &visitors, true).await;
    let st = &floor.stats;
    let acked_before = st.acked.load(Ordering::Relaxed);
    traffic(&floor, 400, 1.0, "paced").await;
    traffic(&floor, 0, 1.0, "flat out").await;
    let expected = st.acked.load(Ordering::Relaxed) - acked_before;
    assert!(expected > 400, "{t:?}: only {expected} messages acked");
    assert_eq!(
        drain(&floor, expected, 20.0).await,
        0,
        "{t:?}: every acked message is delivered"
    );
    assert_eq!(
        st.failed.load(Ordering::Relaxed),
        0,
        "{t:?}: nothing refused"
    );
    assert_eq!(
        st.duplicated.load(Ordering::Relaxed),
        0,
        "{t:?}: no duplicates"
    );
    assert_eq!(
        st.out_of_order.load(Ordering::Relaxed),
        0,
        "{t:?}: in order per sender"
    );
    assert_eq!(
        verify_in_db(&data, st),
        (0, 0),
        "{t:?}: each acked message stored exactly once"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_driver_checks_hold_over_ws() {
    check(Transport::Ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_driver_checks_hold_over_socketio() {
    check(Transport::SocketIo).await;
}
