"""The emulator's public surface that other areas build on: `__all__` and the exact
`EmulatorServer` signature."""

from __future__ import annotations

import inspect

import fabric_emulator
from fabric_emulator import EmulatorServer


def test_all_is_pinned() -> None:
    assert fabric_emulator.__all__ == ["EmulatorServer"]


def test_emulator_server_signature() -> None:
    params = inspect.signature(EmulatorServer).parameters
    assert list(params) == [
        "host",
        "port",
        "db",
        "workspaces",
        "latency_ms",
        "quota_per_minute",
        "lro",
        "page_size",
        "strict_auth",
        "job_duration_s",
        "faults",
        "clock",
        "seed",
        "clients",
        "authority_port",
    ]
    defaults = {name: p.default for name, p in params.items() if name != "clock"}
    assert defaults == {
        "host": "127.0.0.1",
        "port": 0,
        "db": None,
        "workspaces": (),
        "latency_ms": 0,
        "quota_per_minute": None,
        "lro": "never",
        "page_size": 100,
        "strict_auth": False,
        "job_duration_s": 0.0,
        "faults": (),
        "seed": None,
        "clients": (),
        "authority_port": 0,
    }
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in list(params)[2:])


def test_server_attributes(emulator) -> None:
    assert emulator.url == f"http://127.0.0.1:{emulator.port}"
    assert emulator.port > 0
    assert emulator.authority is None
    assert emulator.token_issuer is None
