"""CI log dialects (CLI support layer): errors and markdown → GitHub / Azure Pipelines commands.

GitHub Actions reads *workflow commands* from the step's output (``::group::``,
``::error file=…,line=…::message``) and appends ``$GITHUB_STEP_SUMMARY`` to the job page;
Azure Pipelines reads *logging commands* (``##[group]``, ``##vso[task.logissue …]``). Outside
CI every function here is a no-op, so commands can call them unconditionally.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from dataflow_gitops.errors import ConfigError, DataflowGitopsError, SourceError

CiSystem = Literal["github", "azure", "none"]
Level = Literal["error", "warning", "notice"]
TITLE = "dfg"


def detect(environ: Mapping[str, str] | None = None) -> CiSystem:
    """Which CI system runs this process, from the variables each one always sets."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        return "github"
    if env.get("TF_BUILD", "").lower() == "true":
        return "azure"
    return "none"


@dataclass(frozen=True, slots=True)
class Annotation:
    """One problem pinned to a file line in the CI's UI (line and column are 1-based)."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    level: Level = "error"
    title: str = TITLE


def annotation_for(error: DataflowGitopsError, *, path_prefix: str = "") -> Annotation:
    """The annotation of one error: file and line when it knows them, else the whole message."""
    if isinstance(error, ConfigError | SourceError) and error.path:
        column = error.column if isinstance(error, SourceError) else None
        text = error.message if error.hint is None else f"{error.message} ({error.hint})"
        return Annotation(text, _join(path_prefix, error.path), error.line, column)
    return Annotation(error.render())


def format_annotation(annotation: Annotation, system: CiSystem) -> str | None:
    """The log line that raises ``annotation`` in ``system`` (None outside CI)."""
    if system == "github":
        props = [
            ("file", annotation.file),
            ("line", annotation.line),
            ("col", annotation.column),
            ("title", annotation.title),
        ]
        shown = ",".join(f"{k}={_gh_property(str(v))}" for k, v in props if v is not None)
        return f"::{annotation.level} {shown}::{_gh_data(annotation.message)}"
    if system == "azure":
        kind = "error" if annotation.level == "error" else "warning"
        props = [
            ("type", kind),
            ("sourcepath", annotation.file),
            ("linenumber", annotation.line),
            ("columnnumber", annotation.column),
        ]
        shown = "".join(f"{k}={_vso_property(str(v))};" for k, v in props if v is not None)
        return f"##vso[task.logissue {shown}]{_vso_data(annotation.message)}"
    return None


def annotate_errors(
    errors: Iterable[DataflowGitopsError],
    *,
    project: Path | None = None,
    environ: Mapping[str, str] | None = None,
    stream: IO[str] | None = None,
) -> int:
    """Raise a CI annotation per error (``dfg validate`` calls this); return how many were written.

    Paths in errors are relative to the project; CI systems want them relative to the checkout,
    so a project below the checkout root (``dfg -C sub/dir``) gets that prefix.
    """
    env = os.environ if environ is None else environ
    system = detect(env)
    if system == "none":
        return 0
    prefix = _checkout_prefix(project, env, system)
    out = stream or sys.stdout
    count = 0
    for error in errors:
        line = format_annotation(annotation_for(error, path_prefix=prefix), system)
        if line is not None:
            out.write(line + "\n")
            count += 1
    out.flush()
    return count


@contextlib.contextmanager
def group(
    title: str, *, environ: Mapping[str, str] | None = None, stream: IO[str] | None = None
) -> Iterator[None]:
    """A collapsible section of the CI log around the ``with`` body (nothing outside CI)."""
    system = detect(environ)
    out = stream or sys.stdout
    start, end = {
        "github": (f"::group::{_gh_data(title)}", "::endgroup::"),
        "azure": (f"##[group]{title}", "##[endgroup]"),
        "none": ("", ""),
    }[system]
    if start:
        out.write(start + "\n")
        out.flush()
    try:
        yield
    finally:
        if end:
            out.write(end + "\n")
            out.flush()


def write_step_summary(markdown: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Append ``markdown`` to GitHub's job summary; False when there is none or it is unwritable.

    GitHub caps one step's summary at 1 MiB, far above a budgeted plan, so no trimming here.
    """
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n\n")
    except OSError:
        return False
    return True


def _checkout_prefix(project: Path | None, env: Mapping[str, str], system: CiSystem) -> str:
    root = env.get("GITHUB_WORKSPACE") if system == "github" else env.get("BUILD_SOURCESDIRECTORY")
    if project is None or not root:
        return ""
    try:
        relative = project.resolve().relative_to(Path(root).resolve())
    except ValueError:
        return ""
    return "" if relative == Path(".") else relative.as_posix()


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


# Escaping as the runners decode it (actions/toolkit command.ts, azure-pipelines-task-lib).
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _vso_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _vso_property(text: str) -> str:
    return _vso_data(text).replace(";", "%3B").replace("]", "%5D")
