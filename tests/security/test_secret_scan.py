"""The bearer token and the ``${env:…}`` secrets never appear in any output (stdout and stderr, with
``-v`` and ``--json-logs``, on success and on failure), plan file, exported file, log, or
deployment record (annotated git tags and files) — in clear or base64-encoded."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from benchmarks.generate import write_dataflow
from emulator_project import Cli, git
from security_support import SECRET, SECRET_ENV, WS, leaks, scan_tree

FLAGS = ([], ["-v"], ["--json-logs"], ["-v", "--json-logs"])


class Outputs:
    def __init__(self, dfg: Cli) -> None:
        self.dfg = dfg
        self.seen: list[tuple[tuple[str, ...], str]] = []

    def __call__(self, *args: str) -> int:
        code, out, err = self.dfg(*args)
        self.seen.append((args, out + err))
        return code

    def leaking(self) -> list[tuple[tuple[str, ...], list[str]]]:
        return [(args, found) for args, text in self.seen if (found := leaks(text))]


def _live_mashups(url: str) -> str:
    headers = {"Authorization": "Bearer probe"}
    with httpx.Client(base_url=f"{url}/v1", headers=headers, timeout=30) as http:
        items = http.get(f"/workspaces/{WS}/items", params={"type": "Dataflow"}).json()["value"]
        texts = []
        for item in items:
            response = http.post(f"/workspaces/{WS}/items/{item['id']}/getDefinition")
            while "Location" in response.headers:
                response = http.get(response.headers["Location"])
            for part in response.json()["definition"]["parts"]:
                texts.append(base64.b64decode(part["payload"]).decode("utf-8"))
        return "\n".join(texts)


def test_no_output_plan_record_or_file_shows_the_token_or_a_secret(
    dfg: Cli, project: Path, url: str
) -> None:
    run = Outputs(dfg)
    for flags in FLAGS:
        assert run(*flags, "validate", "-e", "sec") == 0
        assert run(*flags, "plan", "-e", "sec") == 0
        assert run(*flags, "plan", "-e", "sec", "--format", "markdown") == 0
        assert run(*flags, "plan", "-e", "sec", "--format", "json") == 0
    plan_file = project / "plans" / "first.json"
    assert run("-v", "plan", "-e", "sec", "--out", str(plan_file)) == 0
    assert run("show", str(plan_file)) == 0
    assert run("show", str(plan_file), "--format", "json") == 0
    assert run("-v", "--json-logs", "apply", "-e", "sec", str(plan_file)) == 0
    assert run("-v", "apply", "-e", "sec", "--auto-approve") == 0

    write_dataflow(project / "dataflows", 1, target_bytes=700, revision=4)
    git(project, "commit", "-qam", "change one dataflow")
    assert run("-v", "plan", "-e", "sec", "--format", "markdown") == 0
    assert run("-v", "--json-logs", "apply", "-e", "sec", "--auto-approve") == 0
    assert run("-v", "history", "-e", "sec") == 0
    assert run("-v", "drift", "-e", "sec") in (0, 2)
    assert run("-v", "--json-logs", "export", "-e", "sec", "--dir", str(project / "exported")) == 0

    # Failures print errors with URLs and bodies: still nothing secret.
    write_dataflow(project / "dataflows", 2, target_bytes=700, revision=5)
    httpx.post(
        f"{url}/_emulator/faults",
        json={
            "kind": "status",
            "status": 500,
            "count": None,
            "probability": 1.0,
            "method": "POST",
            "path": "updateDefinition$",
        },
    ).raise_for_status()
    assert run("-v", "--json-logs", "apply", "-e", "sec", "--auto-approve") == 1
    httpx.delete(f"{url}/_emulator/faults").raise_for_status()
    httpx.post(f"{url}/_emulator/faults", json={"kind": "token_expired", "count": 50}).raise_for_status()
    assert run("-v", "--json-logs", "plan", "-e", "sec") == 1
    httpx.delete(f"{url}/_emulator/faults").raise_for_status()

    # The secret really went into the deployed definitions (so the scan below means something) ...
    assert SECRET in _live_mashups(url)
    # ... and the plan file carries a reference to it instead.
    assert f"${{env:{SECRET_ENV}}}" in "".join(
        base64.b64decode(p["payload"]).decode("utf-8")
        for a in json.loads(plan_file.read_text(encoding="utf-8"))["actions"]
        for p in (a.get("desired") or {}).get("parts", [])
    )
    assert run.leaking() == []
    assert scan_tree(project) == {}
    tags = git(project, "for-each-ref", "refs/tags", "--format=%(refname)%0a%(contents)")
    assert "refs/tags/" in tags  # records were written as annotated tags
    assert leaks(tags) == []


def test_rotated_secret_old_value_is_not_shown_in_the_plan(
    dfg: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a secret is rotated, live still holds the old value: the diff must not print it."""
    assert dfg("apply", "-e", "sec", "--auto-approve")[0] == 0
    monkeypatch.setenv(SECRET_ENV, "rotated-" + SECRET)

    shown = [dfg("plan", "-e", "sec", "--format", fmt) for fmt in ("text", "markdown", "json")]

    assert all(code == 0 for code, _, _ in shown)
    assert [
        fmt
        for (_, out, err), fmt in zip(shown, ("text", "markdown", "json"), strict=True)
        if SECRET in out + err
    ] == []
