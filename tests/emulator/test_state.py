"""The emulator's rules without HTTP: State, definitions, the M checker and parameter discovery,
operation and job state machines, paging, quota and fault rules."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from emulator_samples import BROKEN_MASHUP, GOOD_MASHUP, b64, dataflow_definition, platform, unb64

from fabric_emulator.errors import EmulatorError
from fabric_emulator.faults import FaultRule, Faults
from fabric_emulator.lro import Operation
from fabric_emulator.mashup import MashupSyntaxError, parameters, parse_section
from fabric_emulator.paging import page
from fabric_emulator.quota import Quota
from fabric_emulator.state import State


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> State:
    return State(clock)


@pytest.fixture
def ws(state: State) -> str:
    return state.create_workspace("Dev").id


def error_code(excinfo: pytest.ExceptionInfo[EmulatorError]) -> tuple[int, str]:
    return excinfo.value.status, excinfo.value.error_code


def make(state: State, ws: str, name: str, **kwargs: object) -> str:
    body = {"displayName": name, "type": "Dataflow", "definition": dataflow_definition(name, **kwargs)}
    return state.create_item(ws, body).id


def test_names_unique_per_workspace_and_type_ignoring_case(state, ws) -> None:
    make(state, ws, "Orders")
    with pytest.raises(EmulatorError) as excinfo:
        make(state, ws, "ORDERS")
    assert error_code(excinfo) == (400, "ItemDisplayNameAlreadyInUse")
    state.create_item(ws, {"displayName": "Orders", "type": "Lakehouse"})
    other_ws = state.create_workspace("Test").id
    make(state, other_ws, "Orders")
    assert len(state.list_items(ws)) == 2


def test_unknown_item_and_workspace(state, ws) -> None:
    with pytest.raises(EmulatorError) as excinfo:
        state.item(ws, "00000000-0000-0000-0000-00000000abcd")
    assert error_code(excinfo) == (404, "ItemNotFound")
    with pytest.raises(EmulatorError) as excinfo:
        state.list_items("00000000-0000-0000-0000-00000000abcd")
    assert error_code(excinfo) == (404, "WorkspaceNotFound")


def test_item_of_another_workspace_is_not_found(state, ws) -> None:
    item = make(state, ws, "Orders")
    other = state.create_workspace("Other").id
    with pytest.raises(EmulatorError):
        state.item(other, item)


@pytest.mark.parametrize("path", ["../x", "/x", "a\\b", "a/../b", "", "C:x", "a//b"])
def test_part_paths_validated(state, ws, path) -> None:
    definition = dataflow_definition("X")
    definition["parts"].append({"path": path, "payload": b64("x"), "payloadType": "InlineBase64"})
    with pytest.raises(EmulatorError) as excinfo:
        state.create_item(ws, {"displayName": "X", "type": "Dataflow", "definition": definition})
    assert error_code(excinfo) == (400, "InvalidDefinitionParts")


def test_nested_relative_part_path_is_fine(state, ws) -> None:
    definition = dataflow_definition("X")
    definition["parts"].append(
        {"path": "sub/a.mdf", "payload": b64("{}"), "payloadType": "InlineBase64"}
    )
    item = state.create_item(ws, {"displayName": "X", "type": "Dataflow", "definition": definition})
    assert [p.path for p in item.parts] == ["queryMetadata.json", "mashup.pq", "sub/a.mdf"]


def test_corrupted_payload_and_bad_platform(state, ws) -> None:
    definition = dataflow_definition("X")
    definition["parts"][1]["payload"] = "not base64!"
    with pytest.raises(EmulatorError) as excinfo:
        state.create_item(ws, {"displayName": "X", "type": "Dataflow", "definition": definition})
    assert error_code(excinfo) == (400, "CorruptedPayload")
    definition = dataflow_definition("X")
    definition["parts"].append(
        {"path": ".platform", "payload": b64("[1]"), "payloadType": "InlineBase64"}
    )
    with pytest.raises(EmulatorError) as excinfo:
        state.create_item(ws, {"displayName": "X", "type": "Dataflow", "definition": definition})
    assert error_code(excinfo) == (400, "InvalidPlatformFile")


def test_dataflow_without_definition_gets_an_empty_section(state, ws) -> None:
    item = state.create_item(ws, {"displayName": "Empty", "type": "Dataflow"})
    files = {p["path"] for p in state.get_definition(ws, item.id)["definition"]["parts"]}
    assert files == {"queryMetadata.json", "mashup.pq", ".platform"}
    assert parse_section(item.part("mashup.pq").text()).members == ()


def test_logical_id_generated_kept_and_unique(state, ws) -> None:
    generated = state.item(ws, make(state, ws, "A")).logical_id
    assert generated != "00000000-0000-0000-0000-000000000000"
    item_id = make(state, ws, "B", with_platform=True, logical_id="11111111-1111-1111-1111-111111111111")
    state.update_definition(
        ws,
        item_id,
        dataflow_definition("B", with_platform=True, logical_id=generated),
        update_metadata=True,
    )
    assert state.item(ws, item_id).logical_id == "11111111-1111-1111-1111-111111111111"
    with pytest.raises(EmulatorError) as excinfo:
        make(state, ws, "C", with_platform=True, logical_id="11111111-1111-1111-1111-111111111111")
    assert error_code(excinfo) == (400, "InvalidPlatformFile")
    zero = make(state, ws, "D", with_platform=True, logical_id="00000000-0000-0000-0000-000000000000")
    assert state.item(ws, zero).logical_id != "00000000-0000-0000-0000-000000000000"


def test_update_definition_metadata_only_with_flag(state, ws) -> None:
    item_id = make(state, ws, "A")
    definition = dataflow_definition("A2", with_platform=True, description="desc")
    state.update_definition(ws, item_id, definition, update_metadata=False)
    assert state.item(ws, item_id).display_name == "A"
    state.update_definition(ws, item_id, definition, update_metadata=True)
    item = state.item(ws, item_id)
    assert (item.display_name, item.description) == ("A2", "desc")
    parts = state.get_definition(ws, item_id)["definition"]["parts"]
    platform_doc = json.loads(unb64(next(p["payload"] for p in parts if p["path"] == ".platform")))
    assert platform_doc["metadata"]["displayName"] == "A2"


def test_update_definition_replaces_the_whole_definition(state, ws) -> None:
    definition = dataflow_definition("A")
    definition["parts"].append({"path": "t.mdf", "payload": b64("{}"), "payloadType": "InlineBase64"})
    item_id = state.create_item(
        ws, {"displayName": "A", "type": "Dataflow", "definition": definition}
    ).id
    state.update_definition(ws, item_id, dataflow_definition("A"), update_metadata=False)
    assert [p.path for p in state.item(ws, item_id).parts] == ["queryMetadata.json", "mashup.pq"]


def test_folders_tree_listing_and_delete_rules(state, ws) -> None:
    top = state.create_folder(ws, "Top")
    child = state.create_folder(ws, "Child", top.id)
    with pytest.raises(EmulatorError) as excinfo:
        state.create_folder(ws, "top")
    assert error_code(excinfo) == (400, "FolderDisplayNameAlreadyInUse")
    item_id = make(state, ws, "A")
    state.move_item(ws, item_id, child.id)
    assert [i.id for i in state.list_items(ws, root_folder_id=top.id)] == [item_id]
    assert state.list_items(ws, root_folder_id=top.id, recursive=False) == []
    assert [f.id for f in state.list_folders(ws, top.id, recursive=True)] == [child.id]
    with pytest.raises(EmulatorError) as excinfo:
        state.delete_folder(ws, top.id)
    assert error_code(excinfo) == (400, "FolderNotEmpty")
    state.move_item(ws, item_id, "")
    state.delete_folder(ws, child.id)
    state.delete_folder(ws, top.id)
    with pytest.raises(EmulatorError) as excinfo:
        state.move_item(ws, item_id, top.id)
    assert error_code(excinfo) == (404, "FolderNotFound")


# -- operations and jobs ------------------------------------------------------------------------
def test_operation_moves_after_n_polls() -> None:
    op = Operation("op", 0.0, 0.0, "Succeeded", polls_needed=2)
    statuses = []
    for _ in range(4):
        op = op.polled(1.0)
        statuses.append(op.status(1.0))
    assert statuses == ["Running", "Running", "Succeeded", "Succeeded"]
    assert Operation("op", 0.0, 0.0, "Succeeded", 0).status(0.0) == "NotStarted"


def test_operation_moves_after_t_seconds_and_stuck_never_moves() -> None:
    op = Operation(
        "op",
        0.0,
        0.0,
        "Failed",
        polls_needed=100,
        seconds_needed=5.0,
        error={"errorCode": "X", "message": "m"},
    )
    assert op.status(4.9) == "NotStarted"
    assert op.status(5.0) == "Failed"
    assert op.to_json(5.0)["error"]["errorCode"] == "X"
    stuck = Operation("op", 0.0, 0.0, "Stuck", polls_needed=0)
    assert stuck.polled(1e9).status(1e9) == "Running"


def test_job_state_machine_on_the_clock(state, ws, clock) -> None:
    item_id = make(state, ws, "A")
    job = state.start_job(ws, item_id, "REFRESH", duration=10.0, outcome="Completed")
    assert job.job_type == "Execute"
    assert state.job(ws, item_id, job.id).to_json(clock())["status"] == "InProgress"
    clock.now += 10
    body = state.job(ws, item_id, job.id).to_json(clock())
    assert body["status"] == "Completed"
    assert body["endTimeUtc"] is not None
    with pytest.raises(EmulatorError) as excinfo:
        state.cancel_job(ws, item_id, job.id)
    assert error_code(excinfo) == (409, "JobAlreadyCompleted")
    running = state.start_job(ws, item_id, "execute", duration=10.0, outcome="Completed")
    state.cancel_job(ws, item_id, running.id)
    clock.now += 100
    assert state.job(ws, item_id, running.id).status(clock()) == "Cancelled"


def test_job_types(state, ws) -> None:
    item_id = make(state, ws, "A")
    assert state.start_job(ws, item_id, "applychanges", 0, "Completed").job_type == "ApplyChanges"
    with pytest.raises(EmulatorError) as excinfo:
        state.start_job(ws, item_id, "DefaultJob", 0, "Completed")
    assert error_code(excinfo) == (400, "InvalidJobType")
    lake = state.create_item(ws, {"displayName": "L", "type": "Lakehouse"}).id
    assert state.start_job(ws, lake, "defaultjob", 0, "Completed").job_type == "DefaultJob"


def test_apply_changes_fails_for_broken_m_and_passes_for_good_m(state, ws, clock) -> None:
    broken = make(state, ws, "Broken", mashup=BROKEN_MASHUP)
    job = state.start_job(ws, broken, "ApplyChanges", 0, "Completed")
    assert job.status(clock()) == "Failed"
    assert "does not parse" in job.failure["message"]
    good = make(state, ws, "Good", mashup=GOOD_MASHUP)
    assert state.start_job(ws, good, "ApplyChanges", 0, "Completed").status(clock()) == "Completed"


def test_result_rules(state) -> None:
    op = state.add_operation("Succeeded", 0)
    state.poll_operation(op.id)
    with pytest.raises(EmulatorError) as excinfo:
        state.operation_result(op.id)
    assert error_code(excinfo) == (400, "OperationHasNoResult")
    pending = state.add_operation("Succeeded", 3, result={"a": 1})
    with pytest.raises(EmulatorError) as excinfo:
        state.operation_result(pending.id)
    assert error_code(excinfo) == (400, "OperationNotSucceeded")


# -- the M checker and parameters -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        'section S;\nshared A = "unterminated;\n',
        "section S;\nshared A = (1;\n",
        "section S;\nshared A = 1);\n",
        "section S;\nshared A = {1, [a = 2};\n",
        "shared A = 1;\n",
        "section S;\nshared A = 1\n",
        "section S;\nshared A = /* open comment;\n",
        "section S;\nA = 1;\n",
        "section S;\nshared = 1;\n",
        "section S;\nshared A = ;\n",
    ],
)
def test_checker_rejects(text) -> None:
    with pytest.raises(MashupSyntaxError):
        parse_section(text)


def test_checker_accepts_real_shapes() -> None:
    text = (
        '[StagingDefinition = [Kind = "FastCopy"]]\nsection Section1;\n'
        '[DataDestinations = {[Definition = [Kind = "Reference", QueryName = "T_DataDestination"]]}]\n'
        'shared T = let a = "x;"" // not a comment", b = {1, (2)} // ; comment\n in a;\n'
        'shared #"Quoted ""name""" = /* ; */ 1;\n'
        '[ItemType = "MDF"]\nshared #"MDF transform" = "___ExternalResource-Placeholder___";\n'
    )
    doc = parse_section(text)
    assert doc.section == "Section1"
    assert [m.name for m in doc.members] == ["T", 'Quoted "name"', "MDF transform"]


