"""Shared fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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
