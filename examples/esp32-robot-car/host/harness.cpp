// Builds the sketch unchanged for the host, against the stand-in headers of this folder and the
// real ArduinoJson (vendor/), and runs it as the Arduino core would: setup() once, then loop().
#include <unistd.h>

#include "../esp32-robot-car.ino"

int main() {
  setup();
  for (;;) {
    loop();
    usleep(1000);  // the board's loop spins; the host's need not burn a core
  }
}
