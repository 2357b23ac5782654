"""A loopback fake of the Azure Repos pull-request thread endpoints (`dfg comment` on Azure)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

TOKEN = "azdo-fake-access-token-0123456789"
_THREADS = re.compile(
    r"^/(?P<org>[^/]+)/(?P<project>[^/]+)/_apis/git/repositories/(?P<repo>[^/]+)"
    r"/pullRequests/(?P<pr>\d+)/threads(?:/(?P<thread>\d+)/comments/(?P<comment>\d+))?$"
)


@dataclass
class FakeAzureRepos:
    url: str = ""
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, api-version) of every authorised request."""
    fail_next: list[int] = field(default_factory=list)
    next_id: int = 500

    def add(self, pr: int, content: str, status: str = "active") -> int:
        self.next_id += 1
        self.threads[self.next_id] = {
            "id": self.next_id,
            "pr": pr,
            "status": status,
            "comments": [{"id": 1, "content": content, "commentType": "text"}],
        }
        return self.next_id

    def on(self, pr: int) -> list[dict[str, Any]]:
        return [t for t in self.threads.values() if t["pr"] == pr]

    def contents(self, pr: int) -> list[str]:
        return [
            t["comments"][0]["content"] for t in self.on(pr) if not t["comments"][0].get("isDeleted")
        ]


def _handler(fake: FakeAzureRepos) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _answer(
            self, status: int, payload: Any = None, content_type: str = "application/json"
        ) -> None:
            data = (
                b""
                if payload is None
                else (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                # What Azure DevOps does with a bad token: a sign-in page, status 203.
                return self._answer(203, "<html>Sign in</html>", "text/html")
            version = parse_qs(parts.query).get("api-version", [None])[0]
            fake.requests.append((method, unquote(parts.path), version))
            if fake.fail_next:
                return self._answer(fake.fail_next.pop(0), {"message": "scripted failure"})
            match = _THREADS.match(parts.path)
            if match is None:
                return self._answer(404, {"message": "no such route"})
            pr = int(match["pr"])
            if match["thread"] is None:
                if method == "GET":
                    value = fake.on(pr)
                    return self._answer(200, {"value": value, "count": len(value)})
                if method == "POST":
                    body = self._body()
                    new = fake.add(pr, body["comments"][0]["content"], body.get("status", "active"))
                    return self._answer(200, fake.threads[new])
            thread = fake.threads.get(int(match["thread"] or 0))
            if thread is None or thread["pr"] != pr:
                return self._answer(404, {"message": "thread not found"})
            comment = thread["comments"][0]
            if method == "PATCH":
                comment["content"] = self._body()["content"]
                return self._answer(200, comment)
            if method == "DELETE":
                comment["isDeleted"] = True
                return self._answer(200)
            return self._answer(405, {"message": "method not allowed"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@pytest.fixture
def fake_azure() -> Iterator[FakeAzureRepos]:
    fake = FakeAzureRepos()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
