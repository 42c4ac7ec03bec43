// Stand-in for the ESP32 WiFi library: always connected (the host's network is the link).
#pragma once

#include <cstdint>

#define WIFI_STA 1
#define WL_CONNECTED 3

struct WiFiClass {
  void mode(int) {}
  void begin(const char*, const char*) {}
  int status() { return WL_CONNECTED; }
  int8_t RSSI() { return -58; }
};
inline WiFiClass WiFi;
