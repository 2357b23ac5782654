"""The one exception tree of dataflow-gitops.

Every error a user can see is a :class:`DataflowGitopsError`. The CLI boundary turns it into one
line, ``<where>: <what> (<hint>)``, and exit code 1; nothing else in the package prints or exits.

::

    DataflowGitopsError
    ├── ConfigError             an overlay or project file is wrong (file:line)
    ├── SourceError             a dataflow folder is wrong (file:line)
    │   ├── MSyntaxError        mashup.pq does not parse (file:line:column)
    │   └── LegacyFormatError   an old definition format; `dfg migrate` converts it
    ├── RenderError             an overlay cannot be applied to a dataflow
    ├── DependencyError         dataflow references that cycle or point nowhere
    ├── PlanError               a plan cannot be made or used
    │   ├── StalePlanError      live items moved since the saved plan was made
    │   └── PlanFileError       a plan file is unreadable, of another version, or tampered
    ├── ApplyError              one or more actions failed (carries every outcome)
    ├── RecordError             deployment records cannot be read or written
    ├── LockedError             another dfg run holds the environment (names who)
    ├── StoppedError            a call not made, or a wait cut short, after Ctrl-C / SIGTERM
    ├── UnsafePathError         a write would leave its folder (a symlink out) or the OS refused it
    ├── GitHubError             the GitHub / Azure Repos API refused a comment (`dfg comment`)
    └── FabricError             talking to Fabric failed
        ├── AuthError           no token could be acquired
        ├── TransportError      connection failures and timeouts, after retries
        ├── FabricApiError      the service answered with an error body
        │   ├── BadRequest (400), Unauthorized (401), Forbidden (403), NotFound (404),
        │   ├── Conflict (409), Throttled (429), ServerError (5xx)
        ├── OperationFailed     a long-running operation ended Failed
        ├── OperationTimeout    a long-running operation or job did not finish in time
        └── JobFailed           a job instance ended Failed or Cancelled

Each error builds its message in ``__init__`` and keeps its data as attributes, so callers
branch on fields, never on text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DataflowGitopsError(Exception):
    """Root of every error the tool raises on purpose.

    ``where`` names the place (``path:line``, a dataflow, an environment); ``hint`` says what to do.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            # A hint with parentheses of its own follows a semicolon: "(a (b))" reads badly.
            nested = "(" in self.hint or ")" in self.hint
            text = f"{text}; {self.hint}" if nested else f"{text} ({self.hint})"
        # One line, always: user input (YAML keys, names) may smuggle line breaks into a message.
        return text.replace("\r", "\\r").replace("\n", "\\n")


def _location(path: str | None, line: int | None, column: int | None = None) -> str | None:
    if path is None:
        return None
    if line is None:
        return path
    return f"{path}:{line}" if column is None else f"{path}:{line}:{column}"


class ConfigError(DataflowGitopsError):
    """An environment overlay or project settings file is invalid."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        super().__init__(message, where=_location(path, line), hint=hint)


class SourceError(DataflowGitopsError):
    """A dataflow folder or one of its parts is invalid."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        super().__init__(message, where=_location(path, line, column), hint=hint)


class MSyntaxError(SourceError):
    """A Power Query M document does not parse."""


class LegacyFormatError(SourceError):
    """A dataflow folder uses a definition format older than formatVersion 202502."""


class RenderError(DataflowGitopsError):
    """An environment overlay cannot be applied to a dataflow (unknown parameter, bad value...)."""

    def __init__(
        self,
        message: str,
        *,
        dataflow: str | None = None,
        hint: str | None = None,
        where: str | None = None,
    ) -> None:
        self.dataflow = dataflow
        super().__init__(message, where=where or dataflow, hint=hint)


class DependencyError(DataflowGitopsError):
    """Dataflow-to-dataflow references form a cycle or name no dataflow."""

    def __init__(
        self,
        message: str,
        *,
        cycle: Sequence[str] = (),
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.cycle = tuple(cycle)
        super().__init__(message, where=where, hint=hint)


class PlanError(DataflowGitopsError):
    """A plan cannot be made, read or applied."""


class StalePlanError(PlanError):
    """Live items changed after the saved plan was made; applying it would overwrite them."""

    def __init__(self, items: Sequence[str], *, where: str | None = None) -> None:
        self.items = tuple(items)
        super().__init__(
            f"live state changed since the plan was made for: {', '.join(self.items)}",
            where=where,
            hint="run `dfg plan` again and review the new plan",
        )


class PlanFileError(PlanError):
    """A plan file cannot be read: not JSON, wrong format version, schema violation."""

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, where=path, hint=hint)


