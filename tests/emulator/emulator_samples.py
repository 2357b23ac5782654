"""Sample Dataflow definitions and base64 helpers shared by the emulator tests (a uniquely named
module, so that `from emulator_samples import …` never picks up another folder's conftest)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

DEFAULT_CONFIG = {
    "lro": "never",
    "latencyMs": 0,
    "quotaPerMinute": None,
    "pageSize": 100,
    "jobDurationS": 0.0,
    "jobOutcome": "Completed",
    "jobStartDelayS": 0.0,
    "lroPolls": 1,
    "retryAfterS": 1,
    "lroRoutes": {},
    "seed": None,
    "nameReservationS": 0.0,
    "jobDedupe": False,
    "jobsPerMinute": None,
}

GOOD_MASHUP = """[StagingDefinition = [Kind = "FastCopy"]]
section Section1;
shared ServerName = "dev-sql.example.net" meta [IsParameterQuery = true,
    IsParameterQueryRequired = true, Type = type text];
shared Orders = let
    Source = Sql.Database(ServerName, "sales"),
    Rows = Source{[Schema = "dbo", Item = "Orders"]}[Data]
in
    Rows;
"""
BROKEN_MASHUP = 'section Section1;\nshared Orders = let Source = Sql.Database("x", "y" in Source;\n'


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def unb64(payload: str) -> str:
    return base64.b64decode(payload).decode("utf-8")


def platform(
    name: str, logical_id: str | None = None, description: str | None = None, item_type: str = "Dataflow"
) -> str:
    metadata: dict[str, str] = {"type": item_type, "displayName": name}
    if description is not None:
        metadata["description"] = description
    return json.dumps(
        {
            "$schema": "https://example.invalid/platformProperties/2.0.0/schema.json",
            "metadata": metadata,
            "config": {"version": "2.0", "logicalId": logical_id or str(uuid.uuid4())},
        }
    )


def query_metadata(name: str) -> dict[str, Any]:
    """The least queryMetadata.json of a dataflow named ``name`` (formatVersion 202502)."""
    return {
        "formatVersion": "202502",
        "computeEngineSettings": {},
        "name": name,
        "queryGroups": [],
        "documentLocale": "en-US",
        "queriesMetadata": {},
        "connections": [],
    }


def dataflow_definition(
    name: str,
    mashup: str = GOOD_MASHUP,
    *,
    with_platform: bool = False,
    logical_id: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    meta = json.dumps(query_metadata(name))
    parts = [
        {"path": "queryMetadata.json", "payload": b64(meta), "payloadType": "InlineBase64"},
        {"path": "mashup.pq", "payload": b64(mashup), "payloadType": "InlineBase64"},
    ]
    if with_platform:
        parts.append(
            {
                "path": ".platform",
                "payload": b64(platform(name, logical_id, description)),
                "payloadType": "InlineBase64",
            }
        )
    return {"parts": parts}


def parts_by_path(definition: dict[str, Any]) -> dict[str, str]:
    return {p["path"]: unb64(p["payload"]) for p in definition["parts"]}


# A schedule configuration every Job Scheduler test starts from (every 10 minutes, two days).
CRON = {
    "startDateTime": "2025-04-28T00:00:00",
    "endDateTime": "2025-04-30T23:59:00",
    "localTimeZoneId": "Central Standard Time",
    "type": "Cron",
    "interval": 10,
}
