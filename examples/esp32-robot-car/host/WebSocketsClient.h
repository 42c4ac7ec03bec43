// Stand-in for arduinoWebSockets' WebSocketsClient (same signatures as the library's), bridged
// over stdio to a real WebSocket held by the test (see ../sketch.test.ts):
//   stdout  BEGIN {"host":…,"port":…,"url":…,"protocol":…,"headers":…}   open a connection
//           TEXT <frame>                                                  send a text frame
//   stdin   CONNECTED | DISCONNECTED | TEXT <frame>                        what the socket did
// Like the library, it tries again every reconnect interval after a disconnect. End of stdin
// ends the program.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "Arduino.h"

typedef enum {
  WStype_ERROR,
  WStype_DISCONNECTED,
  WStype_CONNECTED,
  WStype_TEXT,
  WStype_BIN,
  WStype_FRAGMENT_TEXT_START,
  WStype_FRAGMENT_BIN_START,
  WStype_FRAGMENT,
  WStype_FRAGMENT_FIN,
  WStype_PING,
  WStype_PONG,
} WStype_t;

class WebSocketsClient {
 public:
  typedef std::function<void(WStype_t type, uint8_t* payload, size_t length)> WebSocketClientEvent;

  void begin(const char* host, uint16_t port, const char* url = "/", const char* protocol = "arduino") {
    host_ = host;
    port_ = port;
    url_ = url;
    protocol_ = protocol;
    open();
  }
  void setExtraHeaders(const char* extraHeaders = nullptr) { headers_ = extraHeaders ? extraHeaders : ""; }
  void onEvent(WebSocketClientEvent cbEvent) { event_ = cbEvent; }
  void setReconnectInterval(unsigned long time) { reconnectMs_ = time; }
  void enableHeartbeat(uint32_t, uint32_t, uint8_t) {}
  bool isConnected() { return connected_; }

  bool sendTXT(const char* payload, size_t length = 0) {
    if (!connected_) return false;
    if (length == 0) length = std::strlen(payload);
    std::printf("TEXT %.*s\n", static_cast<int>(length), payload);
    return true;
  }
  bool sendTXT(uint8_t* payload, size_t length = 0, bool = false) {
    return sendTXT(reinterpret_cast<const char*>(payload), length);
  }

  void loop() {
    std::fflush(stdout);
    if (!connected_ && !opening_ && millis() - closedAt_ >= reconnectMs_) open();
    pollfd in{0, POLLIN, 0};
    while (poll(&in, 1, 0) > 0) {
      char chunk[4096];
      ssize_t n = read(0, chunk, sizeof chunk);
      if (n <= 0) std::exit(0);
      buffer_.append(chunk, static_cast<size_t>(n));
      for (size_t end; (end = buffer_.find('\n')) != std::string::npos;) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        handle(line);
      }
    }
  }

 private:
  void open() {
    opening_ = true;
    std::printf("BEGIN {\"host\":\"%s\",\"port\":%u,\"url\":\"%s\",\"protocol\":\"%s\",\"headers\":\"%s\"}\n",
                host_.c_str(), port_, url_.c_str(), protocol_.c_str(), headers_.c_str());
    std::fflush(stdout);
  }

  void handle(std::string& line) {
    if (line == "CONNECTED") {
      opening_ = false;
      connected_ = true;
      emit(WStype_CONNECTED, nullptr, 0);
    } else if (line == "DISCONNECTED") {
      bool was = connected_;
      opening_ = false;
      connected_ = false;
      closedAt_ = millis();
      if (was) emit(WStype_DISCONNECTED, nullptr, 0);
    } else if (line.rfind("TEXT ", 0) == 0) {
      emit(WStype_TEXT, reinterpret_cast<uint8_t*>(&line[5]), line.size() - 5);
    }
  }

  void emit(WStype_t type, uint8_t* payload, size_t length) {
    if (event_) event_(type, payload, length);
    std::fflush(stdout);
  }

  std::string host_, url_, protocol_, headers_, buffer_;
  uint16_t port_ = 0;
  WebSocketClientEvent event_;
  unsigned long reconnectMs_ = 500;
  unsigned long closedAt_ = 0;
  bool connected_ = false;
  bool opening_ = false;
};
