"""Fixtures for the emulator tests: the session's emulator (tests/conftest.py), made fresh before
each test: an empty tenant with default knobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from emulator_samples import DEFAULT_CONFIG
from shared_emulator import fresh

from fabric_emulator import EmulatorServer


@pytest.fixture
def control(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """The control plane, after a reset to an empty tenant with default knobs."""
    with httpx.Client(base_url=fresh(emulator.url, DEFAULT_CONFIG), timeout=10) as plane:
        yield plane


@pytest.fixture
def api(emulator: EmulatorServer, control: httpx.Client) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emulator.url + "/v1", timeout=10, headers={"Authorization": "Bearer test-token"}
    ) as client:
        yield client


@pytest.fixture
def ws(api: httpx.Client) -> str:
    response = api.post("/workspaces", json={"displayName": f"WS {uuid.uuid4()}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
