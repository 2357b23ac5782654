"""CLI output, JSON: Plan → the ``plan.schema.json`` document with ``payloads: false``;
ApplyResult → a small outcome document. Output never carries payloads, so it needs no secrets:
diff lines were masked when the plan was built."""

from __future__ import annotations

import json
from typing import Any

from dataflow_gitops import __version__
from dataflow_gitops.pipeline.model import ApplyResult, DataflowDiff, Plan
from dataflow_gitops.pipeline.plan.planfile import diff_document, plan_document


def plan_json(plan: Plan) -> str:
    return (
        json.dumps(plan_document(plan, secrets={}, payloads=False), indent=2, ensure_ascii=False) + "\n"
    )


def apply_json(result: ApplyResult) -> str:
    doc: dict[str, Any] = {
        "format_version": 1,
        "tool": {"name": "dataflow-gitops", "version": __version__},
        "environment": result.environment,
        "workspace_id": result.workspace_id,
        "ok": result.ok,
        "outcomes": [
            {
                "kind": o.action.kind.value,
                "name": o.action.name,
                "display_name": o.action.display_name,
                "rename_from": o.action.rename_from,
                "status": o.status.value,
                "item_id": o.item_id,
                "error": o.error,
                "published": o.published,
            }
            for o in result.outcomes
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def diff_json(diff: DataflowDiff) -> str:
    doc = {"name": diff.name, "changed": diff.changed, **diff_document(diff)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
