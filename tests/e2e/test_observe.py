"""③ observe over the gateway: getDefinition of every dataflow runs concurrently, bounded, and
the results come back in listing order (a barrier proves the overlap without timing anything)."""

from __future__ import annotations

import base64
import threading
from typing import Any

from dataflow_gitops.fabric.gateway import FabricGateway
from dataflow_gitops.pipeline.model import LiveItem

PLATFORM = b'{"metadata": {"type": "Dataflow", "displayName": "X"}, "config": {"logicalId": "%s"}}'


class _SlowClient:
    """Answers getDefinition only once ``width`` calls are in flight together."""

    def __init__(self, width: int) -> None:
        self.together = threading.Barrier(width, timeout=10)
        self.in_flight = 0
        self.most = 0
        self._lock = threading.Lock()

    def get_definition(self, workspace_id: str, item_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            self.together.wait()  # raises BrokenBarrierError if the reads were sequential
        finally:
            with self._lock:
                self.in_flight -= 1
        platform = PLATFORM % item_id.encode()
        return [
            {
                "path": ".platform",
                "payload": base64.b64encode(platform).decode(),
                "payloadType": "InlineBase64",
            },
            {
                "path": "mashup.pq",
                "payload": base64.b64encode(b"section S;").decode(),
                "payloadType": "InlineBase64",
            },
        ]


def test_definitions_are_read_concurrently_and_bounded_in_listing_order() -> None:
    client = _SlowClient(width=4)
    gateway = FabricGateway(client, concurrency=4)  # type: ignore[arg-type]
    items = [LiveItem(f"00000000-0000-4000-8000-{n:012d}", "Dataflow", f"D{n}") for n in range(1, 9)]
    read: list[str] = []
    live = gateway.read_dataflows(
        "ws", [*items, LiveItem("lh", "Lakehouse", "L")], on_read=lambda d: read.append(d.id)
    )
    assert [d.id for d in live] == [i.id for i in items]  # listing order, Lakehouse skipped
    assert [d.logical_id for d in live] == [i.id for i in items]
    assert sorted(read) == sorted(i.id for i in items)
    assert client.most == 4  # four at a time, never more
