"""Impact classes of a diff: breaking / non-breaking / metadata-only / none."""

from __future__ import annotations

import json

import pytest

from dataflow_gitops.pipeline.definition.parts import fingerprint
from dataflow_gitops.pipeline.model import DesiredDataflow, Impact, LiveDataflow, LiveItem, Part
from dataflow_gitops.pipeline.plan.diff import diff_dataflow
from dataflow_gitops.pipeline.plan.impact import assess, most_severe

DESTINATION = (
    '[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "Orders_DataDestination", '
    'IsNewTarget = true], Settings = [Kind = "Automatic", TypeSettings = [Kind = "Table"]]]}]\n'
)
MASHUP = (
    """section Section1;
shared DaysBack = 30 meta [IsParameterQuery = true, IsParameterQueryRequired = false, Type = type any];
shared Region = "EU" meta [IsParameterQuery = true, Type = type text];
"""
    + DESTINATION
    + """shared Orders = let
  Source = Table.FromRows({{1, DaysBack}}, {"A", "B"})
in
  Source;
shared Orders_DataDestination = let
  Pattern = Lakehouse.Contents([CreateNavigationProperties = false, EnableFolding = false]),
  Navigation_1 = Pattern{[workspaceId = "ws-1"]}[Data],
  Navigation_2 = Navigation_1{[lakehouseId = "lh-1"]}[Data],
  TableNavigation = Navigation_2{[Id = "Orders", ItemKind = "Table"]}?[Data]?
in
  TableNavigation;
shared Helper = 1;
"""
)

METADATA = {
    "formatVersion": "202502",
    "name": "Sales",
    "queriesMetadata": {
        "orders": {"queryId": "q1", "queryName": "Orders"},
        "Helper": {"queryId": "q2", "queryName": "Helper", "loadEnabled": False},
    },
}


def _parts(mashup: str, metadata: object) -> tuple[Part, ...]:
    return (
        Part("mashup.pq", mashup.encode()),
        Part("queryMetadata.json", json.dumps(metadata).encode()),
    )


def desired(
    mashup: str = MASHUP, metadata: object = METADATA, display_name: str = "Sales", description: str = ""
) -> DesiredDataflow:
    parts = _parts(mashup, metadata)
    return DesiredDataflow(
        "Sales",
        display_name,
        description,
        "L1",
        parts,
        fingerprint(parts, display_name=display_name, description=description),
    )


def live() -> LiveDataflow:
    parts = _parts(MASHUP, METADATA)
    return LiveDataflow(
        LiveItem("id-1", "Dataflow", "Sales"),
        "L1",
        parts,
        fingerprint(parts, display_name="Sales", description=""),
    )


def _metadata(**changes: object) -> dict[str, object]:
    meta = json.loads(json.dumps(METADATA))
    for query, value in changes.items():
        meta["queriesMetadata"][query]["loadEnabled"] = value
    return meta


