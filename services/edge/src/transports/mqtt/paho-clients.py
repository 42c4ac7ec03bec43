"""Eclipse Paho clients for the edge's MQTT integration test (mqtt.int.test.ts).

Two clients over WebSocket on /mqtt: a device (with a Last Will on its status topic) that answers
every command it receives, and a dashboard subscribed to devices/+/telemetry. What happens is
printed as JSON lines on stdout; the test sends commands on stdin:

  publish    the device publishes telemetry at QoS 0 and at QoS 1 (with id and ts) and prints
             "published" once the QoS 1 PUBACK came back
  exit       both clients DISCONNECT and the script ends

Killed instead (SIGKILL), the sockets end without DISCONNECT and the edge publishes the Will.

usage: paho-clients.py PORT DEVICE_ID DEVICE_TOKEN DASHBOARD_TOKEN PROTOCOL(4|5)
"""

import json
import sys
import threading
import time

import paho.mqtt.client as mqtt

PORT, DEVICE, DEVICE_TOKEN, DASHBOARD_TOKEN, LEVEL = sys.argv[1:6]
PROTOCOL = mqtt.MQTTv5 if LEVEL == "5" else mqtt.MQTTv311
lock = threading.Lock()
subscribed = threading.Event()
subscribed_dashboard = threading.Event()


def emit(event, **fields):
    with lock:
        print(json.dumps({"event": event, **fields}), flush=True)


def client(client_id, token):
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        transport="websockets",
        protocol=PROTOCOL,
    )
    c.ws_set_options(path="/mqtt")
    c.username_pw_set(client_id, token)
    return c


def on_device_connect(c, _userdata, _flags, reason_code, _properties):
    emit("connected", client="device", reason=str(reason_code))
    c.subscribe(f"devices/{DEVICE}/commands/#", qos=1)


def on_device_message(c, _userdata, msg):
    command = json.loads(msg.payload)
    emit("command", topic=msg.topic, payload=command)
    answer = {"id": command["id"], "result": {"handled": command["name"]}}
    c.publish(f"devices/{DEVICE}/answers", json.dumps(answer), qos=1)


def on_dashboard_connect(c, _userdata, _flags, reason_code, _properties):
    emit("connected", client="dashboard", reason=str(reason_code))
    c.subscribe("devices/+/telemetry", qos=1)


def on_dashboard_message(_c, _userdata, msg):
    emit("message", client="dashboard", topic=msg.topic, payload=json.loads(msg.payload))


device = client(DEVICE, DEVICE_TOKEN)
device.will_set(f"devices/{DEVICE}/status", json.dumps({"state": "lost"}), qos=1)
device.on_connect = on_device_connect
device.on_message = on_device_message
device.on_subscribe = lambda *_args: subscribed.set()

dashboard = client("paho-ops", DASHBOARD_TOKEN)
dashboard.on_connect = on_dashboard_connect
dashboard.on_message = on_dashboard_message
dashboard.on_subscribe = lambda *_args: subscribed_dashboard.set()

for c in (device, dashboard):
    c.connect("127.0.0.1", int(PORT), keepalive=30)
    c.loop_start()
if not (subscribed.wait(20) and subscribed_dashboard.wait(20)):
    emit("error", message="no SUBACK within 20 s")
    sys.exit(1)
emit("ready")

for line in sys.stdin:
    command = line.strip()
    if command == "publish":
        now = int(time.time() * 1000)
        device.publish(
            f"devices/{DEVICE}/telemetry",
            json.dumps({"id": "paho-q0", "ts": now, "qos": 0}),
            qos=0,
        ).wait_for_publish(20)
        info = device.publish(
            f"devices/{DEVICE}/telemetry",
            json.dumps({"id": "paho-q1", "ts": now, "qos": 1}),
            qos=1,
        )
        info.wait_for_publish(20)
        emit("published", acked=info.is_published())
    elif command == "exit":
        for c in (device, dashboard):
            c.disconnect()
            c.loop_stop()
        emit("bye")
        break
