// A small web app on POSIX sockets: build with CMake, then run build/server (port 8080).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "greeting.h"

constexpr int kPort = 8080;

int main() {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  const int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(kPort);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 16) != 0) {
    std::perror("cannot listen on port 8080");
    return 1;
  }
  std::printf("Serving on port %d: open it from the Ports panel\n", kPort);
  std::fflush(stdout);
  for (;;) {
    const int client = accept(listener, nullptr, nullptr);
    if (client < 0) continue;
    char request[2048];
    const ssize_t got = read(client, request, sizeof request - 1);
    const std::string line(request, got > 0 ? static_cast<size_t>(got) : 0);
    const bool api = line.rfind("GET /api/hello ", 0) == 0;
    const std::string body =
        api ? "{\"message\":\"" + greeting("API") + "\"}"
            : "<!doctype html><title>C++ starter</title><h1>" + greeting("world") + "</h1>";
    const std::string response = std::string("HTTP/1.1 200 OK\r\nContent-Type: ") +
                                 (api ? "application/json" : "text/html; charset=utf-8") +
                                 "\r\nContent-Length: " + std::to_string(body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body;
    write(client, response.data(), response.size());
    close(client);
  }
}
