//! The checks of what a step leaves behind: a console's `staff_init` against the simulated
//! database, and the invariants over the database, the queue and the live state's counts.

use super::checks::*;
use super::*;

impl World {
    /// A console's `staff_init` against the database.
    pub(super) fn check_staff_init(&self, send: &Send, ctx: &Ctx) {
        let p = self.open.get(&send.to[0]).copied().expect("open staff");
        let sid = pid(p);
        let mut serving: BTreeSet<String> = entry_vids(field(&send.payload, "serving_chats"))
            .into_iter()
            .collect();
        serving.extend(
            ctx.assigned
                .iter()
                .filter(|(c, _)| *c == send.to[0])
                .map(|(_, v)| v.clone()),
        );
        let want: BTreeSet<String> = self
            .open_chat
            .values()
            .filter_map(|c| self.chats.get(c))
            .filter(|c| c.serving.iter().any(|s| s == sid))
            .map(|c| c.vid.clone())
            .collect();
        assert_eq!(
            serving, want,
            "{sid}'s serving_chats disagree with the chats"
        );
        // The queue as of the `staff_init`: routing may take chats from it later in the step.
        let listed: Vec<String> = entry_vids(field(&send.payload, "unclaimed_chats"))
            .into_iter()
            .filter(|v| !ctx.assigned.iter().any(|(_, a)| a == v))
            .collect();
        assert_eq!(listed, self.queue, "unclaimed_chats is not the queue");
        let offline: Vec<String> = room_list(field(&send.payload, "offline_unclaimed_chats"))
            .iter()
            .map(room_vid)
            .collect();
        let want_off: Vec<String> = self.offline.iter().take(15).cloned().collect();
        assert_eq!(offline, want_off, "offline_unclaimed_chats");
        if STAFF[p].1.is_supervisor() {
            let claimed = room_list(field(&send.payload, "claimed_chats"));
            let got: BTreeSet<(String, String)> = claimed
                .iter()
                .map(|r| {
                    (
                        room_vid(r),
                        r["staff"]["id"].as_str().unwrap_or("none").to_string(),
                    )
                })
                .collect();
            let want: BTreeSet<(String, String)> = self
                .open_chat
                .values()
                .filter_map(|c| self.chats.get(c))
                .filter(|c| c.status == ChatStatus::Claimed)
                .filter(|c| !ctx.assigned.iter().any(|(_, a)| *a == c.vid))
                .map(|c| (c.vid.clone(), c.serving[0].clone()))
                .collect();
            assert_eq!(got, want, "claimed_chats");
        } else {
            assert!(field(&send.payload, "claimed_chats").is_none());
        }
    }

    /// Whether staff `sid` is online or within its grace (a disconnect timer still pending).
    pub(super) fn present(&self, sid: &str) -> bool {
        let p = staff_index(sid).expect("known staff");
        self.current.contains_key(&p)
            || self
                .timers
                .iter()
                .any(|(_, _, t)| matches!(t, Timer::StaffGone { staff_id, .. } if staff_id == sid))
    }

    pub(super) fn check_invariants(&self) {
        let mut unclaimed = 0;
        let mut offline = 0;
        let mut claimed = 0;
        for (vid, chat_id) in &self.open_chat {
            let c = &self.chats[chat_id];
            assert_eq!(&c.vid, vid);
            match c.status {
                ChatStatus::Unclaimed => unclaimed += 1,
                ChatStatus::Offline => offline += 1,
                ChatStatus::Claimed => claimed += 1,
                ChatStatus::Ended => panic!("an ended chat is open"),
            }
            assert_eq!(
                c.status == ChatStatus::Claimed,
                !c.serving.is_empty(),
                "chat of {vid} is {:?} served by {:?}",
                c.status,
                c.serving
            );
            for s in &c.serving {
                assert!(
                    self.present(s),
                    "{s} serves {vid}'s chat but is neither online nor within the grace"
                );
            }
        }
        let counts = self.state.counts();
        assert_eq!(counts.unclaimed, unclaimed, "unclaimed count");
        assert_eq!(counts.offline, offline, "offline count");
        assert_eq!(counts.claimed, claimed, "claimed count");
        assert_eq!(self.queue.len(), unclaimed);
        assert_eq!(self.offline.len(), offline);
        let q: HashSet<&String> = self.queue.iter().collect();
        assert_eq!(q.len(), self.queue.len(), "a chat queued twice");
        // Every waiting visitor who is connected knows their place: 1..n, each once.
        for (i, v) in self.queue.iter().enumerate() {
            let p = (0..PEOPLE).find(|p| pid(*p) == v).expect("known visitor");
            if self.current.contains_key(&p) {
                assert_eq!(
                    self.told_position.get(v),
                    Some(&(i + 1)),
                    "{v} waits at {} but was told {:?}",
                    i + 1,
                    self.told_position.get(v)
                );
            }
        }
        for seqs in self.seqs.values() {
            let want: Vec<i64> = (1..=seqs.len() as i64).collect();
            assert_eq!(seqs, &want, "sequence numbers with a gap");
        }
    }
}
