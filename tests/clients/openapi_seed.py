"""Real data for the OpenAPI suite (.ci/suites/openapi.sh): a visitor writes over /ws, the
agent claims the chat and answers, a second visitor waits in the queue. Prints
"<chat_id> <visitor_id>" of the first chat. Every wait is bounded."""
import json
import sys
import time
import urllib.request

import websocket  # websocket-client

BASE, AGENT = sys.argv[1], sys.argv[2]
WS = BASE.replace("http://", "ws://", 1) + "/ws"


def new_visitor(name):
    req = urllib.request.Request(
        BASE + "/api/v1/visitors",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.load(r)
    return body["visitor"]["id"], body["access_token"]


class Conn:
    def __init__(self, token):
        self.ws = websocket.create_connection(WS, header=[f"Authorization: {token}"], timeout=10)
        self.next_id = 0

    def wait(self, pred, what):
        deadline = time.time() + 10
        while time.time() < deadline:
            frame = json.loads(self.ws.recv())
            if pred(frame):
                return frame
        raise SystemExit(f"timed out waiting for {what}")

    def emit(self, event, data):
        self.next_id += 1
        n = self.next_id
        self.ws.send(json.dumps({"event": event, "data": data, "id": n}))
        ack = self.wait(lambda f: f.get("ack") == n, f"the ack of {event}")
        if not ack.get("result"):
            raise SystemExit(f"{event} refused: {ack}")

    def event(self, name):
        return self.wait(lambda f: f.get("event") == name, name)["data"]


agent = Conn(AGENT)
agent.event("staff_init")
vid, vtoken = new_visitor("Vera")
v = Conn(vtoken)
v.event("visitor_init")
v.emit("visitor_msg", {"content": "Where is my parcel?"})
chat = v.event("queue_position")["chat_id"]
agent.emit("staff_join", {"visitor": vid})
agent.emit("staff_msg", {"visitor": vid, "content": {"content": "It ships today."}})
_, wtoken = new_visitor("Walt")
w = Conn(wtoken)
w.event("visitor_init")
w.emit("visitor_msg", {"content": "Hello?"})
print(chat, vid)
