"""Generated bad environment overlays → ``dfg apply --auto-approve`` refuses: exit 1, one error
line, no traceback, and not one write reaches the API.

Every generated overlay is bad by construction (an unknown key, a wrong type for a known key, a
parameter no dataflow declares, an unset ``${env:…}``, or broken YAML), so refusing is the only
right answer."""

from __future__ import annotations

import string

import yaml
from fuzz_support import ENV, TOKEN_ENV, WS, Harness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KNOWN_KEYS = (
    "workspace_id",
    "workspace_name",
    "api",
    "auth",
    "parameters",
    "bindings",
    "dataflows",
    "scope",
    "display_name",
    "replace",
    "set",
    "ignore",
    "protected",
    "prune",
    "promote_from",
)
MAPPING_KEYS = ("auth", "parameters", "bindings", "dataflows", "scope", "prune")
SCALAR_KEYS = ("workspace_id", "api", "display_name", "promote_from")
FUZZ = settings(
    max_examples=110,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

identifiers = st.text(string.ascii_letters + "_", min_size=1, max_size=12)
scalars = st.one_of(st.integers(), st.booleans(), st.text(max_size=20), st.floats(allow_nan=False))
lists = st.lists(scalars, min_size=1, max_size=3)
mappings = st.dictionaries(identifiers, scalars, min_size=1, max_size=3)


def base(url: str) -> dict[str, object]:
    return {
        "workspace_id": WS,
        "api": url,
        "auth": {"method": "token", "token_env": TOKEN_ENV},
    }


@st.composite
def bad_overlays(draw: st.DrawFn, url: str) -> str:
    doc = base(url)
    family = draw(
        st.sampled_from(
            ["unknown", "mapping-type", "scalar-type", "parameter", "env", "yaml", "nested-unknown"]
        )
    )
    if family == "unknown":
        key = draw(identifiers.filter(lambda k: k not in KNOWN_KEYS))
        doc[key] = draw(st.one_of(scalars, lists, mappings))
    elif family == "mapping-type":
        doc[draw(st.sampled_from(MAPPING_KEYS))] = draw(
            st.one_of(lists, st.integers(), st.text(min_size=1))
        )
    elif family == "scalar-type":
        doc[draw(st.sampled_from(SCALAR_KEYS))] = draw(st.one_of(lists, mappings))
    elif family == "parameter":
        name = draw(identifiers.filter(lambda k: k not in ("ServerName", "DatabaseName")))
        doc["parameters"] = {name: draw(scalars)}
    elif family == "env":
        doc["workspace_id"] = (
            "${env:DFG_FUZZ_UNSET_" + draw(st.text(string.ascii_uppercase, min_size=1, max_size=8)) + "}"
        )
    elif family == "nested-unknown":
        doc["auth"] = {**base(url)["auth"], draw(identifiers.filter(lambda k: "_" not in k)): "x"}  # type: ignore[dict-item]
    else:
        text = yaml.safe_dump(doc)
        junk = draw(st.text(max_size=40))
        # An unclosed flow sequence never parses, whatever follows it.
        return text + f"parameters: [{junk.replace(']', '')}\n"
    return yaml.safe_dump(doc, allow_unicode=True)


@settings(parent=FUZZ)
@given(data=st.data())
def test_bad_overlay_is_refused_without_writes(harness: Harness, data: st.DataObject) -> None:
    text = data.draw(bad_overlays(harness.url))
    (harness.root / "environments" / f"{ENV}.yaml").write_text(text, encoding="utf-8")

    line = harness.check_refused("apply", "-e", ENV, "--auto-approve")

    assert f"{ENV}.yaml" in line  # names the overlay file


@settings(parent=FUZZ, max_examples=40)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_as_overlay_are_refused(harness: Harness, raw: bytes) -> None:
    # Prefixed so that no byte string can happen to be a usable overlay.
    (harness.root / "environments" / f"{ENV}.yaml").write_bytes(b"workspace_id: [\n" + raw)

    harness.check_refused("plan", "-e", ENV)
