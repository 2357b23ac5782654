"""Server layer: settings → a running emulator (uvicorn in a background thread, like moto's
ThreadedMotoServer) with `.url`, `.start()`, `.stop()` and context-manager use. With strict auth it
also runs the emulator's own OAuth authority (`.authority`) and token issuer (`.token_issuer`)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import uvicorn

from fabric_emulator.app import EmulatorApp
from fabric_emulator.config import Clock, EmulatorConfig
from fabric_emulator.errors import EmulatorError, bad_request
from fabric_emulator.faults import FaultRule
from fabric_emulator.runtime import Emulator
from fabric_emulator.state import State
from fabric_emulator.storage import MemoryStorage, SqliteStorage, Storage

START_TIMEOUT_S = 10.0


def _open_state(db: str | None, clock: Clock) -> State:
    """The store, from `db` when given; a file that cannot be used is one clear error."""
    storage: Storage | None = None
    try:
        storage = SqliteStorage(db) if db else MemoryStorage()
        return State(clock.now, storage)
    except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
        if storage is not None:
            storage.close()
        reason = str(exc) or type(exc).__name__
        raise EmulatorError(
            500,
            "StorageUnavailable",
            f"cannot use the state file '{db}' ({reason}); if another fabric-emulator uses it, "
            "stop that one, otherwise move the file away or pick another --db",
        ) from None


class EmulatorServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        db: str | None = None,
        workspaces: Sequence[tuple[str, str]] = (),
        latency_ms: int = 0,
        quota_per_minute: int | None = None,
        lro: str = "never",
        page_size: int = 100,
        strict_auth: bool = False,
        job_duration_s: float = 0.0,
        faults: Sequence[Mapping[str, Any]] = (),
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        clients: Sequence[tuple[str, str]] = (),
        authority_port: int = 0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._authority_port = authority_port
        self.port = 0
        self.clock = Clock(clock)
        config = EmulatorConfig(
            lro=lro,
            latency_ms=latency_ms,
            quota_per_minute=quota_per_minute,
            page_size=page_size,
            job_duration_s=job_duration_s,
            seed=seed,
        )
        config.validate()
        if clients and not strict_auth:
            raise bad_request(
                "InvalidParameter", "client registrations need strict auth (--strict-auth)"
            )
        self.emulator = Emulator(
            _open_state(db, self.clock), config, self.clock, startup_workspaces=tuple(workspaces)
        )
        for rule in faults:
            self.emulator.faults.add(FaultRule.from_json(rule))
        self.token_issuer: Any = None
        self.authority: Any = None
        if strict_auth:
            self._setup_strict_auth(clients, authority_port)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def _setup_strict_auth(self, clients: Sequence[tuple[str, str]], port: int) -> None:
        # The auth helper's modules; imported only here so the emulator works without them.
        from fabric_emulator.authority import AuthorityServer
        from fabric_emulator.tokens import TokenIssuer

        self.token_issuer = TokenIssuer(clock=self.clock.now)
        self.authority = AuthorityServer(self.token_issuer, host=self.host, port=port)
        self.emulator.verify_token = self.token_issuer.verify
        self.emulator.authority = self.authority
        for client_id, secret in clients:
            self.authority.register_client(client_id, secret=secret)

    @property
    def url(self) -> str:
        # Listening on every interface still means clients on this machine use loopback.
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(self.host, self.host)
        return f"http://{host}:{self.port}"

    @property
    def state(self) -> State:
        return self.emulator.state

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            return self
        self.emulator.seed_startup_workspaces()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except (OSError, OverflowError):
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._socket = sock  # uvicorn serves on this socket; closed in stop()
        config = uvicorn.Config(
            EmulatorApp(self.emulator),
            log_level="critical",
            lifespan="off",
            access_log=False,
            http="h11",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"fabric-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"fabric-emulator did not start on {self.url}")
            time.sleep(0.005)
        if self.authority is not None:
            try:
                self.authority.start()
            except OSError as exc:
                port = self._authority_port
                raise EmulatorError(
                    500,
                    "AuthorityUnavailable",
                    f"cannot listen for the OAuth authority on {self.host}:{port}: "
                    f"{exc.strerror or exc}; pick another --authority-port",
                ) from None
        return self

    def stop(self) -> None:
        if self.authority is not None:
            self.authority.stop()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None
        self.emulator.state.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
