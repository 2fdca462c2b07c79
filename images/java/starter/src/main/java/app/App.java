package app;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** A small web app on the JDK's own HTTP server, on port 8080. */
public final class App {
  static final int PORT = 8080;

  /** The text the page shows. */
  public static String greeting(String name) {
    return "Hello, " + name + ", from Java " + Runtime.version().feature() + "!";
  }

  public static void main(String[] args) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(PORT), 0);
    server.createContext("/", exchange -> {
      boolean api = exchange.getRequestURI().getPath().equals("/api/hello");
      String body = api
          ? "{\"message\":\"" + greeting("API") + "\"}"
          : "<!doctype html><title>Java starter</title><h1>" + greeting("world") + "</h1>";
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", api ? "application/json" : "text/html; charset=utf-8");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    server.start();
    System.out.println("Serving on port " + PORT + ": open it from the Ports panel");
  }
}
