"""The deploy pipeline: pure stages over typed values (no HTTP here).

::

    dataflows/<name>.Dataflow/ + environments/<env>.yaml
     ① source    folder (working tree or git ref)      → SourceDataflow / Snapshot
     ② render    + overlay + target lookups            → DesiredDataflow
     ③ observe   list items + getDefinition (port)     → LiveWorkspace
     ④ diff      desired × live                        → DataflowDiff
     ⑤ plan      diffs + records + policy              → Plan of Actions
     ⑥ planfile  Plan ⇄ versioned JSON
     ⑦ apply     Actions → FabricWriter port           → ApplyResult

Stages ①–③ run in one place, :func:`dataflow_gitops.pipeline.workspace.read_workspace`, whose
:class:`~dataflow_gitops.pipeline.workspace.Workspace` every command consumes. The value types
live in :mod:`dataflow_gitops.pipeline.model`; the ports in :mod:`dataflow_gitops.pipeline.ports`
(side effects — git writes, SQLite, worker processes, files — are in ``dataflow_gitops.adapters``).
"""
