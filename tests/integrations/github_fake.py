"""A loopback fake of the GitHub endpoints `dfg comment` uses (the four issue-comment ones and
GET /user), in a thread (the `fake_github` fixture is re-exported by conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from loopback_http import JsonHandler, serving

TOKEN = "ghs_fake-secret-token-0123456789"

_LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


@dataclass
class FakeGitHub:
    url: str = ""
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, Authorization header) of every request."""
    page_size: int = 30
    fail_next: list[int] = field(default_factory=list)
    """Statuses to answer the next requests with, in order (then normal service)."""
    next_id: int = 1000
    link_base: str | None = None
    """Base URL of the `Link: rel="next"` pages (default: this server)."""
    login: str | None = "dfg-deployer"
    """Whom TOKEN belongs to (GET /user; the author of what it posts). None: an app installation
    token such as a workflow's GITHUB_TOKEN, for which GitHub refuses /user and whose comments
    github-actions[bot] writes."""

    @property
    def author(self) -> str:
        return self.login or "github-actions[bot]"

    def add(self, repo: str, number: int, body: str, user: str = "someone") -> int:
        self.next_id += 1
        self.comments[self.next_id] = {
            "id": self.next_id,
            "repo": repo,
            "issue": number,
            "body": body,
            "user": {"login": user},
            "html_url": f"https://github.example/{repo}/pull/{number}#issuecomment-{self.next_id}",
        }
        return self.next_id

    def on(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["repo"] == repo and c["issue"] == number]


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            parts = urlsplit(self.path)
            fake.requests.append((method, parts.path, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.answer(401, {"message": "Bad credentials"})
            if fake.fail_next:
                return self.answer(
                    fake.fail_next.pop(0), {"message": "scripted failure"}, {"Retry-After": "7"}
                )
            if parts.path == "/user" and method == "GET":
                if fake.login is None:
                    return self.answer(403, {"message": "Resource not accessible by integration"})
                return self.answer(200, {"login": fake.login, "type": "User"})
            if match := _LIST.match(parts.path):
                repo, number = match.group(1), int(match.group(2))
                if method == "GET":
                    page = int(parse_qs(parts.query).get("page", ["1"])[0])
                    everything = sorted(fake.on(repo, number), key=lambda c: c["id"])
                    size = fake.page_size
                    chunk = everything[(page - 1) * size : page * size]
                    headers = {}
                    if page * size < len(everything):
                        base = fake.link_base or fake.url
                        headers["Link"] = f'<{base}{parts.path}?page={page + 1}>; rel="next"'
                    return self.answer(200, chunk, headers)
                if method == "POST":
                    new = fake.add(repo, number, self.body()["body"], user=fake.author)
                    return self.answer(201, fake.comments[new])
            if match := _ONE.match(parts.path):
                comment = fake.comments.get(int(match.group(2)))
                if comment is None or comment["repo"] != match.group(1):
                    return self.answer(404, {"message": "Not Found"})
                if method == "PATCH":
                    comment["body"] = self.body()["body"]
                    return self.answer(200, comment)
                if method == "DELETE":
                    del fake.comments[comment["id"]]
                    return self.answer(204)
            return self.answer(404, {"message": "Not Found"})

    return Handler


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