class ApplyError(DataflowGitopsError):
    """Some actions of an apply failed; ``result`` holds every action's outcome."""

    def __init__(
        self,
        message: str,
        *,
        result: Any = None,
        where: str | None = None,
        hint: str = "fix the cause and run apply again; completed actions are not repeated",
    ) -> None:
        self.result = result
        super().__init__(message, where=where, hint=hint)


class RecordError(DataflowGitopsError):
    """Deployment records cannot be read or written."""


class LockedError(DataflowGitopsError):
    """Another dfg run is writing to the same environment; ``holder`` says who, when known."""

    def __init__(self, message: str, *, holder: str = "", where: str | None = None) -> None:
        self.holder = holder
        super().__init__(
            message,
            where=where,
            hint="wait for it to finish and run again; if no dfg is running there, delete the lock file",
        )


class StoppedError(DataflowGitopsError):
    """Ctrl-C or SIGTERM came: this call was not sent, or this wait was cut short. Inside an
    apply it marks the action (not started, or in flight: its state unknown)."""


class UnsafePathError(DataflowGitopsError):
    """A file write was refused: it would go through a symlink out of its folder, or the OS
    refused it (a name too long, no permission)."""


class FabricError(DataflowGitopsError):
    """Talking to the Fabric API failed."""


class AuthError(FabricError):
    """No access token could be acquired (the message never contains a secret)."""


class TransportError(FabricError):
    """The request never got an answer: connection refused or dropped, timeout; after retries."""

    def __init__(self, message: str, *, method: str, url: str, hint: str | None = None) -> None:
        self.method = method
        self.url = url
        super().__init__(message, where=f"{method} {url}", hint=hint)


class FabricApiError(FabricError):
    """The service answered with an error status and (usually) an ErrorResponse body."""

    status_code: int = 0

    def __init__(
        self,
        *,
        status: int,
        error_code: str,
        message: str,
        method: str,
        url: str,
        request_id: str | None = None,
        more_details: Sequence[dict[str, Any]] = (),
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.api_message = message
        self.method = method
        self.url = url
        self.request_id = request_id
        self.more_details = tuple(more_details)
        text = f"{status} {error_code}: {message}"
        if request_id:
            text += f" [requestId {request_id}]"
        super().__init__(text, where=f"{method} {url}", hint=hint)


class BadRequest(FabricApiError):
    status_code = 400


class Unauthorized(FabricApiError):
    status_code = 401


class Forbidden(FabricApiError):
    status_code = 403


class NotFound(FabricApiError):
    status_code = 404


class Conflict(FabricApiError):
    status_code = 409


class Throttled(FabricApiError):
    status_code = 429


class ServerError(FabricApiError):
    status_code = 500


class OperationFailed(FabricError):
    """A long-running operation ended in state Failed."""

    def __init__(
        self,
        *,
        operation_id: str,
        error_code: str,
        message: str,
        more_details: Sequence[dict[str, Any]] = (),
        where: str | None = None,
    ) -> None:
        self.operation_id = operation_id
        self.error_code = error_code
        self.api_message = message
        self.more_details = tuple(more_details)
        super().__init__(f"operation {operation_id} failed: {error_code}: {message}", where=where)


class OperationTimeout(FabricError):
    """A long-running operation or job was still running when its deadline passed."""


class JobFailed(FabricError):
    """A job instance ended Failed or Cancelled; ``failure_reason`` is the service's ErrorResponse."""

    def __init__(
        self,
        *,
        job_id: str,
        status: str,
        failure_reason: dict[str, Any] | None,
        where: str | None = None,
    ) -> None:
        self.job_id = job_id
        self.status = status
        self.failure_reason = failure_reason
        reason = ""
        if failure_reason:
            reason = f": {failure_reason.get('errorCode', '')}: {failure_reason.get('message', '')}"
        super().__init__(f"job {job_id} ended {status}{reason}", where=where)


class GitHubError(DataflowGitopsError):
    """The GitHub REST API refused or failed a request (``dfg comment``); ``status`` 0: no answer."""

    def __init__(
        self, message: str, *, status: int, method: str, url: str, hint: str | None = None
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        super().__init__(message, where=f"GitHub {method} {url}", hint=hint)
