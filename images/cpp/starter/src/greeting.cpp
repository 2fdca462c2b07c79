#include "greeting.h"

std::string greeting(const std::string& name) {
  return "Hello, " + name + ", from C++" + std::to_string(__cplusplus / 100 % 100) + "!";
}
