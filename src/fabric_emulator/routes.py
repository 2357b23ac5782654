"""Routes (moto's urls.py): (method, path template) → handler, one line per emulated Fabric endpoint.
Matching is starlette's (`{name}` is one path segment); a route with item type "Dataflow" serves the
/dataflows alias. Operation URLs are served with and without /v1 (the spec's examples show both)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import Match
from starlette.routing import Route as StarletteRoute

from fabric_emulator.exchange import Ctx, Reply
from fabric_emulator.handlers import (
    definitions,
    folders,
    items,
    jobs,
    operations,
    schedules,
    workspaces,
)

Handler = Callable[[Ctx], Reply]
WS = "/v1/workspaces/{ws}"
DF = "Dataflow"
SCHEDULE = WS + "/items/{item}/jobs/{jobType}/schedules/{schedule}"


class Route(StarletteRoute):
    """A starlette route whose endpoint is a handler (never called as ASGI), for one method."""

    def __init__(
        self, method: str, template: str, handler: Handler, item_type: str | None = None
    ) -> None:
        super().__init__(template, handler, methods=[method])
        self.method = method
        self.handler = handler
        self.item_type = item_type


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/workspaces", workspaces.list_workspaces),
    Route("POST", "/v1/workspaces", workspaces.create_workspace),
    Route("GET", WS, workspaces.get_workspace),
    Route("GET", WS + "/folders", folders.list_folders),
    Route("POST", WS + "/folders", folders.create_folder),
    Route("GET", WS + "/folders/{folder}", folders.get_folder),
    Route("PATCH", WS + "/folders/{folder}", folders.update_folder),
    Route("DELETE", WS + "/folders/{folder}", folders.delete_folder),
    Route("POST", WS + "/folders/{folder}/move", folders.move_folder),
    Route("GET", WS + "/items", items.list_items),
    Route("POST", WS + "/items", items.create_item),
    Route("GET", WS + "/items/{item}", items.get_item),
    Route("PATCH", WS + "/items/{item}", items.update_item),
    Route("DELETE", WS + "/items/{item}", items.delete_item),
    Route("POST", WS + "/items/{item}/move", folders.move_item),
    Route("POST", WS + "/items/{item}/getDefinition", definitions.get_definition),
    Route("POST", WS + "/items/{item}/updateDefinition", definitions.update_definition),
    Route("POST", WS + "/items/{item}/jobs/instances", jobs.run_job),
    Route("GET", WS + "/items/{item}/jobs/instances", jobs.list_jobs),
    Route("GET", WS + "/items/{item}/jobs/instances/{job}", jobs.get_job),
    Route("POST", WS + "/items/{item}/jobs/instances/{job}/cancel", jobs.cancel_job),
    Route("POST", WS + "/items/{item}/jobs/{jobType}/instances", jobs.run_job),
    Route("GET", WS + "/items/{item}/jobs/{jobType}/schedules", schedules.list_schedules),
    Route("POST", WS + "/items/{item}/jobs/{jobType}/schedules", schedules.create_schedule),
    Route("GET", SCHEDULE, schedules.get_schedule),
    Route("PATCH", SCHEDULE, schedules.update_schedule),
    Route("DELETE", SCHEDULE, schedules.delete_schedule),
    Route("GET", WS + "/dataflows", items.list_items, DF),
    Route("POST", WS + "/dataflows", items.create_item, DF),
    Route("GET", WS + "/dataflows/{item}", items.get_item, DF),
    Route("PATCH", WS + "/dataflows/{item}", items.update_item, DF),
    Route("DELETE", WS + "/dataflows/{item}", items.delete_item, DF),
    Route("POST", WS + "/dataflows/{item}/getDefinition", definitions.get_definition, DF),
    Route("POST", WS + "/dataflows/{item}/updateDefinition", definitions.update_definition, DF),
    Route("GET", WS + "/dataflows/{item}/parameters", definitions.discover_parameters, DF),
    Route("POST", WS + "/dataflows/{item}/jobs/instances", jobs.run_job, DF),
    Route("POST", WS + "/dataflows/{item}/jobs/{jobType}/instances", jobs.run_job, DF),
    Route("POST", WS + "/dataflows/{item}/jobs/{jobType}/schedules", schedules.create_schedule, DF),
    Route("GET", "/v1/operations/{op}", operations.get_operation),
    Route("GET", "/v1/operations/{op}/result", operations.get_operation_result),
    Route("GET", "/operations/{op}", operations.get_operation),
    Route("GET", "/operations/{op}/result", operations.get_operation_result),
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None | list[str]:
    """The route and its path parameters; the methods the path allows when only the method is
    wrong (for a 405's `Allow`); None if the path is unknown."""
    scope = {"type": "http", "method": method, "path": path.rstrip("/") or "/"}
    allowed: list[str] = []
    for route in ROUTES:
        found, child = route.matches(scope)
        if found is Match.FULL and route.method == method:
            return route, dict(child["path_params"])
        if found is not Match.NONE and route.method not in allowed:
            allowed.append(route.method)
    return allowed or None
