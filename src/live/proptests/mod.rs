//! Randomised sequences over the live core (issue 10, "Proof at scale"): staff and visitors
//! connect (also with `force`, and as refused second sessions), disconnect, come back within
//! the grace or not, write, claim, leave, take over, add/remove staff, flag chats, type; grace
//! timers fire in time order; the server restarts. After every step the invariants of
//! product.md §5–§6 are checked against what the plans say:
//!
//! - the database's view, simulated from the plans' `DbOp`s exactly as the writer applies them
//!   (`sequence_num` = the chat's last + 1, as `store::chats` does): every open chat is in
//!   exactly one of unclaimed / offline / served, served ⇔ someone serves it, agrees with
//!   `LiveState::counts()`; messages only go into open chats, so numbering is gap-free;
//! - every staff member serving a chat is online or within the reconnect grace;
//! - a (re)connecting console's `staff_init` lists exactly the chats the database says it
//!   serves (the staff's room list and the chats' serving lists agree), the unclaimed queue in
//!   order, the offline queue, and (supervisors) every served chat with its serving staff;
//! - queue positions told to waiting visitors are their places in the queue (a permutation);
//! - every send goes only to open connections allowed by §6 for that event, and a refused
//!   request changes nothing;
//! - with routing on (§8.3), a chat is assigned only to a staff member who then serves it and
//!   stays within their capacity; transfers and availability changes keep all of the above.
//!
//! `LiveState` keeps its fields private, so everything is checked from the outside: plans in,
//! a model of the database and of the connections on this side.

use super::events::Request;
use super::plan::*;
use super::state::{LiveConfig, LiveState};
use crate::auth::Principal;
use crate::model::{Role, Staff, Visitor};
use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

use std::time::Duration;

mod checks;
mod invariants;
mod ops;
use ops::{op, Op};

/// The cast: staff first (index = principal number), then visitors.
const STAFF: [(&str, Role); 5] = [
    ("a1", Role::Agent),
    ("a2", Role::Agent),
    ("s1", Role::Supervisor),
    ("s2", Role::Supervisor),
    ("ad", Role::Admin),
];
const VISITORS: [&str; 3] = ["v1", "v2", "v3"];
const PEOPLE: usize = STAFF.len() + VISITORS.len();

fn staff_obj(i: usize) -> Staff {
    let (id, role) = STAFF[i];
    Staff {
        id: id.into(),
        email: format!("{id}@shop.test"),
        full_name: id.into(),
        display_name: None,
        organisation_id: "org".into(),
        role_id: role,
        disabled: false,
        created_at: 0,
        updated_at: None,
        max_chats: crate::model::DEFAULT_MAX_CHATS,
        availability: Default::default(),
        title: None,
        avatar_url: None,
    }
}

fn visitor_obj(i: usize) -> Visitor {
    let id = VISITORS[i];
    Visitor {
        id: id.into(),
        name: format!("Visitor {id}"),
        email: None,
        is_anonymous: true,
        disabled: false,
        created_at: i as i64,
        updated_at: None,
    }
}

fn principal(p: usize) -> Principal {
    if p < STAFF.len() {
        Principal::Staff(staff_obj(p))
    } else {
        Principal::Visitor(visitor_obj(p - STAFF.len()))
    }
}

fn is_staff(p: usize) -> bool {
    p < STAFF.len()
}

fn pid(p: usize) -> &'static str {
    if is_staff(p) {
        STAFF[p].0
    } else {
        VISITORS[p - STAFF.len()]
    }
}

fn staff_index(id: &str) -> Option<usize> {
    STAFF.iter().position(|(s, _)| *s == id)
}

/// A visitor id as a client names it: one of ours, or one that does not exist.
fn vid(v: usize) -> String {
    VISITORS.get(v).copied().unwrap_or("nobody").to_string()
}

/// A client event as the transports hand it over: through the table's parser.
fn req(name: &str, data: Value) -> Request {
    let raw = RawValue::from_string(data.to_string()).expect("JSON");
    Request::parse(name, Some(&raw), 1 << 14).expect("a well-formed event")
}

/// A chat as the database holds it, built from the plans' writes.
#[derive(Debug, Clone)]
struct DbChat {
    vid: String,
    status: ChatStatus,
    serving: Vec<String>,
    last_seq: i64,
    severity: i64,
    flagged_at: Option<i64>,
    queued_at: i64,
}

