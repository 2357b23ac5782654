"""Reliability helpers: the emulator seen through plain httpx (independent of our client), ``dfg``
in-process, a fake clock, and the invariants every fault case must keep after a clean re-run."""

from __future__ import annotations

import base64
import json
from collections import Counter
from types import TracebackType
from typing import Any

import httpx
from emulator_project import Cli

from dataflow_gitops import api

WS = "7d3b9e21-4c6a-4f8d-a2b5-1e9c7f3d5a60"
TOKEN_ENV = "DFG_RELIABILITY_TOKEN"
TOKEN = "reliability-token-7f3a9c"
WRITES = {"POST", "PATCH", "DELETE", "PUT"}


class Probe:
    """Control plane and a read-only view of live state, over plain HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(
            base_url=url, headers={"Authorization": "Bearer probe-token"}, timeout=30
        )

    def __enter__(self) -> Probe:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.close()

    def control(self, method: str, action: str, body: Any = None) -> Any:
        response = self._http.request(method, f"/_emulator/{action}", json=body)
        response.raise_for_status()
        return response.json()

    def fault(self, **rule: Any) -> None:
        self.control("POST", "faults", rule)

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "requests")["value"]
        return entries

    def writes(self) -> list[str]:
        return [
            f"{e['method']} {e['path']}"
            for e in self.requests()
            if e["method"] in WRITES and not e["path"].endswith("/getDefinition")
        ]

    def dataflows(self, ws: str = WS) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {"type": "Dataflow"}
        while True:
            body = self._http.get(f"/v1/workspaces/{ws}/items", params=params).json()
            items.extend(body["value"])
            token = body.get("continuationToken")
            if not token:
                return items
            params = {"type": "Dataflow", "continuationToken": token}

    def definition(self, item_id: str, ws: str = WS) -> dict[str, bytes]:
        response = self._http.post(f"/v1/workspaces/{ws}/items/{item_id}/getDefinition")
        while response.status_code == 202 or (
            "Location" in response.headers and response.json().get("status") != "Failed"
        ):
            response = self._http.get(response.headers["Location"])
        parts = response.json()["definition"]["parts"]
        return {p["path"]: base64.b64decode(p["payload"]) for p in parts}


def assert_clean(code: int, out: str, err: str) -> None:
    """Exit 0 or 1 with readable output: never a traceback, never the bug exit code."""
    assert code in (0, 1), (code, out, err)
    for stream in (out, err):
        assert "Traceback" not in stream
        assert "unexpected internal error" not in stream
    if code == 1:
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, err


def assert_converged(dfg: Cli, probe: Probe, *, keep: frozenset[str] | set[str] = frozenset()) -> None:
    """After a clean re-run: no changes planned, names unique, nothing unintended deleted, and
    every live definition equal to the rendered desired one."""
    code, out, err = dfg("apply", "-e", "rel", "--auto-approve")
    assert code == 0, (out, err)
    code, out, err = dfg("plan", "-e", "rel", "--detailed-exitcode")
    assert code == 0, (out, err)
    live = probe.dataflows()
    names = Counter(item["displayName"] for item in live)
    duplicates = sorted(name for name, n in names.items() if n > 1)
    assert not duplicates
    desired = {d.display_name: d for d in api.render(dfg.root, "rel")}
    assert set(names) == set(desired) | set(keep)
    by_name = {item["displayName"]: item["id"] for item in live}
    for name, dataflow in desired.items():
        parts = probe.definition(by_name[name])
        for part in dataflow.parts:
            if part.path == ".platform":
                continue
            if part.path.endswith(".json"):
                assert json.loads(parts[part.path]) == json.loads(part.data), (name, part.path)
            else:
                assert parts[part.path] == part.data, (name, part.path)
