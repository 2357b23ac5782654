"""`fabric-emulator` as a person runs it: `--strict-auth --client ID:SECRET` prints what msal needs
and msal's real client-credentials flow then opens the API; clients can also be registered through
`POST /_emulator/clients`; and every refusal (bad flag, busy port, locked or corrupt `--db`) is one
line and exit 1, never a traceback."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msal
import pytest
import requests

from fabric_emulator import EmulatorServer, storage
from fabric_emulator.__main__ import main

SCOPE = "https://api.fabric.microsoft.com/.default"
SECRET = "by-hand-s3cret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _token(authority: str, ca_file: str, client_id: str, secret: str) -> dict[str, str]:
    with requests.Session() as http:
        http.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        http.verify = ca_file
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=secret,
            authority=authority,
            instance_discovery=False,
            http_client=http,
        )
        result: dict[str, str] = app.acquire_token_for_client(scopes=[SCOPE])
        return result


def _read_banner(process: subprocess.Popen[str]) -> str:
    """stdout lines until the `clients:` line of the authority block (or the process ends)."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip().startswith("clients:"):
            break
    return "".join(lines)


def test_strict_auth_by_hand_with_a_client_flag_and_msal(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fabric_emulator",
            "--port",
            str(port),
            "--strict-auth",
            "--client",
            f"ci-app:{SECRET}",
            "--workspace",
            "7c000000-0000-4000-8000-000000000001:Dev",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = _read_banner(process)
        authority = re.search(r"OAuth authority: (https://\S+)", banner)
        ca_file = re.search(r"CA file:\s+(\S+)", banner)
        assert authority, banner
        assert ca_file, banner
        assert re.search(r"token endpoint: https://\S+/oauth2/v2\.0/token", banner)
        assert "tenant:" in banner
        assert "clients:        ci-app" in banner
        assert SECRET not in banner
        api = f"http://127.0.0.1:{port}/v1/workspaces"
        assert httpx.get(api, headers={"Authorization": "Bearer anything"}).status_code == 401
        result = _token(authority.group(1), ca_file.group(1), "ci-app", SECRET)
        assert "access_token" in result, result.get("error_description")
        answer = httpx.get(api, headers={"Authorization": f"Bearer {result['access_token']}"})
        assert answer.status_code == 200
        assert answer.json()["value"][0]["displayName"] == "Dev"
        refused = _token(authority.group(1), ca_file.group(1), "ci-app", "wrong")
        assert refused.get("error") == "invalid_client"
        # Bad requests of every kind get answers; none may print a traceback (checked below).
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {result['access_token']}"}
        for method, path, body in [
            ("POST", "/v1/workspaces", b"{not json"),
            ("POST", "/v1/workspaces", b"\xff\xfe"),
            ("GET", "/v1/workspaces/nope/items?continuationToken=%%%", b""),
            ("DELETE", "/v1/nowhere", b""),
            ("POST", "/_emulator/clock", b'{"advanceSeconds": NaN}'),
            ("POST", "/_emulator/faults", b'{"kind": "status", "count": 1e400}'),
            ("POST", "/_emulator/clients", b'{"clientId": "x", "certificatePem": "junk"}'),
        ]:
            answer = httpx.request(method, base + path, content=body, headers=auth)
            assert 400 <= answer.status_code < 500, (path, answer.text)
            assert answer.json()["errorCode"]
    finally:
        process.terminate()
        rest = process.communicate(timeout=10)[0]
    assert process.returncode == 0
    assert "Traceback" not in rest


@pytest.fixture(scope="module")
def strict() -> Iterator[EmulatorServer]:
    with EmulatorServer(strict_auth=True, clients=[("flag-app", "flag-secret")]) as server:
        yield server


def test_clients_control_plane_registers_and_lists_without_secrets(strict) -> None:
    plane = strict.url + "/_emulator/clients"
    made = httpx.post(plane, json={"clientId": "plane-app", "secret": "plane-secret"})
    assert made.status_code == 201, made.text
    facts = made.json()
    assert facts["authority"] == strict.authority.authority_url
    assert facts["tokenEndpoint"] == strict.authority.token_endpoint
    assert facts["caFile"] == strict.authority.ca_file
    assert facts["value"] == [
        {"clientId": "plane-app", "secret": True, "certificate": False, "federated": False}
    ]
    listed = httpx.get(plane)
    assert {c["clientId"] for c in listed.json()["value"]} >= {"flag-app", "plane-app"}
    assert "secret" not in listed.text.replace('"secret": true', "")
    assert "plane-secret" not in listed.text
    result = _token(facts["authority"], facts["caFile"], "plane-app", "plane-secret")
    assert "access_token" in result, result.get("error_description")
    api = strict.url + "/v1/workspaces"
    ok = httpx.get(api, headers={"Authorization": f"Bearer {result['access_token']}"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"clientId": ""}, "clientId"),
        ({"secret": "x"}, "clientId"),
        ({"clientId": "c", "secret": 5}, "must be strings"),
        ({"clientId": "c", "certificatePem": "not a pem"}, "Cannot register client"),
        ({"clientId": "c", "federated": {"issuer": "https://x"}}, "publicKeyPem, subject"),
        ({"clientId": "c", "colour": "red"}, "Unknown client keys: colour"),
    ],
)
def test_bad_client_registrations_are_400(strict, body, needle) -> None:
    answer = httpx.post(strict.url + "/_emulator/clients", json=body)
    assert answer.status_code == 400
    assert needle in answer.json()["message"]
    listed = httpx.get(strict.url + "/_emulator/clients").json()["value"]
    assert "c" not in {c["clientId"] for c in listed}  # nothing half-registered


