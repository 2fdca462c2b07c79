"""A small web app on Python's standard library: run it with `python3 app.py`."""

import json
import platform
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 8000


def greeting(name: str) -> str:
    """The text the page shows."""
    return f"Hello, {name}, from Python {platform.python_version()}!"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/api/hello":
            body = json.dumps({"message": greeting("API")}).encode()
            kind = "application/json"
        else:
            body = f"<!doctype html><title>Python starter</title><h1>{greeting('world')}</h1>".encode()
            kind = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    print(f"Serving on port {PORT}: open it from the Ports panel", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