CASES = [
    ("unchanged", desired(), Impact.NONE, ()),
    ("renamed-only", desired(display_name="Sales v2"), Impact.METADATA_ONLY, ()),
    ("description-only", desired(description="about"), Impact.METADATA_ONLY, ()),
    (
        "body-change",
        desired(MASHUP.replace("{{1, DaysBack}}", "{{2, DaysBack}}")),
        Impact.NON_BREAKING,
        (),
    ),
    ("parameter-value", desired(MASHUP.replace('"EU"', '"US"')), Impact.NON_BREAKING, ()),
    ("query-added", desired(MASHUP + "shared New = 2;\n"), Impact.NON_BREAKING, ()),
    (
        "destination-settings",
        desired(MASHUP.replace('Kind = "Automatic"', 'Kind = "Manual"')),
        Impact.NON_BREAKING,
        (),
    ),
    ("load-enabled-on", desired(metadata=_metadata(Helper=True)), Impact.NON_BREAKING, ()),
    (
        "query-removed",
        desired(MASHUP.replace("shared Helper = 1;\n", "")),
        Impact.BREAKING,
        ('query "Helper" removed or renamed',),
    ),
    (
        "query-renamed",
        desired(MASHUP.replace("shared Helper =", "shared Helper2 =")),
        Impact.BREAKING,
        ('query "Helper" removed or renamed',),
    ),
    (
        "parameter-type",
        desired(
            MASHUP.replace(
                '"EU" meta [IsParameterQuery = true, Type = type text]',
                "1 meta [IsParameterQuery = true, Type = type number]",
            )
        ),
        Impact.BREAKING,
        ('parameter "Region" type changed from text to number',),
    ),
    (
        "parameter-removed",
        desired(MASHUP.replace('"EU" meta [IsParameterQuery = true, Type = type text]', '"EU"')),
        Impact.BREAKING,
        ('parameter "Region" removed',),
    ),
    (
        "destination-removed",
        desired(MASHUP.replace(DESTINATION, "")),
        Impact.BREAKING,
        ('data destination of query "Orders" removed',),
    ),
    (
        "destination-target",
        desired(MASHUP.replace('"lh-1"', '"lh-2"')),
        Impact.BREAKING,
        ('data destination of query "Orders" changed target',),
    ),
    (
        "output-disabled",
        desired(metadata=_metadata(orders=False)),
        Impact.BREAKING,
        ('query "Orders" is no longer loaded (loadEnabled false)',),
    ),
]


@pytest.mark.parametrize(("case", "new", "impact", "reasons"), CASES, ids=[c[0] for c in CASES])
def test_impact_classes(
    case: str, new: DesiredDataflow, impact: Impact, reasons: tuple[str, ...]
) -> None:
    old = live()
    diff = diff_dataflow(new, old)
    result = assess(diff, new, old)
    assert result.impact is impact, case
    assert result.reasons == reasons


def test_create_and_delete() -> None:
    # A create changes nothing that exists: no impact class (the outputs say "new").
    assert assess(diff_dataflow(desired(), None), desired(), None).impact is Impact.NONE
    assert assess(None, None, live()).reasons == ("dataflow deleted",)
    assert assess(None, None, live()).impact is Impact.BREAKING


def test_unparsable_mashup_is_classified_from_the_diff_alone() -> None:
    broken = desired("section S; shared = ;")
    assert assess(diff_dataflow(broken, live()), broken, live()).impact is Impact.NON_BREAKING


@pytest.mark.parametrize(
    ("impacts", "expected"),
    [
        ([], Impact.NONE),
        ([Impact.NONE, Impact.METADATA_ONLY], Impact.METADATA_ONLY),
        ([Impact.NON_BREAKING, Impact.METADATA_ONLY, Impact.NONE], Impact.NON_BREAKING),
        ([Impact.NONE, Impact.BREAKING, Impact.NON_BREAKING], Impact.BREAKING),
    ],
)
def test_most_severe(impacts: list[Impact], expected: Impact) -> None:
    assert most_severe(impacts) is expected


def test_a_comment_next_to_a_destination_query_is_not_a_target_change() -> None:
    from dataflow_gitops.pipeline.definition.mlang import parse_section
    from dataflow_gitops.pipeline.plan.impact import _destination_reasons

    text = (
        "section Section1;\n"
        '[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "T_DataDestination", '
        'IsNewTarget = true], Settings = [Kind = "Automatic", TypeSettings = [Kind = "Table"]]]}]\n'
        "shared T = 1;\n"
        'shared T_DataDestination = Lakehouse.Contents([]){[workspaceId = "w"]}[Data];\n'
    )
    commented = text + "// a note at the end of the document\n"
    assert _destination_reasons(parse_section(text), parse_section(commented)) == []
    moved = text.replace('"w"', '"other"')
    assert _destination_reasons(parse_section(text), parse_section(moved)) == [
        'data destination of query "T" changed target'
    ]
