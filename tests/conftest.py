"""Shared fixtures: the one loopback emulator of the session, the emulator's OAuth authority of a
module, the example project copied to tmp, `dfg` run in-process on a suite's ``project``, and a
fake clock for dfg's clients. Area-specific
fixtures live in tests/<area>/conftest.py; helpers in tests/support/."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from emulator_project import Cli
from example_repo import copy_example
from fake_time import FakeTime

if TYPE_CHECKING:
    from fabric_emulator import EmulatorServer
    from fabric_emulator.authority import AuthorityServer
    from fabric_emulator.tokens import TokenIssuer

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DATAFLOWS = REPO_ROOT / "dataflows"
EXAMPLE_ENVIRONMENTS = REPO_ROOT / "environments"

# Never let the developer's or CI's real credentials or proxies reach a test.
_SCRUB_PREFIXES = (
    "FABRIC_",
    "AZURE_",
    "MSAL_",
    "ACTIONS_ID_TOKEN_",
    "SYSTEM_ACCESSTOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "GITHUB_",
    "TF_BUILD",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
)


@pytest.fixture(autouse=True)
def _package_logger() -> Iterator[None]:
    """A CLI run configures the package logger (its own handler, no propagation); put it back,
    so a later test's caplog sees the package's records whatever ran before it."""
    logger = logging.getLogger("dataflow_gitops")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def _scrub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_SCRUB_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "dfg-test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dfg-test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "dfg-test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "dfg-test@example.invalid")


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One in-process emulator on a free loopback port for the session (one per xdist worker): no
    workspaces, default knobs. Suites hand it to tests only after `shared_emulator.fresh`."""
    from fabric_emulator import EmulatorServer

    with EmulatorServer(port=0) as server:
        yield server


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    """The emulator's token issuer, one per test module."""
    from fabric_emulator.tokens import TokenIssuer

    return TokenIssuer()


@pytest.fixture(scope="module")
def authority(issuer: TokenIssuer) -> Iterator[AuthorityServer]:
    """The emulator's OAuth authority (its own CA) for ``issuer``, one per test module: a module
    registers the clients it needs."""
    from fabric_emulator.authority import AuthorityServer

    with AuthorityServer(issuer) as server:
        yield server


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """The example project (dataflows, environments, settings) copied to tmp, no git."""
    return copy_example(tmp_path / "project")


@pytest.fixture
def dfg(project: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`dfg -C <project> --no-color ARGS…` in-process on the suite's ``project`` fixture."""
    return Cli(project, capsys)


@pytest.fixture(scope="session")
def _client_clock() -> FakeTime:
    # One for the session: the fake clock must never go backwards between tests.
    return FakeTime()


@pytest.fixture
def fast_clients(_client_clock: FakeTime) -> Iterator[FakeTime]:
    """dfg's clients sleep on a fake clock (the client layer's timing seam), so backoff and
    ``Retry-After`` cost no wall time."""
    from dataflow_gitops.fabric import timing

    with timing.using(sleep=_client_clock.sleep, clock=_client_clock.clock):
        yield _client_clock
