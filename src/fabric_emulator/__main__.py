"""`fabric-emulator`: command-line flags (DESIGN §7) → a running emulator that serves until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from fabric_emulator.config import LRO_MODES
from fabric_emulator.errors import EmulatorError
from fabric_emulator.server import EmulatorServer

EXAMPLES = """examples:
  fabric-emulator --port 8765 --workspace 11111111-2222-3333-4444-555555555555:Dev
  curl -H 'Authorization: Bearer x' http://127.0.0.1:8765/v1/workspaces
  fabric-emulator --db state.sqlite --lro always --page-size 5 --quota-per-minute 200
  fabric-emulator --fault '{"kind": "status", "status": 503, "path": "/items$", "count": 2}'
"""


def _workspace(value: str) -> tuple[str, str]:
    ws_id, sep, name = value.partition(":")
    if not sep or not ws_id or not name:
        raise argparse.ArgumentTypeError(f"expected ID:NAME, got '{value}'")
    return ws_id, name


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fabric-emulator",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve an emulated Microsoft Fabric REST API on loopback.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--db", help="SQLite file; state survives restarts (default: in memory)")
    p.add_argument(
        "--workspace",
        action="append",
        type=_workspace,
        default=[],
        metavar="ID:NAME",
        help="create this workspace at start (repeatable)",
    )
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument(
        "--quota-per-minute",
        type=int,
        nargs="?",
        const=200,
        default=None,
        metavar="N",
        help="per-identity calls per minute before 429 (alone: Fabric's unified quota, 200)",
    )
    p.add_argument("--lro", choices=LRO_MODES, default="never")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--job-duration-s", type=float, default=0.0)
    p.add_argument(
        "--strict-auth",
        action="store_true",
        help="accept only tokens from the emulator's own OAuth authority",
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
        )
        server.start()
    except EmulatorError as exc:
        sys.exit(f"fabric-emulator: {exc.message} (check the flags; see --help)")
    except OSError as exc:
        sys.exit(
            f"fabric-emulator: cannot listen on {args.host}:{args.port}: {exc.strerror}; "
            "pick another --port"
        )
    print(f"fabric-emulator serving {server.url}/v1 (control plane: {server.url}/_emulator)", flush=True)
    if server.authority is not None:
        print(
            f"OAuth authority: {server.authority.authority_url} (CA file {server.authority.ca_file})",
            flush=True,
        )
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
