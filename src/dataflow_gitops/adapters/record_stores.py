"""⑦ apply, afterwards: where DeploymentRecords live — annotated git tags, or a JSON-lines file.

:func:`open_store` picks one for a project: tags when the project is inside a git repository
with at least one commit, the file otherwise.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dataflow_gitops.errors import RecordError
from dataflow_gitops.pipeline.release.records import (
    RECORDS_DIR,
    DeploymentRecord,
    RecordStore,
    check_environment_name,
    record_from_json,
    record_to_json,
)

TAG_PREFIX = "dfg"
_STAMP = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")
_MAX_SUFFIX = 1000
# for-each-ref output: one entry per tag, fields split by NUL; the entry marker cannot occur in
# a tag message git accepted (NUL is refused there).
_ENTRY = "\x00\x00"
_FORMAT = "%00%00%(refname:strip=2)%00%(objecttype)%00%(contents)"


def open_store(root: Path) -> RecordStore:
    """Git tags when ``root`` is in a git repository with a commit, else the records file."""
    try:
        store = GitTagRecords(root)
    except RecordError:
        return FileRecords(root)
    return store if store.has_commits() else FileRecords(root)


def git_user_name(root: Path) -> str | None:
    """git's ``user.name`` for ``root`` (None outside git or when unset): an actor fallback."""
    try:
        import git
    except ImportError:
        return None
    if not root.is_dir():
        return None
    try:
        name = git.Git(root).config("--get", "user.name")
    except git.GitCommandError:
        return None
    return str(name).strip() or None