def test_parameters_typed() -> None:
    text = (
        "section S;\n"
        'shared P1 = "a" meta [IsParameterQuery = true, Type = "Text",\n'
        "    IsParameterQueryRequired = false];\n"
        "shared P2 = 3.5 meta [IsParameterQuery = true, Type = type number,\n"
        "    IsParameterQueryRequired = true];\n"
        "shared P3 = 7 meta [IsParameterQuery = true, Type = type number];\n"
        "shared P4 = true meta [IsParameterQuery = true, Type = type logical];\n"
        "shared P5 = #date(2025, 9, 15) meta [IsParameterQuery = true, Type = type date];\n"
        "shared P6 = #datetime(2025, 9, 15, 21, 45, 0)\n"
        "    meta [IsParameterQuery = true, Type = type datetime];\n"
        "shared P7 = #duration(5, 21, 35, 30) meta [IsParameterQuery = true, Type = type duration];\n"
        "shared NotParam = 1 meta [IsParameterQuery = false];\n"
        'shared Q = P1 & "x";\n'
    )
    found = {p.name: (p.type, p.default_value, p.is_required) for p in parameters(text)}
    assert found == {
        "P1": ("String", "a", False),
        "P2": ("Number", 3.5, True),
        "P3": ("Integer", 7, False),
        "P4": ("Boolean", True, False),
        "P5": ("Date", "2025-09-15", False),
        "P6": ("DateTime", "2025-09-15T21:45:00.000Z", False),
        "P7": ("Duration", "P5DT21H35M30S", False),
    }


