from pathlib import Path

from codeflow_contracts import MESSAGE_TYPES, UserCreated
from codeflow_contracts.__main__ import _default_schema_dir, main
from codeflow_contracts.schemas import envelope_json_schema, export_schemas

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def contents(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in directory.glob("*.json")}


def test_the_committed_schemas_match_the_models(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    expected, committed = contents(tmp_path), contents(SCHEMAS_DIR)

    missing = sorted(expected.keys() - committed.keys())
    extra = sorted(committed.keys() - expected.keys())
    differing = sorted(
        name for name in expected.keys() & committed.keys() if expected[name] != committed[name]
    )
    assert (missing, extra, differing) == ([], [], []), (
        "schemas are stale: run `make contracts` "
        f"(missing: {missing}, extra: {extra}, differing: {differing})"
    )


def test_there_is_one_schema_file_per_message_type(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)

    assert sorted(path.name for path in written) == sorted(f"{t}.json" for t in MESSAGE_TYPES)


def test_exporting_twice_writes_the_same_bytes(tmp_path: Path) -> None:
    export_schemas(tmp_path / "first")
    export_schemas(tmp_path / "second")

    assert contents(tmp_path / "first") == contents(tmp_path / "second")


def test_exporting_removes_schemas_of_types_that_no_longer_exist(tmp_path: Path) -> None:
    (tmp_path / "codeflow.user.renamed.v1.json").write_text("{}\n")
    (tmp_path / "unrelated.json").write_text("{}\n")

    export_schemas(tmp_path)

    assert not (tmp_path / "codeflow.user.renamed.v1.json").exists()
    assert (tmp_path / "unrelated.json").exists()


def test_a_schema_describes_the_whole_envelope_with_its_type_pinned() -> None:
    schema = envelope_json_schema(UserCreated)

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["type"]["const"] == "codeflow.user.created.v1"
    assert set(schema["required"]) == {"id", "source", "type", "time", "subject", "data"}
    assert "auth.user-events" in schema["description"]
    assert schema["$defs"]["UserCreated"]["properties"]["github_id"]["description"]


def test_the_command_line_exports_into_the_directory_it_is_given(
    tmp_path: Path,
) -> None:
    status = main(["export-schemas", str(tmp_path)])

    assert status == 0
    assert (tmp_path / "codeflow.user.created.v1.json").is_file()


def test_the_command_line_exports_into_the_committed_directory_by_default() -> None:
    assert _default_schema_dir() == SCHEMAS_DIR