/// The world around one `LiveState`: the database (simulated), the connections, the clock.
struct World {
    state: LiveState,
    cfg: LiveConfig,
    now: i64,
    next_conn: ConnId,
    /// Open connections (accepted and not closed), and whose they are.
    open: HashMap<ConnId, usize>,
    /// Each person's current connection.
    current: HashMap<usize, ConnId>,
    timers: Vec<(i64, u64, Timer)>,
    timer_seq: u64,
    chats: HashMap<String, DbChat>,
    open_chat: HashMap<String, String>,
    /// Visitor ids in unclaimed-queue order, and in offline-queue order.
    queue: Vec<String>,
    offline: Vec<String>,
    told_position: HashMap<String, usize>,
    /// Every `sequence_num` handed out, per chat, to prove them gap-free at the end.
    seqs: HashMap<String, Vec<i64>>,
    log: Vec<String>,
}

/// What one step was about, for the recipient rules.
#[derive(Default)]
struct Ctx {
    /// The connection the command came from (a client event or a new connection).
    actor: Option<ConnId>,
    /// A new connection and whose it is (it may be refused, so not open).
    connecting: Option<(ConnId, usize)>,
    /// Visitors whose rooms the step may speak to: serving staff before and after the step.
    rooms: HashMap<String, BTreeSet<String>>,
    /// Chats routing gave in this step: (the agent's connection, the visitor).
    assigned: Vec<(ConnId, String)>,
}

impl World {
    fn new(grace_ms: u64, max_staff: usize) -> World {
        let cfg = LiveConfig::new(Duration::from_millis(grace_ms), max_staff);
        World {
            state: LiveState::new(cfg.clone()),
            cfg,
            now: 1_000_000,
            next_conn: ConnId(1),
            open: HashMap::new(),
            current: HashMap::new(),
            timers: vec![],
            timer_seq: 0,
            chats: HashMap::new(),
            open_chat: HashMap::new(),
            queue: vec![],
            offline: vec![],
            told_position: HashMap::new(),
            seqs: HashMap::new(),
            log: vec![],
        }
    }