# -- paging, quota, faults ------------------------------------------------------------------------
def test_paging_tokens_roundtrip_and_reject_garbage() -> None:
    values = [{"n": n} for n in range(5)]
    first = page(values, {"type": "Dataflow"}, 2, "http://h", "/v1/x")
    assert first["value"] == [{"n": 0}, {"n": 1}]
    second = page(
        values, {"continuationToken": unquote(first["continuationToken"])}, 2, "http://h", "/x"
    )
    assert second["value"] == [{"n": 2}, {"n": 3}]
    last = page(values, {"continuationToken": unquote(second["continuationToken"])}, 2, "http://h", "/x")
    assert last == {"value": [{"n": 4}]}
    for bad in ("garbage", b64("other:1"), b64("dfe1:-3")):
        with pytest.raises(EmulatorError) as excinfo:
            page(values, {"continuationToken": bad}, 2, "http://h", "/x")
        assert excinfo.value.error_code == "InvalidContinuationToken"


def test_quota_fixed_window() -> None:
    quota = Quota()
    assert [quota.charge("a", 100.0, 2) for _ in range(2)] == [None, None]
    assert quota.charge("a", 110.0, 2) == 50
    assert quota.charge("b", 110.0, 2) is None
    assert quota.charge("a", 160.0, 2) is None
    assert quota.charge("a", 160.0, None) is None


def test_fault_rules_count_and_match() -> None:
    faults = Faults(seed=1)
    faults.add(FaultRule.from_json({"kind": "status", "method": "GET", "path": "/items$", "count": 2}))
    assert faults.take("POST", "/v1/workspaces/w/items", ("status",)) is None
    assert faults.take("GET", "/v1/workspaces/w/items/1", ("status",)) is None
    assert faults.take("GET", "/v1/workspaces/w/items", ("status",)) is not None
    assert faults.take("GET", "/v1/workspaces/w/items", ("lro_fail",)) is None
    assert faults.take("GET", "/v1/workspaces/w/items", ("status",)) is not None
    assert faults.list() == []
    with pytest.raises(EmulatorError):
        FaultRule.from_json({"kind": "status", "path": "("})
    with pytest.raises(EmulatorError):
        FaultRule.from_json({"kind": "status", "count": None})


def test_platform_helper_in_conftest_is_json() -> None:
    assert json.loads(platform("n"))["metadata"]["displayName"] == "n"
