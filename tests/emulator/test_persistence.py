"""Concurrency (many parallel clients: no lost writes, no duplicate names) and state surviving a
restart with a SQLite `--db`, both through `EmulatorServer` and the `fabric-emulator` command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from emulator_samples import dataflow_definition, parts_by_path
from platforms import posix_signals

from fabric_emulator import EmulatorServer

AUTH = {"Authorization": "Bearer persistence"}


def test_parallel_clients_lose_no_writes_and_make_no_duplicates(emulator, api, ws) -> None:
    def worker(n: int) -> list[int]:
        codes = []
        with httpx.Client(base_url=emulator.url + "/v1", headers=AUTH, timeout=30) as client:
            for k in range(5):
                name = f"W{n}-{k}"
                created = client.post(
                    f"/workspaces/{ws}/items",
                    json={
                        "displayName": name,
                        "type": "Dataflow",
                        "definition": dataflow_definition(name),
                    },
                )
                codes.append(created.status_code)
                m = f"section Section1;\nshared V = {n * 100 + k};\n"
                updated = client.post(
                    f"/workspaces/{ws}/items/{created.json()['id']}/updateDefinition",
                    json={"definition": dataflow_definition(name, m)},
                )
                codes.append(updated.status_code)
            # Every worker races for the same shared names: exactly one may win each.
            for k in range(3):
                codes.append(
                    client.post(
                        f"/workspaces/{ws}/items",
                        json={"displayName": f"Shared {k}", "type": "Dataflow"},
                    ).status_code
                )
        return codes

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(worker, range(12)))
    own = [c for codes in results for c in codes[:10]]
    shared = [c for codes in results for c in codes[10:]]
    assert set(own) == {200, 201}
    assert sorted(shared).count(201) == 3
    assert set(shared) == {201, 400}
    items = api.get(f"/workspaces/{ws}/items").json()["value"]
    names = [i["displayName"] for i in items]
    assert len(names) == len(set(names)) == 12 * 5 + 3
    sample = next(i for i in items if i["displayName"] == "W7-3")
    got = api.post(f"/workspaces/{ws}/items/{sample['id']}/getDefinition").json()
    assert parts_by_path(got["definition"])["mashup.pq"] == "section Section1;\nshared V = 703;\n"


def test_state_survives_restart_with_db(tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite")
    with (
        EmulatorServer(db=db, workspaces=[("0c1d2e3f-0000-4000-8000-000000000001", "Dev")]) as first,
        httpx.Client(base_url=first.url + "/v1", headers=AUTH) as client,
    ):
        ws = "0c1d2e3f-0000-4000-8000-000000000001"
        folder = client.post(f"/workspaces/{ws}/folders", json={"displayName": "F"}).json()
        item = client.post(
            f"/workspaces/{ws}/items",
            json={
                "displayName": "Kept",
                "type": "Dataflow",
                "folderId": folder["id"],
                "definition": dataflow_definition("Kept"),
            },
        ).json()
        before = parts_by_path(
            client.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition").json()["definition"]
        )
        job = client.post(f"/workspaces/{ws}/items/{item['id']}/jobs/Execute/instances")
        deleted = client.post(
            f"/workspaces/{ws}/items", json={"displayName": "Gone", "type": "Dataflow"}
        )
        client.delete(f"/workspaces/{ws}/items/{deleted.json()['id']}")
    with (
        EmulatorServer(db=db, workspaces=[(ws, "Dev")]) as second,
        httpx.Client(base_url=second.url + "/v1", headers=AUTH) as client,
    ):
        assert [w["id"] for w in client.get("/workspaces").json()["value"]] == [ws]
        items = client.get(f"/workspaces/{ws}/items").json()["value"]
        assert [(i["displayName"], i["folderId"]) for i in items] == [("Kept", folder["id"])]
        after = parts_by_path(
            client.post(f"/workspaces/{ws}/items/{item['id']}/getDefinition").json()["definition"]
        )
        assert after == before  # same parts, same logicalId in .platform
        job_url = job.headers["Location"].replace(job.headers["Location"].split("/v1")[0], second.url)
        assert client.get(job_url).json()["status"] == "Completed"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"fabric-emulator exited with {process.returncode}")
        try:
            httpx.get(url + "/_emulator/config", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("fabric-emulator did not start")


def _serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fabric_emulator",
            "--port",
            str(port),
            "--db",
            str(db),
            "--workspace",
            "5b2c0000-0000-4000-8000-000000000000:Dev",
            "--page-size",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@posix_signals
def test_command_line_serves_by_hand_and_keeps_state_across_restarts(tmp_path: Path) -> None:
    db, port = tmp_path / "cli.sqlite", _free_port()
    url = f"http://127.0.0.1:{port}"
    ws = "5b2c0000-0000-4000-8000-000000000000"
    process = _serve(db, port)
    try:
        _wait_ready(url, process)
        listed = httpx.get(url + "/v1/workspaces", headers={"Authorization": "Bearer x"})
        assert listed.json()["value"][0]["displayName"] == "Dev"
        for n in range(4):
            httpx.post(
                f"{url}/v1/workspaces/{ws}/items",
                headers=AUTH,
                json={"displayName": f"D{n}", "type": "Dataflow"},
            ).raise_for_status()
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"{url}/v1" in output
    assert process.returncode == 0  # SIGTERM shuts down as cleanly as Ctrl-C
    assert "Traceback" not in output
    process = _serve(db, port)
    try:
        _wait_ready(url, process)
        page = httpx.get(f"{url}/v1/workspaces/{ws}/items", headers=AUTH).json()
        assert [i["displayName"] for i in page["value"]] == ["D0", "D1", "D2"]
        assert page["continuationUri"].startswith(url)
    finally:
        process.terminate()
        process.communicate(timeout=10)
