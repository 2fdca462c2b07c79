#include <cstdio>

#include "greeting.h"

int main() {
  const std::string got = greeting("Ada");
  if (got.rfind("Hello, Ada, from C++", 0) != 0) {
    std::fprintf(stderr, "greeting(\"Ada\") = %s\n", got.c_str());
    return 1;
  }
  return 0;
}
