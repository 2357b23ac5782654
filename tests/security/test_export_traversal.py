"""``dfg export`` writes nothing outside its target folder, whatever part paths, display names or
logicalIds the service returns (a hostile or broken service must not steer file writes)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_project import Cli
from security_support import WS, RewritingProxy, overlay

MASHUP = "section Section1;\nshared A = 1;\n"
METADATA = {"formatVersion": "202502", "name": "x", "queriesMetadata": {"A": {"queryName": "A"}}}


def _seed(url: str, name: str, files: dict[str, object]) -> None:
    item = {"workspaceId": WS, "displayName": name, "files": files}
    httpx.post(f"{url}/_emulator/seed", json={"items": [item]}, timeout=10).raise_for_status()


def _hostile(url: str, project: Path, **change: Any) -> RewritingProxy:
    """A proxy that edits getDefinition answers (the emulator itself refuses unsafe paths):
    ``part`` adds a part with that path, ``name`` / ``logical_id`` rewrite ``.platform``."""

    def body(path: str, doc: Any) -> Any:
        parts = (doc.get("definition") or {}).get("parts") if isinstance(doc, dict) else None
        if not isinstance(parts, list):
            return doc
        if "part" in change:
            parts.append(
                {"path": change["part"], "payload": _b64("pwned"), "payloadType": "InlineBase64"}
            )
        for part in parts:
            if part["path"] == ".platform" and ("name" in change or "logical_id" in change):
                platform = json.loads(base64.b64decode(part["payload"]))
                platform["metadata"]["displayName"] = change.get(
                    "name", platform["metadata"]["displayName"]
                )
                platform["config"]["logicalId"] = change.get(
                    "logical_id", platform["config"]["logicalId"]
                )
                part["payload"] = _b64(json.dumps(platform))
        return doc

    proxy = RewritingProxy(url, body=body)
    (project / "environments" / "sec.yaml").write_text(overlay(proxy.url), encoding="utf-8")
    return proxy


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _files_outside(base: Path, inside: Path) -> list[str]:
    return sorted(
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.is_file() and not p.is_relative_to(inside) and "evil" in p.name.lower()
    )


@pytest.mark.parametrize(
    "part_path",
    ["../evil.txt", "../../evil.txt", "/tmp/evil-abs.txt", "a/../../evil.txt", "..\\evil.txt", "./evil"],
)
def test_part_path_from_the_service_cannot_leave_the_folder(
    dfg: Cli, project: Path, url: str, part_path: str
) -> None:
    _seed(url, "Hostile Parts", {"mashup.pq": MASHUP, "queryMetadata.json": METADATA})
    out_dir = project / "exported"

    with _hostile(url, project, part=part_path):
        code, out, err = dfg("export", "-e", "sec", "--dir", str(out_dir))

    assert "Traceback" not in out + err
    assert code in (0, 1)
    assert _files_outside(project.parent, out_dir) == []
    assert not Path("/tmp/evil-abs.txt").exists()
    assert code == 1  # the hostile part reached dfg, which refused it
    assert "unsafe part path" in err


@pytest.mark.parametrize("name", ["../../Evil", "..", "Evil/../../../x", "Evil\\..\\..\\y"])
def test_display_name_cannot_become_a_path(dfg: Cli, project: Path, url: str, name: str) -> None:
    _seed(url, name, {"mashup.pq": MASHUP, "queryMetadata.json": METADATA})
    out_dir = project / "exported"

    with _hostile(url, project, name=name):
        code, out, err = dfg("export", "-e", "sec", name, "--dir", str(out_dir))

    assert "Traceback" not in out + err
    assert code in (0, 1)
    written = [p for p in project.parent.rglob("*") if p.is_file() and not p.is_relative_to(project)]
    assert written == []
    exported = [p for p in out_dir.rglob("*") if p.is_file()]
    assert exported  # written, under an encoded folder name
    for path in exported:
        assert path.resolve().is_relative_to(out_dir.resolve())
        assert path.parent.parent == out_dir


def test_logical_id_used_as_a_folder_name_cannot_leave_the_folder(
    dfg: Cli, project: Path, url: str
) -> None:
    # The logicalId names the folder when the display name's folder is taken (Git sync's rule).
    name = "Taken Name"
    _seed(url, name, {"mashup.pq": MASHUP, "queryMetadata.json": METADATA})
    out_dir = project / "exported"
    (out_dir / f"{name}.Dataflow").mkdir(parents=True)
    (out_dir / f"{name}.Dataflow" / "keep.txt").write_text("not a dataflow", encoding="utf-8")

    with _hostile(url, project, logical_id="../../evil-by-logical-id"):
        code, out, err = dfg("export", "-e", "sec", name, "--dir", str(out_dir))

    assert "Traceback" not in out + err
    assert code in (0, 1)
    escaped = [p for p in project.parent.rglob("*evil-by-logical-id*")]
    assert escaped == [], escaped
    assert (out_dir / f"{name}.Dataflow" / "keep.txt").exists()
    assert code == 1
    assert "logicalId" in err