def test_clients_need_strict_auth(control) -> None:
    answer = control.post("/_emulator/clients", json={"clientId": "x", "secret": "y"})
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "StrictAuthOff"
    assert control.get("/_emulator/clients").json()["errorCode"] == "StrictAuthOff"


# -- refusals: one line, exit 1 --------------------------------------------------------------------
def refusal(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    message = str(excinfo.value.code)
    assert message.startswith("fabric-emulator: "), message
    assert "\n" not in message
    assert "Traceback" not in message
    return message


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "99999"], "not a port number"),
        (["--port", "http"], "not a port number"),
        (["--lro", "sometimes"], "invalid choice"),
        (["--client", "no-secret"], "expected CLIENT_ID:SECRET"),
        (["--port", "0", "--client", "a:b"], "need strict auth"),
        (["--port", "0", "--seed", "x"], "invalid int value"),
        (["--port", "0", "--workspace", "a:Dup", "--workspace", "b:dup"], "already exists"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_one_line(argv, needle) -> None:
    assert needle in refusal(argv)


def test_a_client_secret_is_never_echoed_in_a_refusal() -> None:
    assert "hush" not in refusal(["--client", ":hush"])


def test_a_busy_port_is_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert "pick another --port" in refusal(["--port", str(port)])


def test_a_corrupt_db_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    db.write_bytes(b"this is not a database, just text " * 100)
    assert "file is not a database" in refusal(["--port", "0", "--db", str(db)])


def test_a_db_with_garbage_rows_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    with EmulatorServer(db=str(db), workspaces=[("0a000000-0000-4000-8000-000000000001", "Dev")]):
        pass
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE records SET body = '{\"unexpected\": 1}'")
    conn.close()
    assert "cannot use the state file" in refusal(["--port", "0", "--db", str(db)])


def test_a_locked_db_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "LOCK_TIMEOUT_S", 0.1)
    db = tmp_path / "state.sqlite"
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")
        message = refusal(["--port", "0", "--db", str(db)])
    finally:
        holder.close()
    assert "database is locked" in message
    assert "another fabric-emulator" in message


def test_a_db_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    message = refusal(["--port", "0", "--db", str(tmp_path / "no" / "such" / "dir" / "s.db")])
    assert "unable to open database file" in message
