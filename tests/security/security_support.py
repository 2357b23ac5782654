"""Security helpers: distinctive secret values, a scanner that also looks inside base64 payloads,
and loopback servers for the foreign-``Location`` cases (a rewriting proxy and a trap that records
every request it gets)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

WS = "4e1a7c93-2d5b-4f8e-9a6c-0b3d5f7e9a21"
TOKEN_ENV = "DFG_SEC_TOKEN"
TOKEN = "sec-token-Zq8VwX3pRt"
SECRET_ENV = "DFG_SEC_SERVER"
SECRET = "s3cr3t-srv-Kp7Lm2Qx.example.net"
SECRETS = (TOKEN, SECRET)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def overlay(api: str) -> str:
    return (
        f"workspace_id: {WS}\napi: {api}\nauth:\n  method: token\n  token_env: {TOKEN_ENV}\n"
        f"parameters:\n  ServerName: ${{env:{SECRET_ENV}}}\n"
    )


def leaks(text: str) -> list[str]:
    """Which secrets ``text`` shows, in clear or inside any base64 run it contains."""
    found = [s for s in SECRETS if s in text]
    for run_ in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(run_ + "=" * (-len(run_) % 4)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            continue
        found += [s for s in SECRETS if s in decoded]
    return sorted(set(found))


def scan_tree(root: Path, *, skip: Iterable[str] = ()) -> dict[str, list[str]]:
    """File → secrets it holds, for every file under ``root`` (git objects excluded)."""
    hits: dict[str, list[str]] = {}
    skipped = tuple(skip)
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel.startswith((".git/objects", *skipped)):
            continue
        found = leaks(path.read_bytes().decode("utf-8", "replace"))
        if found:
            hits[rel] = found
    return hits


class _Server:
    """A ThreadingHTTPServer on loopback, for the duration of a ``with`` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        self._server = ThreadingHTTPServer((host, 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class Trap(_Server):
    """Answers 401 to everything and remembers each request's path and Authorization header."""

    def __init__(self) -> None:
        seen: list[dict[str, str | None]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                body = json.dumps({"errorCode": "Trap", "message": "foreign host"}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(Handler)


class RewritingProxy(_Server):
    """Forwards to ``upstream`` and may rewrite each response: ``location`` maps the ``Location``
    header (default: upstream's origin → the proxy's, so LROs come back through it), ``body``
    maps a JSON body (request path, document → document)."""

    def __init__(
        self,
        upstream: str,
        location: Callable[[str], str] | None = None,
        body: Callable[[str, Any], Any] | None = None,
    ) -> None:
        client = httpx.Client(base_url=upstream, timeout=30)
        self._client = client
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sent = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                reply = client.request(self.command, self.path, content=sent, headers=headers)
                content = reply.content
                if body is not None and content and "json" in reply.headers.get("content-type", ""):
                    content = json.dumps(body(self.path, reply.json())).encode("utf-8")
                self.send_response(reply.status_code)
                for key, value in reply.headers.items():
                    if key.lower() in _HOP:
                        continue
                    if key.lower() == "location":
                        value = location(value) if location else value.replace(upstream, proxy.url)
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self._client.close()


_HOP = ("host", "content-length", "transfer-encoding", "connection", "content-encoding")
