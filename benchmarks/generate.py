"""Benchmark fixtures: (count, size, seed) → a project on disk with N realistic generated dataflows.

One folder layout serves both tools: ``dataflows/<name>.Dataflow/`` (Fabric Git layout, with
``.platform``) is our project's source folder and fabric-cicd's ``repository_directory``, so both
deploy byte-identical definitions. ``environments/bench.yaml`` points our tool at the emulator.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

ENV = "bench"
TOKEN_ENV = "DFG_BENCH_TOKEN"
PLATFORM_SCHEMA = "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/2.0.0/schema.json"


@dataclass(frozen=True, slots=True)
class GeneratedProject:
    root: Path
    dataflows_dir: Path
    names: tuple[str, ...]


def dataflow_name(index: int) -> str:
    return f"Bench Flow {index:04d}"


def _query(name: str, index: int, rng: random.Random) -> str:
    columns = ", ".join(f'"c{n}"' for n in range(6))
    steps = [
        "  Source = Sql.Database(ServerName, DatabaseName)",
        f'  #"Navigation 1" = Source{{[Schema = "dbo", Item = "{name}"]}}[Data]',
        f'  #"Selected columns" = Table.SelectColumns(#"Navigation 1", {{{columns}}})',
    ]
    previous = '#"Selected columns"'
    for step in range(rng.randint(6, 10)):
        label = f'#"Step {step}"'
        threshold = rng.randint(1, 10_000)
        steps.append(
            f"  {label} = Table.SelectRows({previous}, each [c{step % 6}] <> null and "
            f'[c{(step + 1) % 6}] > {threshold} or Text.StartsWith([c0], "k{index}-{step}"))'
        )
        previous = label
    body = ",\n".join(steps)
    return f"shared {name} = let\n{body}\nin\n  {previous};\n"


def mashup(index: int, target_bytes: int, revision: int = 0) -> tuple[str, list[str]]:
    """The ``mashup.pq`` text of dataflow ``index`` (about ``target_bytes`` long) and its queries.

    ``revision`` changes one literal so a regenerated dataflow differs by one query.
    """
    rng = random.Random(index)
    lines = [
        "section Section1;",
        'shared ServerName = "bench-sql.example.net" meta [IsParameterQuery = true, '
        "IsParameterQueryRequired = true, Type = type text];",
        f'shared DatabaseName = "Bench{revision}" meta [IsParameterQuery = true, '
        "IsParameterQueryRequired = true, Type = type text];",
    ]
    queries = ["ServerName", "DatabaseName"]
    size = sum(len(line) + 1 for line in lines)
    n = 0
    while size < target_bytes:
        name = f"Query{n:03d}"
        text = _query(name, index, rng)
        lines.append(text)
        queries.append(name)
        size += len(text) + 1
        n += 1
    return "\n".join(lines) + "\n", queries


def write_dataflow(dataflows_dir: Path, index: int, *, target_bytes: int, revision: int = 0) -> str:
    name = dataflow_name(index)
    folder = dataflows_dir / f"{name}.Dataflow"
    folder.mkdir(parents=True, exist_ok=True)
    text, queries = mashup(index, target_bytes, revision)
    ids = random.Random(f"ids-{index}")
    metadata = {
        "formatVersion": "202502",
        "computeEngineSettings": {},
        "name": name,
        "queryGroups": [],
        "documentLocale": "en-US",
        "queriesMetadata": {
            q: {"queryId": str(uuid.UUID(int=ids.getrandbits(128), version=4)), "queryName": q}
            for q in queries
        },
        "connections": [],
    }
    platform = {
        "$schema": PLATFORM_SCHEMA,
        "metadata": {"type": "Dataflow", "displayName": name},
        "config": {
            "version": "2.0",
            "logicalId": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
        },
    }
    (folder / "mashup.pq").write_text(text, encoding="utf-8")
    (folder / "queryMetadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    (folder / ".platform").write_text(json.dumps(platform, indent=2), encoding="utf-8")
    return name


def overlay(api: str, workspace_id: str) -> str:
    return (
        f"workspace_id: {workspace_id}\napi: {api}\nauth:\n  method: token\n  token_env: {TOKEN_ENV}\n"
    )


def write_project(
    root: Path, count: int, *, api: str, workspace_id: str, target_bytes: int = 3_000
) -> GeneratedProject:
    """A fresh project under ``root`` with ``count`` dataflows and the ``bench`` overlay."""
    dataflows_dir = root / "dataflows"
    names = tuple(write_dataflow(dataflows_dir, i, target_bytes=target_bytes) for i in range(count))
    envs = root / "environments"
    envs.mkdir(parents=True, exist_ok=True)
    (envs / f"{ENV}.yaml").write_text(overlay(api, workspace_id), encoding="utf-8")
    return GeneratedProject(root, dataflows_dir, names)


def change_dataflows(
    project: GeneratedProject, indexes: range, *, target_bytes: int, revision: int
) -> None:
    """Rewrite some dataflows with one changed parameter literal (a realistic small edit)."""
    for index in indexes:
        write_dataflow(project.dataflows_dir, index, target_bytes=target_bytes, revision=revision)
