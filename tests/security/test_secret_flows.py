"""Every place a value derived from ``${env:…}`` can flow is masked (issue 13, finding 5): display
names from a display-name template, the ``api:`` URL in ``-v`` request lines, error messages that
quote a substituted value, plan text/markdown/JSON/file, records and exported files. One full
plan/apply/drift/export run is scanned for every secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_project import Cli, git
from security_support import SECRET, SECRET_ENV, TOKEN, TOKEN_ENV, WS, scan_tree

LABEL_ENV = "DFG_SEC_LABEL"
LABEL = "lbl-Hq4Wz9Tn"
API_ENV = "DFG_SEC_API"
NAME_ENV = "DFG_SEC_WSNAME"
WS_NAME = "wsname-Yb6Rc1Vd"
VAR_ENV = "DFG_SEC_TOKEN_VAR"
TOKEN_VAR = "tokvar_Mn3Jx8Pq"
ALL = (SECRET, TOKEN, LABEL, WS_NAME, TOKEN_VAR)


def _overlay(extra: str = "") -> str:
    return (
        f"workspace_id: {WS}\napi: ${{env:{API_ENV}}}\n"
        f"auth:\n  method: token\n  token_env: {TOKEN_ENV}\n"
        f'display_name: "{{name}} ${{env:{LABEL_ENV}}}"\n'
        f"parameters:\n  ServerName: ${{env:{SECRET_ENV}}}\n{extra}"
    )


@pytest.fixture
def secret_project(project: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(LABEL_ENV, LABEL)
    # The whole base URL is a secret (it may carry a key in a real gateway's path).
    monkeypatch.setenv(API_ENV, url)
    (project / "environments" / "flow.yaml").write_text(_overlay(), encoding="utf-8")
    git(project, "add", ".")
    git(project, "commit", "-qm", "flow overlay")
    return project


def _leaks(text: str, also: tuple[str, ...] = ()) -> list[str]:
    return [s for s in (*ALL, *also) if s in text]


def test_a_full_run_never_shows_a_value_derived_from_env(
    dfg: Cli, secret_project: Path, url: str
) -> None:
    seen: list[tuple[tuple[str, ...], str]] = []

    def run(*args: str) -> int:
        code, out, err = dfg(*args)
        seen.append((args, out + err))
        return code

    plan_file = secret_project / "plans" / "flow.json"
    for fmt in ("text", "markdown", "json"):
        assert run("-v", "plan", "-e", "flow", "--format", fmt) == 0
    assert run("-v", "plan", "-e", "flow", "--out", str(plan_file)) == 0
    for fmt in ("text", "markdown", "json"):
        assert run("show", str(plan_file), "--format", fmt) == 0
    assert run("-v", "--json-logs", "apply", "-e", "flow", str(plan_file)) == 0
    assert run("-v", "history", "-e", "flow") == 0
    assert run("-v", "drift", "-e", "flow", "--format", "markdown") in (0, 2)
    assert run("-v", "drift", "-e", "flow", "--format", "json") in (0, 2)
    assert run("-v", "export", "-e", "flow", "--dir", str(secret_project / "exported")) == 0

    # the secrets really were used (so the scans mean something)
    assert any(LABEL in name for name in _live_names(url))
    leaking = [(args, found) for args, text in seen if (found := _leaks(text, (url,)))]
    assert leaking == []
    hits = {path: found for path, found in scan_tree(secret_project).items()}
    raw = {
        p.relative_to(secret_project).as_posix(): _leaks(p.read_text("utf-8", "replace"))
        for p in secret_project.rglob("*")
        if p.is_file() and ".git/objects" not in p.as_posix()
    }
    assert hits == {}
    assert {k: v for k, v in raw.items() if v} == {}
    tags = git(secret_project, "for-each-ref", "refs/tags", "--format=%(contents)")
    assert "flow" in tags
    assert _leaks(tags) == []


def _live_names(url: str) -> list[str]:
    import httpx

    headers = {"Authorization": "Bearer probe"}
    with httpx.Client(base_url=f"{url}/v1", headers=headers, timeout=30) as http:
        items = http.get(f"/workspaces/{WS}/items", params={"type": "Dataflow"}).json()["value"]
    return [i["displayName"] for i in items]


def test_errors_that_quote_a_substituted_value_mask_it(
    dfg: Cli, secret_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs = secret_project / "environments"
    monkeypatch.setenv(NAME_ENV, WS_NAME)
    named = _overlay().replace(f"workspace_id: {WS}\n", f"workspace_name: ${{env:{NAME_ENV}}}\n")
    (envs / "named.yaml").write_text(named, encoding="utf-8")
    code, out, err = dfg("plan", "-e", "named")
    assert code == 1
    assert "no workspace named" in err
    assert _leaks(out + err) == []
    assert f"${{env:{NAME_ENV}}}" in err

    monkeypatch.setenv(VAR_ENV, TOKEN_VAR)  # names a variable that is not set
    indirect = _overlay().replace(f"token_env: {TOKEN_ENV}", f"token_env: ${{env:{VAR_ENV}}}")
    (envs / "indirect.yaml").write_text(indirect, encoding="utf-8")
    code, out, err = dfg("-v", "plan", "-e", "indirect")
    assert code == 1
    assert "is not set" in err
    assert _leaks(out + err) == []
