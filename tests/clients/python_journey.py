"""The seed's core journey through a stock python-socketio client with its default transports
(HTTP long-polling, then the WebSocket upgrade), the token in the Authorization header.

Usage: python_journey.py BASE_URL AGENT_TOKEN SUPERVISOR_TOKEN ADMIN_TOKEN
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import json
import queue
import sys
import time
import urllib.request

import socketio

BASE, AGENT, SUP, ADMIN = sys.argv[1:5]
WAIT = 10
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


class Party:
    def __init__(self, name, token):
        self.name = name
        self.events = queue.Queue()
        self.sio = socketio.Client(reconnection=False)

        @self.sio.on("*")
        def any_event(event, data=None):
            self.events.put((event, data))

        self.sio.connect(BASE, headers={"Authorization": token}, wait_timeout=WAIT)

    def emit(self, event, data=None):
        # call() waits for the ack; the server acks with two arguments.
        return tuple(self.sio.call(event, data, timeout=WAIT)) if data is not None else tuple(
            self.sio.call(event, timeout=WAIT)
        )

    def next(self, event):
        deadline = time.time() + WAIT
        kept = []
        try:
            while time.time() < deadline:
                try:
                    name, data = self.events.get(timeout=max(0.05, deadline - time.time()))
                except queue.Empty:
                    break
                if name == event:
                    return data
                kept.append((name, data))
        finally:
            for k in kept:
                self.events.put(k)
        raise AssertionError(f"{self.name}: no {event}")


def new_visitor(name):
    req = urllib.request.Request(
        BASE + "/api/v1/visitors",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req) as r:
        body = json.load(r)
    return body["visitor"]["id"], body["access_token"]


def main():
    agent = Party("agent", AGENT)
    sup = Party("supervisor", SUP)
    admin = Party("admin", ADMIN)
    check("staff_init on connect", "online_users" in agent.next("staff_init"))
    sup.next("staff_init")
    admin.next("staff_init")
    check("upgraded to websocket", agent.sio.transport() == "websocket", agent.sio.transport())

    vid, vtoken = new_visitor("Python Visitor")
    visitor = Party("visitor", vtoken)
    init = visitor.next("visitor_init")
    check("visitor_init", init["staff"] is None and init["contents"] == [], init)

    # json.dumps puts spaces after separators: the stored content must keep them.
    content = {"content": "Hello from Python", "timestamp": 1}
    check("visitor_first_msg acked (True, None)", visitor.emit("visitor_first_msg", content) == (True, None))
    app = agent.next("append_unclaimed_chats")
    check("append_unclaimed_chats", app["visitor"]["id"] == vid and app["contents"][0]["content"] == content, app)
    check("queue_position", visitor.next("queue_position")["position"] == 1)

    check("staff_join", agent.emit("staff_join", {"visitor": vid}) == (True, None))
    check("staff_join_room", visitor.next("staff_join_room")["staff"]["email"] == "agent@shop.test")
    check("staff_claim_chat to others", sup.next("staff_claim_chat")["visitor"]["id"] == vid)
    check("agent_new_chat", len(sup.next("agent_new_chat")["contents"]) == 2)
    check(
        "a second claim loses",
        sup.emit("staff_join", {"visitor": vid}) == (False, "This chat has already been claimed."),
    )

    check("visitor_msg", visitor.emit("visitor_msg", {"content": "Are you there?"}) == (True, None))
    check("visitor_send", agent.next("visitor_send")["content"]["content"]["content"] == "Are you there?")
    check("new_visitor_msg_for_supervisor", sup.next("new_visitor_msg_for_supervisor")["visitor"]["id"] == vid)
    check("staff_msg", agent.emit("staff_msg", {"visitor": vid, "content": {"content": "Yes!"}}) == (True, None))
    sent = visitor.next("staff_send")
    check("staff_send", sent["content"]["content"]["content"] == "Yes!" and sent["content"]["sequence_num"] == 4, sent)
    check("new_staff_msg_for_supervisor", sup.next("new_staff_msg_for_supervisor")["staff"]["email"] == "agent@shop.test")

    check("typing (visitor)", visitor.emit("user_typing_send", {"visitor": vid}) == (True, None))
    check("user_typing_receive (agent)", agent.next("user_typing_receive")["visitor"]["id"] == vid)
    check("typing (agent)", agent.emit("user_typing_send", {"visitor": vid}) == (True, None))
    check("user_typing_receive (visitor)", visitor.next("user_typing_receive")["staff"] is not None)
    check("stop typing", agent.emit("user_stop_typing_send", {"visitor": vid}) == (True, None))
    visitor.next("user_stop_typing_receive")

    check("take_over_chat", sup.emit("take_over_chat", {"visitor": vid}) == (True, None))
    check("staff_being_taken_over_chat (agent)", agent.next("staff_being_taken_over_chat")["staff"]["email"] == "sup@shop.test")
    visitor.next("staff_being_taken_over_chat")
    check("staff_take_over_chat (admin)", admin.next("staff_take_over_chat")["visitor"]["id"] == vid)
    check(
        "the agent is out",
        agent.emit("staff_msg", {"visitor": vid, "content": {"content": "x"}}) == (False, "You are not serving this chat."),
    )
    check("bad input keeps the connection", agent.emit("staff_join", {"visitor": 5}) == (False, "Missing/Invalid field: visitor"))

    check("visitor_leave_room", visitor.emit("visitor_leave_room") == (True, None))
    check("visitor_leave_queue", agent.next("visitor_leave_queue")["user"]["id"] == vid)
    check("visitor_leave_chat_for_supervisor", sup.next("visitor_leave_chat_for_supervisor")["visitor"]["id"] == vid)

    for p in (visitor, agent, sup, admin):
        p.sio.disconnect()

    # A bad token in the header is refused at the handshake.
    bad = socketio.Client(reconnection=False)
    try:
        bad.connect(BASE, headers={"Authorization": "f" * 64}, wait_timeout=WAIT)
        check("bad token refused", False, "connected")
    except socketio.exceptions.ConnectionError as e:
        check("bad token refused", True, str(e))


try:
    main()
except Exception as e:  # a crash is a failure, reported like the others
    failed += 1
    print(f"FAIL journey aborted: {e!r}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
