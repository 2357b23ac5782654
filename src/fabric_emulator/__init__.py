"""fabric_emulator: a faithful stand-in for the Microsoft Fabric REST API (items, dataflows,
definitions, long-running operations, jobs), used by tests, benchmarks, `dfg demo` and the
``embedded`` API value. It imports nothing from dataflow_gitops."""

from __future__ import annotations

from fabric_emulator.server import EmulatorServer

__all__ = ["EmulatorServer"]
