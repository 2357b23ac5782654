"""`fabric-emulator`: command-line flags (DESIGN §7) → a running emulator that serves until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn

from fabric_emulator.config import LRO_MODES
from fabric_emulator.errors import EmulatorError
from fabric_emulator.server import EmulatorServer

EXAMPLES = """examples:
  fabric-emulator --port 8765 --workspace 11111111-2222-3333-4444-555555555555:Dev
  curl -H 'Authorization: Bearer x' http://127.0.0.1:8765/v1/workspaces
  fabric-emulator --db state.sqlite --lro always --page-size 5 --quota-per-minute 200
  fabric-emulator --fault '{"kind": "status", "status": 503, "path": "/items$", "count": 2}'
  fabric-emulator --strict-auth --client ci-app:s3cret   # prints the authority to give msal
  fabric-emulator --seed 7 --lro random --fault '{"kind": "drop", "probability": 0.1, "count": null}'
The control plane (reset, seed, faults, requests, state, config, clock, clients) is described in
docs/emulator.md and in `python -c "import fabric_emulator.control as c; help(c)"`.
"""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number (0-65535)")
    return port


def _workspace(value: str) -> tuple[str, str]:
    ws_id, sep, name = value.partition(":")
    if not sep or not ws_id or not name:
        raise argparse.ArgumentTypeError(f"expected ID:NAME, got '{value}'")
    return ws_id, name


def _client(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:SECRET")  # never echo the secret
    return client_id, secret


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line and exit 1, like every other refusal of this command (argparse prints usage too).
        sys.exit(f"fabric-emulator: {message} (see --help)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="fabric-emulator",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve an emulated Microsoft Fabric REST API on loopback.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8765, help="API port (default 8765; 0: any free)")
    p.add_argument("--db", help="SQLite file; state survives restarts (default: in memory)")
    p.add_argument(
        "--workspace",
        action="append",
        type=_workspace,
        default=[],
        metavar="ID:NAME",
        help="create this workspace at start (repeatable)",
    )
    p.add_argument("--latency-ms", type=int, default=0, metavar="N", help="delay every /v1 call")
    p.add_argument(
        "--quota-per-minute",
        type=int,
        nargs="?",
        const=200,
        default=None,
        metavar="N",
        help="per-identity calls per minute before 429 (alone: Fabric's unified quota, 200)",
    )
    p.add_argument(
        "--lro",
        choices=LRO_MODES,
        default="never",
        help="answer create/getDefinition/updateDefinition with 202 + an operation: always, "
        "never (default: 200/201 at once) or at random",
    )
    p.add_argument(
        "--page-size", type=int, default=100, metavar="N", help="items per list page (default 100)"
    )
    p.add_argument(
        "--job-duration-s",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds a job instance stays InProgress (emulator clock; default 0)",
    )
    p.add_argument(
        "--strict-auth",
        action="store_true",
        help="accept only tokens from the emulator's own OAuth authority (printed at start)",
    )
    p.add_argument(
        "--client",
        action="append",
        type=_client,
        default=[],
        metavar="ID:SECRET",
        help="with --strict-auth: register a confidential client with this secret (repeatable); "
        "more via POST /_emulator/clients",
    )
    p.add_argument(
        "--authority-port",
        type=_port,
        default=0,
        metavar="N",
        help="with --strict-auth: the OAuth authority's port (default: any free one)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed the random LRO answers and probability faults, so a run repeats exactly",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help="a fault rule as JSON, as POST /_emulator/faults takes (repeatable)",
    )
    return p


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print_authority(authority: Any, client_ids: Sequence[str]) -> None:
    """What a person gives msal (never a secret)."""
    registered = ", ".join(client_ids) or "none yet (POST /_emulator/clients or --client)"
    lines = [
        f"OAuth authority: {authority.authority_url}",
        f"  tenant:         {authority.tenant}",
        f"  token endpoint: {authority.token_endpoint}",
        f"  CA file:        {authority.ca_file} (trust it: the authority serves TLS with its own CA)",
        "  scope:          https://api.fabric.microsoft.com/.default",
        f"  clients:        {registered}",
    ]
    print("\n".join(lines), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    faults = []
    for text in args.fault:
        try:
            faults.append(json.loads(text))
        except ValueError as exc:
            sys.exit(f"fabric-emulator: --fault {text!r} is not JSON ({exc}); see --help for an example")
    try:
        server = EmulatorServer(
            args.host,
            args.port,
            db=args.db,
            workspaces=args.workspace,
            latency_ms=args.latency_ms,
            quota_per_minute=args.quota_per_minute,
            lro=args.lro,
            page_size=args.page_size,
            strict_auth=args.strict_auth,
            job_duration_s=args.job_duration_s,
            faults=faults,
            seed=args.seed,
            clients=args.client,
            authority_port=args.authority_port,
        )
    except EmulatorError as exc:
        # A storage refusal already says what to do; the others come from a flag's value.
        hint = "" if exc.error_code == "StorageUnavailable" else " (check the flags; see --help)"
        sys.exit(f"fabric-emulator: {exc.message}{hint}")
    try:
        server.start()
    except EmulatorError as exc:
        server.stop()
        sys.exit(f"fabric-emulator: {exc.message}")
    except RuntimeError as exc:
        server.stop()
        sys.exit(f"fabric-emulator: {exc}")
    except OSError as exc:
        server.stop()
        sys.exit(
            f"fabric-emulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "pick another --port or --host"
        )
    print(f"fabric-emulator serving {server.url}/v1 (control plane: {server.url}/_emulator)", flush=True)
    if server.authority is not None:
        _print_authority(server.authority, [c for c, _ in args.client])
    # `terminate()` from a parent (dfg's embedded mode) shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
