// Stand-in for the Arduino core, for building the sketch on a host (see ../README.md): the few
// calls the sketch makes. Pin writes are reported on stdout as lines the test reads.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <thread>

#define HIGH 1
#define LOW 0
#define INPUT 0
#define OUTPUT 1
#define constrain(amt, low, high) ((amt) < (low) ? (low) : ((amt) > (high) ? (high) : (amt)))

inline unsigned long millis() {
  static const auto start = std::chrono::steady_clock::now();
  return static_cast<unsigned long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - start)
                                        .count());
}

inline void delay(unsigned long ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

inline long random(long low, long high) {
  return high <= low ? low : low + std::rand() % (high - low);
}

inline void pinMode(uint8_t, uint8_t) {}

inline void digitalWrite(uint8_t pin, uint8_t value) {
  std::printf("DIGITAL %u %u\n", pin, value);
}

inline void analogWrite(uint8_t pin, int value) {
  std::printf("PWM %u %d\n", pin, value);
}

// A full 2S pack on the sketch's 1:3 battery divider: 3475 / 4095 * 3.3 V * 3 = 8.4 V.
inline int analogRead(uint8_t) {
  return 3475;
}

// Serial goes to stderr: stdout carries the bridge's lines.
struct HardwareSerial {
  void begin(unsigned long) {}
  void println(const char* text) { std::fprintf(stderr, "%s\n", text); }
  int printf(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list args;
    va_start(args, format);
    int n = std::vfprintf(stderr, format, args);
    va_end(args);
    return n;
  }
};
inline HardwareSerial Serial;
