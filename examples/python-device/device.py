#!/usr/bin/env python3
"""A Fleetwire device in Python, written the way IoT tutorials write one.

It connects with websocket-client and a device token minted by the fleetwire CLI, sends
seed-style telemetry ({"device_id": ..., "type": "temperature_update", "value": ..., "timestamp": ...}),
reports its status, answers commands, and reconnects with exponential backoff and full jitter.
Every message it sends carries an id, so it knows what the server stored: what was not acked when
the connection dropped is sent again (same id, same timestamp) after it reconnects.

    python device.py --url ws://127.0.0.1:8080/ws --token "$TOKEN"

It prints one JSON object per line (connected, command, done, ...): easy to read, easy to pipe into jq.
"""

import argparse
import base64
import json
import math
import random
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import websocket  # pip install websocket-client

# Close codes after which reconnecting as-is cannot help (docs/protocol.md, "Close codes").
GIVE_UP = {
    4001: "token expired: mint a new token",
    4002: "replaced by a newer connection with the same device id",
    4003: "the tenant has its maximum of devices: an operator must forget some or raise the limit",
}
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0


def log(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def token_subject(token):
    """The device id is the token's `sub`: read it from the JWT payload (no need to verify here)."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["sub"]


def iso_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Device:
    def __init__(self, url, token, count, interval):
        self.url = url
        self.token = token
        self.device_id = token_subject(token)
        self.count = count  # 0: for ever
        self.interval = interval
        self.boot = uuid.uuid4().hex[:8]  # ids unique across reboots, not a counter from 1
        self.lock = threading.Lock()
        self.unacked = {}  # id -> frame, in send order
        self.sent = 0
        self.acked = 0
        self.commands = 0
        self.app = None
        self.connected = threading.Event()
        self.finished = threading.Event()
        self.close_code = None

    # ---- what the device sends ----------------------------------------------------------------

    def measure(self):
        """The temperature sensor (a made-up one)."""
        return round(21.0 + 2.5 * math.sin(time.time() / 60) + random.uniform(-0.2, 0.2), 2)

    def reading(self):
        """One seed-style telemetry message; the id makes the server ack it."""
        self.sent += 1
        return {
            "device_id": self.device_id,
            "type": "temperature_update",
            "value": self.measure(),
            "timestamp": iso_now(),
            "id": f"{self.boot}-{self.sent}",
        }

    def send(self, message):
        try:
            self.app.send(json.dumps(message))
        except websocket.WebSocketException:
            pass  # the connection is going away: unacked messages are resent after reconnecting

    def sender(self):
        """Sends a reading every interval while connected, until `count` were sent and acked."""
        while not self.finished.is_set():
            self.connected.wait()
            with self.lock:
                more = self.count == 0 or self.sent < self.count
                message = self.reading() if more else None
                if message:
                    self.unacked[message["id"]] = message
                done = not more and not self.unacked
            if done:
                self.finish()
                return
            if message:
                self.send(message)
            time.sleep(self.interval)

    def finish(self):
        self.finished.set()
        log("done", device=self.device_id, sent=self.sent, acked=self.acked, commands=self.commands)
        if self.app:
            self.app.close()

    # ---- what the device receives -------------------------------------------------------------

    def on_message(self, _app, raw):
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "welcome":
            log("connected", device=message["sub"], node=message["node"])
            self.send({"device_id": self.device_id, "type": "status", "status": "online", "firmware": "1.0.0"})
            with self.lock:
                resend = list(self.unacked.values())
            for frame in resend:
                self.send(frame)
            self.connected.set()
        elif kind == "ack":
            with self.lock:
                if self.unacked.pop(message.get("id"), None) is not None:
                    self.acked += 1
        elif kind == "nack":
            # `retry`: the server could not store it now; it stays unacked and is sent again.
            frame = self.unacked.get(message.get("id"))
            if frame and message.get("reason") == "retry":
                threading.Timer(1.0, self.send, args=(frame,)).start()
        elif kind == "command":
            self.on_command(message)
        elif kind == "error":
            log("error", code=message.get("code"), message=message.get("message"))

    def on_command(self, command):
        self.commands += 1
        name, params = command.get("name"), command.get("params") or {}
        log("command", id=command["id"], name=name, params=params)
        if name == "set_interval" and isinstance(params.get("seconds"), (int, float)) and params["seconds"] > 0:
            self.interval = float(params["seconds"])
            answer = {"type": "ack", "result": {"interval": self.interval}}
        elif name == "read_now":
            answer = {"type": "ack", "result": {"value": self.measure()}}
        else:
            answer = {"type": "nack", "reason": "unsupported", "message": f"no command {name!r} here"}
        # The command's id names what is answered; {"type": "ack"} alone would answer the oldest
        # pending command, which is the same one for a device that answers in order.
        self.send({"device_id": self.device_id, "id": command["id"], **answer})

    def on_close(self, _app, code, reason):
        self.connected.clear()
        self.close_code = code
        if not self.finished.is_set():
            log("disconnected", code=code, reason=reason)

    # ---- the connection, again and again ------------------------------------------------------

    def run(self):
        threading.Thread(target=self.sender, daemon=True).start()
        failures = 0
        while not self.finished.is_set():
            self.close_code = None
            self.app = websocket.WebSocketApp(
                self.url,
                header=[f"Authorization: Bearer {self.token}"],
                subprotocols=["fleetwire.v1"],
                on_message=self.on_message,
                on_close=self.on_close,
            )
            started = time.monotonic()
            self.app.run_forever()  # returns when the connection ends (or never opened)
            self.connected.clear()
            if self.finished.is_set():
                return 0
            if self.close_code in GIVE_UP:
                log("stopped", code=self.close_code, reason=GIVE_UP[self.close_code])
                return 1
            # A connection that lasted resets the backoff; quick failures grow it.
            failures = 0 if time.monotonic() - started > 10 else failures + 1
            delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** failures))
            log("reconnecting", after_s=round(delay, 2))
            time.sleep(delay)
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    parser.add_argument("--token", required=True, help="a device token: fleetwire token --role device --sub <id>")
    parser.add_argument("--count", type=int, default=0, help="readings to send, then exit once all are acked (0: run for ever)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between readings")
    args = parser.parse_args()
    device = Device(args.url, args.token, args.count, args.interval)
    try:
        sys.exit(device.run())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
