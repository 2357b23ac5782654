"""A loopback fake of the Azure Repos pull-request thread endpoints (`dfg comment` on Azure)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from loopback_http import JsonHandler, serving

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
    identity: str = "6f1c8a2e-0b7d-4c3e-9a51-build-service"
    """The identity id TOKEN belongs to (connectionData; the author of what it posts)."""

    def add(self, pr: int, content: str, status: str = "active", author: str = "a-reviewer") -> int:
        self.next_id += 1
        self.threads[self.next_id] = {
            "id": self.next_id,
            "pr": pr,
            "status": status,
            "comments": [
                {
                    "id": 1,
                    "content": content,
                    "commentType": "text",
                    "author": {"id": author, "displayName": author},
                }
            ],
        }
        return self.next_id

    def on(self, pr: int) -> list[dict[str, Any]]:
        return [t for t in self.threads.values() if t["pr"] == pr]

    def contents(self, pr: int) -> list[str]:
        return [
            t["comments"][0]["content"] for t in self.on(pr) if not t["comments"][0].get("isDeleted")
        ]


def _handler(fake: FakeAzureRepos) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            parts = urlsplit(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                # What Azure DevOps does with a bad token: a sign-in page, status 203.
                return self.answer(203, "<html>Sign in</html>", content_type="text/html")
            version = parse_qs(parts.query).get("api-version", [None])[0]
            fake.requests.append((method, unquote(parts.path), version))
            if fake.fail_next:
                return self.answer(fake.fail_next.pop(0), {"message": "scripted failure"})
            if parts.path.endswith("/_apis/connectionData") and method == "GET":
                if version is None or not version.endswith("-preview"):
                    return self.answer(400, {"message": "the -preview flag must be supplied"})
                user = {"id": fake.identity, "providerDisplayName": "Project Build Service"}
                return self.answer(200, {"authenticatedUser": user, "authorizedUser": user})
            match = _THREADS.match(parts.path)
            if match is None:
                return self.answer(404, {"message": "no such route"})
            pr = int(match["pr"])
            if match["thread"] is None:
                if method == "GET":
                    value = fake.on(pr)
                    return self.answer(200, {"value": value, "count": len(value)})
                if method == "POST":
                    body = self.body()
                    new = fake.add(
                        pr,
                        body["comments"][0]["content"],
                        body.get("status", "active"),
                        author=fake.identity,
                    )
                    return self.answer(200, fake.threads[new])
            thread = fake.threads.get(int(match["thread"] or 0))
            if thread is None or thread["pr"] != pr:
                return self.answer(404, {"message": "thread not found"})
            comment = thread["comments"][0]
            if method == "PATCH":
                comment["content"] = self.body()["content"]
                return self.answer(200, comment)
            if method == "DELETE":
                comment["isDeleted"] = True
                return self.answer(200)
            return self.answer(405, {"message": "method not allowed"})

    return Handler


@pytest.fixture
def fake_azure() -> Iterator[FakeAzureRepos]:
    fake = FakeAzureRepos()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
