"""Fuzz helpers: the project harness every generated case runs through (rewrite the project,
run ``dfg`` in-process, require a one-line refusal with no traceback and no API write)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from dataflow_gitops.cli.main import run

WS = "2b8e4d61-7a3c-4e9f-b1d5-6c0a8f2e4b97"
TOKEN_ENV = "DFG_FUZZ_TOKEN"
TOKEN = "fuzz-token-51c2e8"
ENV = "fz"
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


@dataclass
class Harness:
    root: Path
    url: str
    pristine: Path
    capsys: pytest.CaptureFixture[str]
    cases: int = 0
    _http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=f"{self.url}/_emulator", timeout=30)

    def close(self) -> None:
        self._http.close()

    def restore(self) -> None:
        """Put the project back as it was before the case changed it."""
        shutil.rmtree(self.root)
        shutil.copytree(self.pristine, self.root)

    def clear_log(self) -> None:
        self._http.delete("/requests").raise_for_status()

    def writes(self) -> list[str]:
        entries = self._http.get("/requests").json()["value"]
        return [
            f"{e['method']} {e['path']}"
            for e in entries
            if e["method"] in WRITE_METHODS and not e["path"].endswith("/getDefinition")
        ]

    def dfg(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run(["-C", str(self.root), "--no-color", *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def check_refused(self, *args: str) -> str:
        """Run ``dfg``; it must exit 1 with exactly one ``Error:`` line, no traceback, no write."""
        self.cases += 1
        self.clear_log()
        code, out, err = self.dfg(*args)
        assert "Traceback" not in out + err
        assert "unexpected internal error" not in out + err, err
        assert code == 1, (code, out[-2000:], err[-2000:])
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, err
        assert "\n" not in errors[0]
        assert self.writes() == []
        return errors[0]
