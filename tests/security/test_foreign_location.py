"""A ``Location`` header that points away from the configured API origin never gets the token.

A loopback proxy in front of the emulator rewrites every ``Location`` to a trap server: once under
another host name (``localhost`` instead of ``127.0.0.1``) and once on another port. dfg must either
refuse to follow (a clean one-line error) or follow without the token; the trap records what
arrived."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_project import Cli
from security_support import TOKEN, RewritingProxy, Trap, leaks, overlay


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
@pytest.mark.parametrize("command", [("apply", "-e", "sec", "--auto-approve"), ("plan", "-e", "sec")])
def test_foreign_location_never_receives_the_token(
    dfg: Cli, project: Path, url: str, host: str, command: tuple[str, ...]
) -> None:
    if command[0] == "plan":
        assert dfg("apply", "-e", "sec", "--auto-approve")[0] == 0  # items to read: getDefinition LROs
    with Trap() as trap:
        foreign = f"http://{host}:{trap.port}"
        with RewritingProxy(url, lambda location: location.replace(url, foreign)) as proxy:
            (project / "environments" / "sec.yaml").write_text(
                overlay(f"http://127.0.0.1:{proxy.port}"), encoding="utf-8"
            )
            code, out, err = dfg("-v", *command)

    assert "Traceback" not in out + err
    assert code in (0, 1)
    if code == 1:
        assert len([line for line in err.splitlines() if line.startswith("Error:")]) == 1
    assert leaks(out + err) == []
    assert all(request["authorization"] is None for request in trap.seen), trap.seen
    assert not any(TOKEN in str(request) for request in trap.seen)
    # The case is real only if dfg met a foreign Location: it refused it or followed it bare.
    assert code == 1 or trap.seen
