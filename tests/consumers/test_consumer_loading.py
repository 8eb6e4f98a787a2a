"""Consumer files: what loads, and every bad record named by file, line, id and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geotrigger.consumers import Daypart, load_consumers
from geotrigger.errors import ConsumerError

WALKER = {
    "id": "consumer-walker",
    "devices": ["walker"],
    "timezone": "Europe/Helsinki",
    "consent": {"location_marketing": True, "analytics": False},
    "segments": ["tea-lovers"],
    "traits": {"first_name": "Aino", "loyalty_tier": "gold", "age": 34, "has_app": True},
    "affinities": {"tea": 0.6, "coffee": 0.4},
    "dayparts": {"afternoon": {"green-tea": 1.0, "coffee": -0.5}},
}


def jsonl(tmp_path: Path, *records: object, name: str = "consumers.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def failure(paths: object) -> str:
    with pytest.raises(ConsumerError) as caught:
        load_consumers(paths)  # type: ignore[arg-type]
    return str(caught.value)


def test_the_documented_record_loads_with_every_field(tmp_path: Path) -> None:
    directory = load_consumers(jsonl(tmp_path, WALKER))
    walker = directory.get("consumer-walker")
    assert walker is not None and len(directory) == 1
    assert walker.devices == frozenset({"walker"}) and walker.segments == {"tea-lovers"}
    assert walker.timezone == "Europe/Helsinki" and walker.consents_to("location_marketing")
    assert not walker.consents_to("analytics") and walker.traits["age"] == 34
    assert walker.affinities.weight("coffee", Daypart.AFTERNOON) == (-0.5, "afternoon")
    assert walker.affinities.weight("coffee", Daypart.MORNING) == (0.4, "base")


def test_yaml_and_jsonl_in_a_folder_load_together(tmp_path: Path) -> None:
    jsonl(tmp_path, "# comments and blank lines are skipped", "", WALKER)
    (tmp_path / "more.yaml").write_text(
        "version: 1\nconsumers:\n  - id: c-2\n    devices: [phone-2]\n    affinities: {tea: -1}\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not a consumer file", encoding="utf-8")
    directory = load_consumers([tmp_path])
    assert sorted(c.id for c in directory) == ["c-2", "consumer-walker"]
    assert directory.for_device("phone-2") is directory.get("c-2")


def test_a_yaml_file_without_consumers_is_an_empty_directory(tmp_path: Path) -> None:
    path = tmp_path / "none.yml"
    path.write_text("version: 1\nconsumers: []\n", encoding="utf-8")
    assert len(load_consumers(path)) == 0


BAD_JSONL = [
    # a misspelt field, with the field it was meant to be
    (
        {"id": "c1", "segmnets": []},
        "consumer 'c1' in",
        "unknown field 'segmnets' (did you mean 'segments'?)",
    ),
    # a weight outside [-1, 1]
    (
        {"id": "c1", "affinities": {"tea": 1.5}},
        "consumer 'c1' in",
        "weight of 'tea' must be a number in [-1, 1]",
    ),
    # a daypart weight outside [-1, 1], named with its daypart
    (
        {"id": "c1", "dayparts": {"evening": {"beer": -2}}},
        "consumer 'c1' in",
        "weight of evening.'beer' must be a number in [-1, 1], got -2",
    ),
    # a boolean is not a weight, even though Python counts it as a number
    (
        {"id": "c1", "affinities": {"tea": True}},
        "consumer 'c1' in",
        "weight of 'tea' must be a number",
    ),
    # a misspelt daypart
    (
        {"id": "c1", "dayparts": {"afternon": {"tea": 1}}},
        "consumer 'c1' in",
        "unknown daypart 'afternon' (did you mean 'afternoon'?)",
    ),
    # a time zone spelt wrong, with the zone it was meant to be
    (
        {"id": "c1", "timezone": "Europe/Helsinky"},
        "consumer 'c1' in",
        "unknown time zone 'Europe/Helsinky' (did you mean 'Europe/Helsinki'?)",
    ),
    # consent is yes or no, not a word
    (
        {"id": "c1", "consent": {"analytics": "yes"}},
        "consumer 'c1' in",
        "'analytics' must be true or false",
    ),
    # a trait must be a plain value
    (
        {"id": "c1", "traits": {"kids": [1, 2]}},
        "consumer 'c1' in",
        "'kids' must be a string, a finite number",
    ),
    # segments are a list, not one string
    (
        {"id": "c1", "segments": "tea-lovers"},
        "consumer 'c1' in",
        "field 'segments': must be a list of strings",
    ),
    # a device that is not a string
    (
        {"id": "c1", "devices": ["ok", 7]},
        "consumer 'c1' in",
        "field 'devices': item 1 must be a non-empty",
    ),
    # no id at all: the line still names the record
    ({"devices": []}, "consumer in", "field 'id' is required"),
    # an id that is not a string
    ({"id": 12}, "consumer in", "field 'id': must be a non-empty string, got int"),
    # a line that is not JSON
    ("{oops", "consumer in", "not valid JSON"),
    # a line that is JSON but not an object
    ("[1, 2]", "consumer in", "expected an object, got list"),
]


@pytest.mark.parametrize(("record", "who", "reason"), BAD_JSONL)
def test_a_bad_jsonl_record_is_named_by_file_line_and_id(
    tmp_path: Path, record: object, who: str, reason: str
) -> None:
    path = jsonl(tmp_path, WALKER, record)
    message = failure(path)
    assert f"{who} {path} line 2: " in message and reason in message
    assert message.count(f"{path} line 2") == 1  # the good record on line 1 is not blamed


def test_every_bad_record_is_listed_in_one_error(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"id": "a", "tz": "UTC"}, WALKER, {"id": "b", "affinities": 3})
    message = failure(path)
    assert message.startswith("consumer: 2 error(s)")
    assert f"'a' in {path} line 1: unknown field 'tz'" in message
    assert f"'b' in {path} line 3: field 'affinities': must be a mapping" in message


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = jsonl(tmp_path, WALKER, {"id": "other"}, {"id": "consumer-walker"})
    message = failure(path)
    assert f"'consumer-walker' in {path} line 3: duplicate consumer id" in message
    assert f"(first at {path} line 1)" in message


def test_a_device_claimed_twice_is_named_by_position_never_by_id(tmp_path: Path) -> None:
    path = jsonl(tmp_path, WALKER, {"id": "c2", "devices": ["mine", "walker"]})
    message = failure(path)
    assert f"'c2' in {path} line 2: field 'devices': item 1 is also claimed" in message
    assert f"consumer 'consumer-walker' ({path} line 1)" in message
    assert "'walker'" not in message  # the raw device id stays out of messages


def test_yaml_errors_point_at_the_line_of_the_field(tmp_path: Path) -> None:
    path = tmp_path / "consumers.yaml"
    path.write_text(
        "version: 1\n"
        "consumers:\n"
        "  - id: c1\n"
        "    devices: [d1]\n"
        "    dayparts:\n"
        "      evenin: {tea: 1}\n"
        "  - id: c2\n"
        "    timezone: Mars/Olympus\n",
        encoding="utf-8",
    )
    message = failure(path)
    assert f"'c1' in {path} line 5: field 'dayparts': unknown daypart 'evenin'" in message
    assert f"'c2' in {path} line 8: field 'timezone': unknown time zone" in message


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        # the version is required, so that the format can change later
        ("consumers: []\n", 1, "'version' must be 1, got none"),
        # a misspelt top-level key
        ("version: 1\nconsumer: []\n", 2, "unknown key 'consumer' (did you mean 'consumers'?)"),
        # consumers must be a list
        ("version: 1\nconsumers: {id: c1}\n", 2, "'consumers' must be a list"),
        # YAML that does not parse names its line
        ("version: 1\nconsumers: [\n  - id: c1\n", 3, "not valid YAML"),
    ],
)
def test_a_bad_yaml_document_is_named(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "consumers.yaml"
    path.write_text(text, encoding="utf-8")
    message = failure(path)
    assert f"{path} line {line}: " in message and reason in message


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        # a path that does not exist
        ("missing.jsonl", "no such file or folder"),
        # a file of another kind
        ("consumers.csv", "unknown file type"),
        # a folder without consumer files
        ("empty", "folder has no consumer files"),
    ],
)
def test_bad_paths_are_named(tmp_path: Path, name: str, reason: str) -> None:
    (tmp_path / "consumers.csv").write_text("id\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    message = failure([tmp_path / name])
    assert f"in {tmp_path / name}: {reason}" in message