    fn serving_of(&self, vid: &str) -> BTreeSet<String> {
        self.open_chat
            .get(vid)
            .and_then(|c| self.chats.get(c))
            .map(|c| c.serving.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn conn_of_id(&self, id: &str) -> Option<ConnId> {
        let p = (0..PEOPLE).find(|p| pid(*p) == id)?;
        self.current.get(&p).copied()
    }

    fn request(&mut self, who: usize, req: Request, v: Option<String>) {
        let Some(&conn) = self.current.get(&who) else {
            // Not connected: an event from a connection the state does not know.
            let plan = self.state.request(ConnId(999_999), req, self.now);
            assert!(matches!(plan.reply, Some(Err(_))));
            return self.carry_out(plan, Ctx::default());
        };
        let mut ctx = Ctx {
            actor: Some(conn),
            ..Default::default()
        };
        let own = if is_staff(who) {
            v
        } else {
            Some(pid(who).to_string())
        };
        if let Some(v) = own {
            let s = self.serving_of(&v);
            ctx.rooms.insert(v, s);
        }
        let plan = self.state.request(conn, req, self.now);
        assert!(plan.reply.is_some(), "a client event without an answer");
        self.carry_out(plan, ctx);
    }

    fn fire_timers_until(&mut self, until: i64) {
        loop {
            self.timers.sort_by_key(|(due, seq, _)| (*due, *seq));
            match self.timers.first() {
                Some((due, _, _)) if *due <= until => {
                    let (due, _, t) = self.timers.remove(0);
                    self.now = self.now.max(due);
                    let plan = self.state.timer(t, self.now);
                    self.carry_out(plan, Ctx::default());
                    self.tick();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    /// The actor's periodic tick (queue positions).
    fn tick(&mut self) {
        let plan = self.state.tick(self.now);
        self.carry_out(plan, Ctx::default());
    }

    fn restart(&mut self) {
        // Everything in memory is lost; the database is what comes back.
        self.state = LiveState::new(self.cfg.clone());
        self.open.clear();
        self.current.clear();
        self.timers.clear();
        self.told_position.clear();
        let restored_of = |w: &World, vid: &String| {
            let chat_id = w.open_chat[vid].clone();
            let c = &w.chats[&chat_id];
            let v = VISITORS.iter().position(|x| x == vid).expect("visitor");
            RestoredChat {
                chat_id: chat_id.into(),
                visitor: visitor_obj(v),
                status: c.status,
                severity_level: c.severity,
                flagged_at: c.flagged_at,
                queued_at: c.queued_at,
                tags: vec![],
                visitor_read_seq: 0,
                staff_read_seq: 0,
                last_seq: c.last_seq,
                staff: c
                    .serving
                    .iter()
                    .map(|s| staff_obj(staff_index(s).expect("staff")))
                    .collect(),
                offers: vec![],
            }
        };
        // Offline first, then the unclaimed queue (which becomes offline, behind them).
        let mut order: Vec<String> = self.offline.clone();
        order.extend(self.queue.iter().cloned());
        let mut claimed: Vec<&String> = self
            .open_chat
            .keys()
            .filter(|v| !order.contains(v))
            .collect();
        claimed.sort();
        order.extend(claimed.into_iter().cloned());
        let restored: Vec<RestoredChat> = order.iter().map(|v| restored_of(self, v)).collect();
        let plan = self.state.restore(restored, self.now);
        self.carry_out(plan, Ctx::default());
    }

    fn step(&mut self, op: &Op) {
        self.log.push(format!("{op:?}"));
        self.now += 1;
        match *op {
            Op::Connect { who, force } => {
                let conn = self.next_conn;
                self.next_conn.0 += 1;
                let old = self.current.get(&who).copied();
                let plan = self.state.connect(conn, &principal(who), force, self.now);
                let refused = plan.closes.contains(&conn);
                assert_eq!(refused, old.is_some() && !force, "second session rule");
                if !refused {
                    self.open.insert(conn, who);
                    self.current.insert(who, conn);
                }
                let ctx = Ctx {
                    actor: Some(conn),
                    connecting: Some((conn, who)),
                    rooms: if is_staff(who) {
                        HashMap::new()
                    } else {
                        let v = pid(who).to_string();
                        let s = self.serving_of(&v);
                        [(v, s)].into()
                    },
                    ..Default::default()
                };
                self.carry_out(plan, ctx);
            }
            Op::ConnectAll => {
                for who in 0..PEOPLE {
                    if !self.current.contains_key(&who) {
                        self.step(&Op::Connect { who, force: false });
                    }
                }
            }
            Op::ByServer { v, leave } => {
                let server = self
                    .serving_of(&vid(v))
                    .iter()
                    .next()
                    .and_then(|id| staff_index(id))
                    .unwrap_or(0);
                let visitor = vid(v);
                let req = if leave {
                    req("staff_leave_room", json!({ "visitor": visitor }))
                } else {
                    req(
                        "staff_msg",
                        json!({ "visitor": visitor, "content": {"content": "hi"} }),
                    )
                };
                self.request(server, req, Some(visitor));
            }
            Op::Disconnect { who } => {
                if let Some(conn) = self.current.remove(&who) {
                    self.open.remove(&conn);
                    let plan = self.state.disconnect(conn, self.now);
                    // Within a grace the others are only told the party is away.
                    assert!(
                        self.cfg.staff_grace.is_zero()
                            || plan
                                .sends
                                .iter()
                                .all(|s| matches!(s.event.name(), "visitor_away" | "staff_away")),
                        "a disconnect within the grace did more than tell it"
                    );
                    self.carry_out(plan, Ctx::default());
                }
            }
            Op::VisitorMsg { v } => self.request(
                STAFF.len() + v,
                req("visitor_msg", json!({"content": "hi"})),
                None,
            ),
            Op::VisitorLeave { v } => self.request(
                STAFF.len() + v,
                req("visitor_leave_room", Value::Null),
                None,
            ),
            Op::Claim { s, v } => self.request(
                s,
                req("staff_join", json!({"visitor": vid(v)})),
                Some(vid(v)),
            ),
            Op::StaffMsg { s, v } => self.request(
                s,
                req(
                    "staff_msg",
                    json!({"visitor": vid(v), "content": {"content": "hi"}}),
                ),
                Some(vid(v)),
            ),
            Op::StaffLeave { s, v } => self.request(
                s,
                req("staff_leave_room", json!({"visitor": vid(v)})),
                Some(vid(v)),
            ),
            Op::TakeOver { s, v } => self.request(
                s,
                req("take_over_chat", json!({"visitor": vid(v)})),
                Some(vid(v)),
            ),
            Op::Add { s, target, v } => self.request(
                s,
                req(
                    "add_staff_to_chat",
                    json!({"visitor": vid(v), "staff": STAFF[target].0}),
                ),
                Some(vid(v)),
            ),
            Op::Remove { s, target, v } => self.request(
                s,
                req(
                    "remove_staff_from_chat",
                    json!({"visitor": vid(v), "staff": STAFF[target].0}),
                ),
                Some(vid(v)),
            ),
            Op::Priority { s, v, level } => self.request(
                s,
                req(
                    "change_chat_priority",
                    json!({"visitor": vid(v), "severity_level": level}),
                ),
                Some(vid(v)),
            ),
            Op::Typing { who, v, typing } => {
                let visitor = is_staff(who).then(|| vid(v));
                self.request(
                    who,
                    req(
                        if typing {
                            "user_typing_send"
                        } else {
                            "user_stop_typing_send"
                        },
                        match &visitor {
                            Some(v) => json!({ "visitor": v }),
                            None => Value::Null,
                        },
                    ),
                    visitor,
                )
            }
            Op::Sync { who, v, after } => {
                let chat_id = self
                    .open_chat
                    .get(&vid(v))
                    .cloned()
                    .unwrap_or("nope".into());
                self.request(
                    who,
                    req(
                        "sync",
                        json!({"chat_id": chat_id, "after_sequence_num": after}),
                    ),
                    None,
                )
            }
            Op::Routing { mode } => {
                let mode = ["manual", "round_robin", "least_busy"][mode % 3];
                let patch = json!({"routing": mode, "assign_timeout_secs": 5});
                let settings = crate::settings::Settings::default()
                    .patched(patch.as_object().expect("object"))
                    .expect("good settings");
                let plan = self.state.set_settings(settings, self.now);
                self.carry_out(plan, Ctx::default());
            }
            Op::SetAvailability { s, away } => self.request(
                s,
                req(
                    "set_availability",
                    json!({"status": if away { "away" } else { "available" }}),
                ),
                None,
            ),
            Op::Transfer { s, target, v } => self.request(
                s,
                req(
                    "transfer_chat",
                    json!({"visitor": vid(v), "staff": pid(target), "note": "over to you"}),
                ),
                Some(vid(v)),
            ),
            Op::Read { who, v, seq } => self.request(
                who,
                req(
                    "message_read",
                    json!({"visitor": vid(v), "sequence_num": seq.max(1)}),
                ),
                Some(vid(v)),
            ),
            Op::Note { s, v } => self.request(
                s,
                req(
                    "staff_note",
                    json!({"visitor": vid(v), "content": {"content": "n"}}),
                ),
                Some(vid(v)),
            ),
            Op::Tag { s, v } => self.request(
                s,
                req("tag_chat", json!({"visitor": vid(v), "tags": ["vip"]})),
                Some(vid(v)),
            ),
            Op::Rate { v, good } => self.request(
                STAFF.len() + v,
                req(
                    "rate_chat",
                    json!({"rating": if good { "good" } else { "bad" }}),
                ),
                None,
            ),
            Op::VisitorUpdate { v } => self.request(
                STAFF.len() + v,
                req("visitor_update", json!({"email": "v@example.com"})),
                None,
            ),
            Op::Advance { ms } => self.fire_timers_until(self.now + ms as i64),
            Op::Restart => self.restart(),
        }
        self.tick();
        self.check_invariants();
    }
}

/// Runs a sequence; on a failed check, says which step.
fn run(grace_ms: u64, max_staff: usize, ops: &[Op]) {
    let mut w = World::new(grace_ms, max_staff);
    // Everyone starts connected, so most events act on live rooms.
    for op in std::iter::once(&Op::ConnectAll).chain(ops) {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.step(op)));
        if let Err(e) = r {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{why}\nafter steps:\n  {}", w.log.join("\n  "));
        }
    }
    // In the end everyone leaves and every grace runs out: nothing may stay served.
    for p in 0..PEOPLE {
        w.step(&Op::Disconnect { who: p });
    }
    w.step(&Op::Advance { ms: 120_000 });
    for c in w.open_chat.values() {
        assert_ne!(
            w.chats[c].status,
            ChatStatus::Claimed,
            "served by nobody present"
        );
    }
}

proptest! {
    // 256 cases: about 9 s in a debug build. PROPTEST_CASES=N for a longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn live_core_keeps_its_invariants(
        grace in prop_oneof![Just(0u64), Just(5_000u64)],
        max_staff in 1usize..4,
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        run(grace, max_staff, &ops);
    }
}
