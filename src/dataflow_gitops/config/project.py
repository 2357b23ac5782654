"""Project settings (config layer): ``dataflow-gitops.yaml`` (optional) → :class:`Project`.

The project file names the folders, the promotion order and overlay defaults every environment
starts from. Without it, the defaults are ``dataflows/`` and ``environments/``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from dataflow_gitops.config.schema import PROJECT_SCHEMA, validate
from dataflow_gitops.config.yamlpos import Located, load_yaml
from dataflow_gitops.errors import ConfigError
from dataflow_gitops.utf8 import decode_text

PROJECT_FILE = "dataflow-gitops.yaml"
OVERLAY_SUFFIXES = (".yaml", ".yml")
# An environment name becomes a git tag component (dfg/<env>/…), a file name (records, locks) and
# a CLI argument: letters, digits, '.', '_', '-', starting with a letter or digit (so never an
# option like `-dash` nor a hidden file like `.hidden`).
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ENV_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class Project:
    """A repository of dataflows and environment overlays."""

    root: Path
    dataflows_dir: str = "dataflows"
    environments_dir: str = "environments"
    promotion_order: tuple[str, ...] = ()
    defaults: Located | None = field(default=None, compare=False)
    """The ``defaults:`` block with its positions (environments merge it beneath themselves)."""
    settings_bytes: bytes = field(default=b"", repr=False, compare=False)

    @property
    def dataflows_path(self) -> Path:
        return self.root / self.dataflows_dir

    @property
    def environments_path(self) -> Path:
        return self.root / self.environments_dir

    def display(self, path: Path) -> str:
        """A path as errors show it: relative to the project root when inside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def inside_project(folder: str) -> bool:
    """Whether a configured folder names a place inside the project, by the rules of every
    system: ``C:/data``, ``C:data``, ``\\\\server\\share`` and ``..\\up`` leave it on Windows."""
    windows = PureWindowsPath(folder)
    escapes = ".." in windows.parts or ".." in PurePosixPath(folder).parts
    return not (windows.drive or windows.root or PurePosixPath(folder).is_absolute() or escapes)


def load_project(root: Path) -> Project:
    """Read ``<root>/dataflow-gitops.yaml`` if present; raise ConfigError (file:line) if invalid."""
    root = root.resolve()
    settings = root / PROJECT_FILE
    if not settings.is_file():
        return Project(root=root)
    data = _read(settings, PROJECT_FILE)
    doc = load_yaml(decode_text(data, path=PROJECT_FILE, error=ConfigError), path=PROJECT_FILE)
    if doc.value is None:
        return Project(root=root, settings_bytes=data)
    if not isinstance(doc.value, dict):
        raise ConfigError(
            "project settings must be a mapping of keys to values",
            path=PROJECT_FILE,
            line=1,
            hint="see docs/overlay-reference.md",
        )
    validate(doc, PROJECT_SCHEMA)
    value: dict[str, Any] = doc.value
    for key in ("dataflows_dir", "environments_dir"):
        folder = value.get(key)
        if folder is not None and not inside_project(folder):
            raise ConfigError(
                f"{key} must be a folder inside the project", path=PROJECT_FILE, line=doc.line((key,))
            )
    defaults = None
    if "defaults" in value:
        defaults = Located(
            value["defaults"],
            PROJECT_FILE,
            {p[1:]: n for p, n in doc.value_lines.items() if p[:1] == ("defaults",)},
            {p[1:]: n for p, n in doc.key_lines.items() if p[:1] == ("defaults",)},
        )
    return Project(
        root=root,
        dataflows_dir=value.get("dataflows_dir", "dataflows"),
        environments_dir=value.get("environments_dir", "environments"),
        promotion_order=tuple(value.get("promotion_order", ())),
        defaults=defaults,
        settings_bytes=data,
    )


def environment_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an environment (None when it can).

    Beyond the characters: git refuses ``..`` and a trailing ``.lock`` or ``.`` in a ref, so such
    an environment would deploy and then fail to record the deployment.
    """
    if not _ENV_NAME.fullmatch(name):
        return "use letters, digits, '.', '_' and '-', starting with a letter or digit"
    if ".." in name or name.endswith((".lock", ".")):
        return "git refuses '..' and a trailing '.lock' or '.' in a tag name"
    if len(name) > _ENV_NAME_MAX:
        return f"at most {_ENV_NAME_MAX} characters"
    return None


def _overlay_files(project: Project) -> list[Path]:
    folder = project.environments_path
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in OVERLAY_SUFFIXES)


def environment_names(project: Project) -> tuple[str, ...]:
    """Every usable overlay's name (file stem): the promotion order first, then the rest by name.

    Files whose name cannot be an environment are left out (``dfg validate`` reports them), so
    one stray ``environments/.hidden.yaml`` cannot break the plans of every other environment.
    """
    found = sorted({p.stem for p in _overlay_files(project) if not environment_name_problem(p.stem)})
    ordered = [n for n in project.promotion_order if n in found]
    return tuple(ordered + [n for n in found if n not in ordered])


def environment_problems(project: Project) -> list[ConfigError]:
    """Overlay files that cannot be environments: a bad name, or two names that are one on a
    case-insensitive system (Fabric, Windows and macOS see ``Prod`` and ``prod`` as the same)."""
    problems: list[ConfigError] = []
    by_folded: dict[str, list[Path]] = {}
    for file in _overlay_files(project):
        problem = environment_name_problem(file.stem)
        if problem is not None:
            problems.append(
                ConfigError(
                    f"{file.stem!r} cannot be an environment name",
                    path=project.display(file),
                    hint=f"rename the file: {problem}",
                )
            )
        else:
            by_folded.setdefault(file.stem.casefold(), []).append(file)
    for files in by_folded.values():
        if len(files) > 1:
            shown = ", ".join(project.display(f) for f in files)
            problems.append(
                ConfigError(
                    f"{len(files)} overlays name one environment: {shown}",
                    path=project.display(files[0]),
                    hint="environment names are compared ignoring case (and .yaml/.yml); keep one file",
                )
            )
    return problems


def overlay_path(project: Project, name: str) -> Path:
    """The overlay file of environment ``name``; ConfigError with the closest name if none, or
    when the name is unusable or ambiguous (see :func:`environment_problems`)."""
    problem = environment_name_problem(name)
    if problem is not None:
        raise ConfigError(f"{name!r} cannot be an environment name", hint=problem)
    files = _overlay_files(project)
    same = [f for f in files if f.stem.casefold() == name.casefold()]
    if len(same) > 1:
        shown = ", ".join(project.display(f) for f in same)
        raise ConfigError(
            f"environment {name!r} is ambiguous: {shown}",
            path=project.display(project.environments_path),
            hint="environment names are compared ignoring case (and .yaml/.yml); keep one file",
        )
    # Exactly as spelled: on a case-insensitive disk `Prod.yaml` would open `prod.yaml`, and
    # its records would go to another tag prefix than prod's.
    exact = [f for f in same if f.stem == name]
    if exact:
        return exact[0]
    known = environment_names(project)
    close = difflib.get_close_matches(name, known, n=1)
    hint = (
        f"did you mean {close[0]!r}?"
        if close
        else (
            f"known environments: {', '.join(known)}"
            if known
            else f"create {project.environments_dir}/{name}.yaml"
        )
    )
    raise ConfigError(
        f"no environment {name!r}", path=project.display(project.environments_path), hint=hint
    )


def _read(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=shown) from None
