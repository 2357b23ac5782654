"""Runtime bundle: everything one emulator instance owns (state, config, clock, faults, quota,
request log, startup workspaces, token verifier) → shared by the app, handlers and control plane.
One per server; there is no module-global state."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fabric_emulator.config import Clock, EmulatorConfig
from fabric_emulator.faults import Faults
from fabric_emulator.quota import Quota
from fabric_emulator.state import State

# Bounded so a long-running demo cannot grow without limit; DELETE /_emulator/requests clears it.
MAX_LOG = 100_000


class RequestLog:
    """What was called, by whom (identity, never the token) and with what status."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_LOG)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class Emulator:
    state: State
    config: EmulatorConfig
    clock: Clock
    faults: Faults = field(default_factory=Faults)
    quota: Quota = field(default_factory=Quota)
    job_quota: Quota = field(default_factory=Quota)  # Fabric's separate job-submission limit
    log: RequestLog = field(default_factory=RequestLog)
    startup_workspaces: Sequence[tuple[str, str]] = ()
    # Strict auth: token → identity, raising the auth helper's TokenRejected.
    verify_token: Callable[[str], str] | None = None
    # Strict auth: the OAuth authority (an `AuthorityServer`), for client registration by hand.
    authority: Any = None
    random: random.Random = field(default_factory=random.Random)
    startup_config: dict[str, Any] = field(default_factory=dict)
    # How `latencyMs` waits; tests swap it to see the delay without waiting for it.
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def __post_init__(self) -> None:
        self.startup_config = self.config.to_json()
        self.reseed()

    def reseed(self) -> None:
        """Restart every random draw from `config.seed`, so a seeded run repeats exactly."""
        self.random.seed(self.config.seed)
        self.faults.reseed(self.config.seed)

    def seed_startup_workspaces(self) -> None:
        for ws_id, name in self.startup_workspaces:
            if ws_id.lower() not in self.state.workspaces:
                self.state.create_workspace(name, workspace_id=ws_id)

    def reset(self) -> None:
        self.state.clear()
        self.faults.clear()
        self.quota.clear()
        self.job_quota.clear()
        self.log.clear()
        self.clock.reset()
        self.config.update(self.startup_config)  # the knobs the server was started with
        self.reseed()
        self.seed_startup_workspaces()
