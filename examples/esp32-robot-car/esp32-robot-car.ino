// A two-motor robot car on an ESP32, driven from the Fleetwire dashboard.
//
// The dashboard's drive buttons send the commands forward, left, stop, right and back (optional
// params: {"speed": 0..100}, percent of full power). The car answers each with an ack carrying
// its new motion, or a nack "unsupported"; it reports its state as seed-style telemetry every
// two seconds, and stops its motors the moment the connection drops.
//
// Libraries (Arduino Library Manager): "WebSockets" by Markus Sattler (arduinoWebSockets) and
// ArduinoJson 7. Board: any ESP32 (Arduino core 2.x or 3.x). Motor driver: an L298N or TB6612
// (one PWM and two direction pins per motor).

#include <Arduino.h>
#include <ArduinoJson.h>
#include <WebSocketsClient.h>
#include <WiFi.h>

// ---- settings: fill these in (or pass them as -D build flags) ---------------------------------
#ifndef WIFI_SSID
#define WIFI_SSID "my-ssid"
#endif
#ifndef WIFI_PASSWORD
#define WIFI_PASSWORD "my-password"
#endif
#ifndef FLEETWIRE_HOST
#define FLEETWIRE_HOST "192.168.1.20"  // the machine running `npm start`
#endif
#ifndef FLEETWIRE_PORT
#define FLEETWIRE_PORT 8080
#endif
// The car's device id and its token: npm run -s fleetwire -- token --role device --sub car-1 --ttl 30d
#ifndef DEVICE_ID
#define DEVICE_ID "car-1"
#endif
#ifndef DEVICE_TOKEN
#define DEVICE_TOKEN "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."
#endif
#ifndef TELEMETRY_INTERVAL_MS
#define TELEMETRY_INTERVAL_MS 2000
#endif

// ---- the motors ----------------------------------------------------------------------------------
const uint8_t LEFT_PWM = 14, LEFT_IN1 = 27, LEFT_IN2 = 26;
const uint8_t RIGHT_PWM = 32, RIGHT_IN1 = 25, RIGHT_IN2 = 33;
const uint8_t BATTERY_PIN = 35;  // a 2S pack through a 1:3 divider: 8.4 V full reads 2.8 V
const int DEFAULT_SPEED = 70;    // percent

const char* motion = "stop";
int speedPercent = 0;

// direction: 1 forward, -1 backward, 0 stopped.
void drive(uint8_t pwm, uint8_t in1, uint8_t in2, int direction, int percent) {
  digitalWrite(in1, direction > 0 ? HIGH : LOW);
  digitalWrite(in2, direction < 0 ? HIGH : LOW);
  analogWrite(pwm, direction == 0 ? 0 : percent * 255 / 100);
}

// Sets both motors for a drive command; false when the name is not one.
bool move(const char* name, int percent) {
  int left, right;
  if (strcmp(name, "forward") == 0) left = 1, right = 1;
  else if (strcmp(name, "back") == 0) left = -1, right = -1;
  else if (strcmp(name, "left") == 0) left = -1, right = 1;  // spin on the spot
  else if (strcmp(name, "right") == 0) left = 1, right = -1;
  else if (strcmp(name, "stop") == 0) left = 0, right = 0;
  else return false;
  drive(LEFT_PWM, LEFT_IN1, LEFT_IN2, left, percent);
  drive(RIGHT_PWM, RIGHT_IN1, RIGHT_IN2, right, percent);
  motion = left == 0 && right == 0 ? "stop" : name;
  speedPercent = left == 0 && right == 0 ? 0 : percent;
  return true;
}

float batteryVolts() {
  return analogRead(BATTERY_PIN) * 3.3f / 4095.0f * 3.0f;
}

// ---- the connection ------------------------------------------------------------------------------
WebSocketsClient ws;

void sendJson(const JsonDocument& doc) {
  char frame[256];
  size_t length = serializeJson(doc, frame, sizeof frame);
  ws.sendTXT(frame, length);
}

// {"type":"command","id":"c-17","from":"dashboard","name":"forward","params":{"speed":50}}
void onCommand(JsonDocument& command) {
  const char* name = command["name"] | "";
  int percent = command["params"]["speed"] | DEFAULT_SPEED;
  percent = constrain(percent, 0, 100);
  JsonDocument answer;  // built with ArduinoJson: the id may need escaping
  answer["id"] = command["id"];
  if (move(name, percent)) {
    answer["type"] = "ack";
    answer["result"]["motion"] = motion;
    answer["result"]["speed"] = speedPercent;
  } else {
    answer["type"] = "nack";
    answer["reason"] = "unsupported";
    char why[96];
    snprintf(why, sizeof why, "no command %s", name);
    answer["message"] = why;
  }
  sendJson(answer);
}

void onEvent(WStype_t type, uint8_t* payload, size_t length) {
  switch (type) {
    case WStype_CONNECTED: {
      Serial.println("connected");
      ws.setReconnectInterval(2000 + random(0, 3000));  // jittered: a fleet does not come back at once
      JsonDocument status;
      status["device_id"] = DEVICE_ID;
      status["type"] = "status";
      status["status"] = "online";
      status["firmware"] = "1.0.0";
      sendJson(status);
      break;
    }
    case WStype_DISCONNECTED:
      // Nobody can steer the car now: it stops.
      move("stop", 0);
      Serial.println("disconnected");
      break;
    case WStype_TEXT: {
      JsonDocument message;
      if (deserializeJson(message, payload, length)) return;  // not JSON: ignored
      if (message["type"] == "command") onCommand(message);
      else if (message["type"] == "error") Serial.printf("error: %s\n", (const char*)(message["message"] | ""));
      break;
    }
    default:
      break;
  }
}

void setup() {
  Serial.begin(115200);
  for (uint8_t pin : {LEFT_IN1, LEFT_IN2, RIGHT_IN1, RIGHT_IN2, LEFT_PWM, RIGHT_PWM}) pinMode(pin, OUTPUT);
  move("stop", 0);

  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  while (WiFi.status() != WL_CONNECTED) delay(200);

  // The token in the Authorization header: it stays out of proxy and access logs.
  ws.setExtraHeaders("Authorization: Bearer " DEVICE_TOKEN);
  // Offer fleetwire.v1 instead of the library's default subprotocol "arduino".
  ws.begin(FLEETWIRE_HOST, FLEETWIRE_PORT, "/ws", "fleetwire.v1");  // beginSslWithCA(...) for wss
  ws.onEvent(onEvent);
  ws.setReconnectInterval(2000 + random(0, 3000));
  ws.enableHeartbeat(15000, 3000, 2);  // notices a dead link in ~21 s, even while idle
}

unsigned long lastReport = 0;

void loop() {
  ws.loop();
  if (ws.isConnected() && millis() - lastReport >= TELEMETRY_INTERVAL_MS) {
    lastReport = millis();
    // Seed-style telemetry: the whole object is the reading, on devices/<id>/telemetry.
    JsonDocument state;
    state["device_id"] = DEVICE_ID;
    state["type"] = "car_state";
    state["motion"] = motion;
    state["speed"] = speedPercent;
    state["battery_v"] = round(batteryVolts() * 100) / 100.0;
    state["rssi"] = WiFi.RSSI();
    state["uptime_s"] = millis() / 1000;
    sendJson(state);
  }
}
