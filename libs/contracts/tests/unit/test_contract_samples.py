"""Stored messages must keep parsing: the contracts' backward-compatibility check.

A sample is never edited once committed; a new field or behaviour gets a new sample.
"""

from pathlib import Path

import pytest

from codeflow_contracts import MESSAGE_TYPES, parse_envelope, to_json_bytes

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"
SAMPLES = sorted(SAMPLES_DIR.glob("*/*.json"))


def sample_id(sample: Path) -> str:
    return f"{sample.parent.name}/{sample.name}"


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_a_stored_sample_still_parses_as_the_type_its_directory_names(sample: Path) -> None:
    envelope = parse_envelope(sample.read_bytes())

    assert envelope.type == sample.parent.name
    assert type(envelope.data) is MESSAGE_TYPES[sample.parent.name]


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_a_stored_sample_survives_the_trip_through_json_bytes(sample: Path) -> None:
    envelope = parse_envelope(sample.read_bytes())

    assert parse_envelope(to_json_bytes(envelope)) == envelope


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_a_stored_sample_is_about_the_user_in_its_payload(sample: Path) -> None:
    envelope = parse_envelope(sample.read_bytes())

    assert envelope.subject == envelope.data.user_id


def test_every_registered_message_type_has_a_stored_sample() -> None:
    sampled = {sample.parent.name for sample in SAMPLES}

    assert sorted(set(MESSAGE_TYPES) - sampled) == []


def test_every_sample_directory_names_a_registered_message_type() -> None:
    directories = {path.name for path in SAMPLES_DIR.iterdir() if path.is_dir()}

    assert sorted(directories - set(MESSAGE_TYPES)) == []