class FileRecords:
    """Records as JSON lines in ``<root>/.dataflow-gitops/records/<env>.jsonl`` (outside git)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, environment: str) -> Path:
        return self.root / RECORDS_DIR / f"{check_environment_name(environment)}.jsonl"

    def write(self, record: DeploymentRecord) -> str:
        path = self.path(record.environment)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(record_to_json(record) + "\n")
        except OSError as exc:
            raise RecordError(
                f"cannot write the deployment record: {exc.strerror}",
                where=str(path),
                hint="check the directory's permissions",
            ) from None
        return str(path)

    def history(self, environment: str) -> tuple[DeploymentRecord, ...]:
        path = self.path(environment)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return ()
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordError(
                f"cannot read deployment records: {exc}",
                where=str(path),
                hint="delete or repair the file",
            ) from None
        records = [
            record_from_json(line, source=f"{path}:{number}")
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ]
        return tuple(reversed(records))

    def latest(self, environment: str) -> DeploymentRecord | None:
        records = self.history(environment)
        return records[0] if records else None


class GitTagRecords:
    """Records as annotated tags ``dfg/<env>/<yyyymmddThhmmssZ>[-N]`` on the deployed commit."""

    def __init__(self, root: Path) -> None:
        try:
            import git
        except ImportError as exc:  # gitpython refuses to import without a git executable
            raise RecordError(f"git is not usable: {exc}", hint="install git") from None
        # Only git commands, no Repo object: nothing (like a cat-file process) to close later.
        if not root.is_dir():
            raise RecordError("no such directory", where=str(root), hint="check --project")
        self.git = git.Git(root)
        try:
            self.root = Path(self.git.rev_parse("--show-toplevel"))
        except git.GitCommandError:
            raise RecordError(
                "not inside a git work tree", where=str(root), hint="use file records outside git"
            ) from None

    def has_commits(self) -> bool:
        import git

        try:
            self.git.rev_parse("--verify", "-q", "HEAD^{commit}")
        except git.GitCommandError:
            return False
        return True

    def write(self, record: DeploymentRecord) -> str:
        import git

        env = check_environment_name(record.environment)
        if not record.commit:
            raise RecordError(
                "the deployed commit is unknown, so no tag can mark it",
                where=f"environment {env}",
                hint="use file records for this apply",
            )
        try:
            self.git.rev_parse("--verify", "-q", f"{record.commit}^{{commit}}")
        except git.GitCommandError:
            raise RecordError(
                f"commit {record.commit} is not in this repository",
                where=str(self.root),
                hint="fetch it first",
            ) from None
        stamp = _stamp(record.time)
        taken = {name for name, _, _ in self._tags(env)}
        message = (
            f"dataflow-gitops: {env} at {record.commit[:12]}, "
            f"{len(record.items)} dataflow(s)\n\n{record_to_json(record)}\n"
        )
        for suffix in range(1, _MAX_SUFFIX):
            name = f"{TAG_PREFIX}/{env}/{stamp}" + ("" if suffix == 1 else f"-{suffix}")
            if name in taken:
                continue
            try:
                self._tag(name, record.commit, message, record.actor)
            except git.GitCommandError as exc:
                if "already exists" in str(exc.stderr):  # another run took it meanwhile
                    continue
                raise RecordError(
                    f"git tag failed: {_first_line(exc.stderr)}",
                    where=name,
                    hint="check that the repository is writable",
                ) from None
            return name
        raise RecordError(
            "no free tag name", where=f"{TAG_PREFIX}/{env}/{stamp}", hint="remove old record tags"
        )

    def history(self, environment: str) -> tuple[DeploymentRecord, ...]:
        env = check_environment_name(environment)
        records = []
        for name, kind, contents in self._tags(env):
            if kind != "tag":
                raise RecordError(
                    "not an annotated tag, so it holds no record",
                    where=f"tag {name}",
                    hint=f"delete it: git tag -d {name}",
                )
            _, _, body = contents.partition("\n\n")
            records.append(record_from_json(body.strip(), source=f"tag {name}"))
        return tuple(records)

    def latest(self, environment: str) -> DeploymentRecord | None:
        records = self.history(environment)
        return records[0] if records else None

    def _tags(self, env: str) -> list[tuple[str, str, str]]:
        """(name, object type, message) of the environment's record tags, newest first."""
        output = self.git.for_each_ref(
            f"--format={_FORMAT}", f"refs/tags/{TAG_PREFIX}/{env}/", strip_newline_in_stdout=False
        )
        found: list[tuple[tuple[str, int], tuple[str, str, str]]] = []
        for entry in output.split(_ENTRY)[1:]:
            name, kind, contents = (entry.split("\x00", 2) + ["", ""])[:3]
            match = _STAMP.match(name.rsplit("/", 1)[-1])
            if match is None:
                raise RecordError(
                    "the tag name has no UTC time stamp",
                    where=f"tag {name}",
                    hint=f"rename or delete it: git tag -d {name}",
                )
            found.append(((match[1], int(match[2] or 1)), (name, kind, contents)))
        return [tag for _, tag in sorted(found, reverse=True)]

    def _tag(self, name: str, commit: str, message: str, actor: str) -> None:
        # The message goes through a file: a record of many dataflows outgrows one argv string.
        with tempfile.TemporaryDirectory(prefix="dfg-record-") as tmp:
            path = Path(tmp) / "message"
            path.write_text(message, encoding="utf-8")
            self.git.tag(
                "-a",
                "--no-sign",
                "--cleanup=verbatim",
                "-F",
                str(path),
                name,
                commit,
                env=self._identity(actor),
            )

    def _identity(self, actor: str) -> dict[str, Any]:
        """CI checkouts often have no git user; a tag needs a tagger, so fall back to the actor."""
        import git

        try:
            self.git.var("GIT_COMMITTER_IDENT")
        except git.GitCommandError:
            return {
                "GIT_COMMITTER_NAME": actor or "dataflow-gitops",
                "GIT_COMMITTER_EMAIL": "dataflow-gitops@localhost",
            }
        return {}


def _stamp(time: str) -> str:
    """``2026-11-28T12:00:00Z`` → ``20261128T120000Z`` (any ISO 8601 time, turned to UTC)."""
    try:
        moment = datetime.fromisoformat(time)
    except ValueError:
        raise RecordError(
            f"record time {time!r} is not ISO 8601", hint="use records.utc_now()"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _first_line(text: Any) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"
