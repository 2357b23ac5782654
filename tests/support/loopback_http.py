"""Test support for small loopback HTTP fakes of third-party APIs (GitHub, Azure Repos): a JSON
request handler base and a threaded server on 127.0.0.1:0 that is shut down and joined on exit;
and a server that trickles its answers (for read deadlines and interrupts)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """Sends every GET/POST/PATCH/DELETE to `route(method)`; `answer` writes a JSON (or text) reply."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def route(self, method: str) -> None:
        raise NotImplementedError

    def answer(
        self,
        status: int,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        if payload is None:
            data = b""
        else:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        loaded: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return loaded

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PATCH(self) -> None:
        self.route("PATCH")

    def do_DELETE(self) -> None:
        self.route("DELETE")


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run `handler` on a loopback port in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class TricklingHandler(JsonHandler):
    """Answers every request with headers at once, then a JSON body one byte per ``interval``
    seconds (``Content-Length`` announced), until the body or ``stop`` ends."""

    interval = 0.1
    stop = threading.Event()

    def route(self, method: str) -> None:
        body = b'{"value": [], "id": "' + b"x" * 10_000 + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for offset in range(len(body)):
            if self.stop.is_set():
                return
            try:
                self.wfile.write(body[offset : offset + 1])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(self.interval)
