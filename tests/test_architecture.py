"""The import arrows of DESIGN §3, enforced on the AST rather than by review.

cli → api → {pipeline, fabric}; fabric.gateway → pipeline.ports/model; pipeline never imports
httpx, msal or dataflow_gitops.fabric; dataflow_gitops never imports fabric_emulator, and
fabric_emulator never imports dataflow_gitops.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package.replace(".", "/")).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(package):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "dataflow_gitops.pipeline",
            (
                "httpx",
                "msal",
                "dataflow_gitops.fabric",
                "dataflow_gitops.cli",
                "dataflow_gitops.api",
                "click",
                "rich",
            ),
        ),
        ("dataflow_gitops.fabric", ("dataflow_gitops.cli", "dataflow_gitops.api", "click")),
        ("dataflow_gitops", ("fabric_emulator",)),
        ("fabric_emulator", ("dataflow_gitops",)),
        # Service facts both packages read (the Windows time zone ids): a leaf of neither.
        ("fabric_time_zones", ("dataflow_gitops", "fabric_emulator")),
    ],
)
def test_import_arrows(package: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(package, forbidden) == []


def test_fabric_touches_pipeline_only_through_gateway() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules("dataflow_gitops.fabric")
        if path.name != "gateway.py"
        for name in _imports(path)
        if name.startswith("dataflow_gitops.pipeline")
    ]
    assert offenders == []


def test_cli_reaches_fabric_only_through_api() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules("dataflow_gitops.cli")
        for name in _imports(path)
        if name.startswith(("dataflow_gitops.fabric", "httpx", "msal"))
    ]
    assert offenders == []


# pipeline/ is pure: side effects live in adapters behind the ports ---------------------------

_WRITING_METHODS = {
    "write_text",
    "write_bytes",
    "unlink",
    "mkdir",
    "rmdir",
    "touch",
    "symlink_to",
    "hardlink_to",
    "create_tag",
    "delete_tag",
    "create_head",
}
# dataflow_gitops.confined: the one way files are written (inside their folder).
_CONFINED_WRITES = {"write_inside", "make_dirs_inside"}
_GIT_WRITES = {"tag", "commit", "push", "add", "update_ref", "notes", "reset", "checkout"}


def _write_mode(call: ast.Call, position: int) -> bool:
    mode: ast.expr | None = call.args[position] if len(call.args) > position else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return False
    if not isinstance(mode, ast.Constant) or not isinstance(mode.value, str):
        return True  # a computed mode may write: not in pipeline/
    return any(c in mode.value for c in "wax+")


def _side_effects(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        where = f"{path.relative_to(SRC)}:{node.lineno}"
        if isinstance(func, ast.Name) and func.id == "open" and _write_mode(node, 1):
            found.append(f"{where} open(…) for writing")
        elif isinstance(func, ast.Name) and func.id in _CONFINED_WRITES:
            found.append(f"{where} {func.id}()")
        elif isinstance(func, ast.Attribute):
            if func.attr in _WRITING_METHODS:
                found.append(f"{where} .{func.attr}()")
            elif func.attr == "open" and _write_mode(node, 0):
                found.append(f"{where} .open(…) for writing")
            elif (
                func.attr in _GIT_WRITES
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "git"
            ):
                found.append(f"{where} git {func.attr}")
    return found


def test_pipeline_has_no_side_effects() -> None:
    imports = _violations("dataflow_gitops.pipeline", ("subprocess", "sqlite3", "multiprocessing"))
    writes = [found for path in _modules("dataflow_gitops.pipeline") for found in _side_effects(path)]
    assert imports + writes == []


def test_the_side_effect_check_sees_writes() -> None:
    sample = SRC / "dataflow_gitops" / "adapters" / "files.py"
    assert any("write_inside()" in f for f in _side_effects(sample))
    stores = SRC / "dataflow_gitops" / "adapters" / "record_stores.py"
    assert _side_effects(stores)


# layers import each other one way ---------------------------------------------------------------


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "dataflow_gitops" or len(parts) < 2:
        return None
    return parts[1]


def _layer_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    package = SRC / "dataflow_gitops"
    for path in _modules("dataflow_gitops"):
        relative = path.relative_to(package)
        own = relative.parts[0].removesuffix(".py")
        if own == "__init__":
            continue
        names = set(_imports(path))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # `from dataflow_gitops import api`: the names are the modules imported
            if isinstance(node, ast.ImportFrom) and node.module == "dataflow_gitops":
                names.update(f"dataflow_gitops.{alias.name}" for alias in node.names)
        targets = {_layer(name) for name in names}
        graph.setdefault(own, set()).update(t for t in targets if t and t != own)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle between layers, as a path (empty when there is none)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_layers_have_no_import_cycles() -> None:
    graph = _layer_graph()
    assert {"config", "pipeline", "fabric", "adapters", "cli"} <= set(graph)
    assert _cycle(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_config_is_below_pipeline() -> None:
    assert _violations("dataflow_gitops.config", ("dataflow_gitops.pipeline",)) == []


# pipeline/ keeps one cache: the source stage's ---------------------------------------------------

# What a stage derives from a part travels with the part (pipeline.model.Derived); the one
# process-wide cache is the source stage's, which interns the parts every snapshot reads.
THE_ONE_CACHE = Path("dataflow_gitops/pipeline/definition/source_cache.py")
_CACHING_DECORATORS = {"cache", "lru_cache"}
_CONTAINERS = {
    "dict",
    "list",
    "set",
    "OrderedDict",
    "defaultdict",
    "deque",
    "WeakKeyDictionary",
    "WeakValueDictionary",
}
# TextMemo keeps each answer on the document it was asked of, not in itself.
_STATELESS = {"TextMemo"}
# Tables of a fixed size, filled on first use, whose keys are code rather than content.
_FIXED_TABLES = {"_NODE_FIELDS"}  # mlang/nodes.py: one entry per syntax-node class


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _module_caches(path: Path) -> list[str]:
    return _caches_in(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))


def _caches_in(source: str, where: str) -> list[str]:
    """Module-level state that remembers answers: a caching decorator on a function of
    arguments, an empty container, or an instance of a ``…Cache`` / ``…Memo`` class."""
    found = []
    for node in ast.parse(source).body:
        at = f"{where}:{node.lineno}"
        if isinstance(node, ast.FunctionDef):
            arguments = node.args
            takes = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            cached = [d for d in node.decorator_list if _name(d) in _CACHING_DECORATORS]
            if cached and (takes or arguments.vararg or arguments.kwarg):
                found.append(f"{at} @{_name(cached[0])} {node.name}(…)")
            continue
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if value is None or any(_name(t) in _FIXED_TABLES for t in targets if t is not None):
            continue
        empty = isinstance(value, ast.Dict | ast.List | ast.Set) and not (
            value.keys if isinstance(value, ast.Dict) else value.elts
        )
        called = _name(value) if isinstance(value, ast.Call) else ""
        if (
            empty
            or called in _CONTAINERS
            or (called.endswith(("Cache", "Memo")) and called not in _STATELESS)
        ):
            found.append(f"{at} {ast.unparse(node).splitlines()[0]}")
    return found


def test_pipeline_keeps_no_module_level_cache_but_the_source_stages() -> None:
    found = [
        cache
        for path in _modules("dataflow_gitops.pipeline")
        if path.relative_to(SRC) != THE_ONE_CACHE
        for cache in _module_caches(path)
    ]
    assert found == []


def test_the_cache_check_sees_a_cache() -> None:
    assert [c.split(" ", 1)[1] for c in _module_caches(SRC / THE_ONE_CACHE)] == ["FILES = SourceCache()"]
    sample = (
        "import functools\n"
        "@functools.lru_cache(maxsize=9)\ndef f(x): ...\n"
        "@functools.cache\ndef loader(): ...\n"
        "_seen: dict[str, int] = {}\n"
        "TABLE = {'a': 1}\n"
        "_memo = BytesMemo(10)\n"
        "_answers: TextMemo[int] = TextMemo()\n"
    )
    assert [c.split(" ", 1)[0] for c in _caches_in(sample, "m.py")] == ["m.py:3", "m.py:6", "m.py:8"]
