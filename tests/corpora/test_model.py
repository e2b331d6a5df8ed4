"""The pydantic models and the committed JSON Schemas describe the same contracts."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from corpora import schemas
from corpora.model import (
    Hit,
    Record,
    dossier_from_json,
    make_id,
    record_from_json,
    record_to_json,
)

LINE = {
    "id": "vaers:214577",
    "type": "pv",
    "title": "VARICELLA (VARIVAX) : cellulite",
    "text": "Vaccine administered 12/24/03. Patient developed skin rash.",
    "received_at": "2004-01-02",
    "language": "en",
    "source": "vaers",
    "fields": {"patient_age": 29.0, "patient_sex": "F", "vaccine_types": ["VARCEL"], "symptoms": ["Rash"]},
    "outcome": {"died": None, "hospitalised": True, "recovered": None, "er_visit": None},
}


def test_committed_schemas_are_in_sync_with_models() -> None:
    for name, built in schemas.build_schemas().items():
        assert schemas.load(name) == json.loads(schemas.render(built)), f"run `gdr schemas export` ({name})"


def test_schema_carries_version_and_sources() -> None:
    schema = schemas.load("dossier.schema.json")
    assert schema["schema_version"]
    assert "vaers" in schema["x-sources"] and "ansm-interaction" in schema["x-sources"]


def test_a_converted_line_validates_against_model_and_schema() -> None:
    jsonschema.validate(LINE, schemas.load("dossier.schema.json"))
    record = record_from_json(LINE)
    assert record.dossier.fields.patient_sex == "F"
    assert record_to_json(record)["outcome"] == LINE["outcome"]


def test_outcome_is_never_part_of_the_dossier() -> None:
    dossier = dossier_from_json(LINE)
    assert "outcome" not in dossier.model_dump()
    assert not hasattr(dossier, "outcome")


def test_unknown_field_keys_are_refused_by_both() -> None:
    bad = {**LINE, "fields": {"died": True}}
    with pytest.raises(ValidationError):
        record_from_json(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schemas.load("dossier.schema.json"))


def test_blank_strings_become_null() -> None:
    dossier = dossier_from_json({**LINE, "fields": {"medical_history": "  ", "vaccine_types": []}})
    assert dossier.fields.medical_history is None
    assert dossier.fields.vaccine_types is None


def test_ids_need_a_source_prefix() -> None:
    with pytest.raises(ValidationError):
        dossier_from_json({**LINE, "id": "214577"})
    assert make_id("ema-epar", "EMEA/H/C/003870") == "ema-epar:EMEA/H/C/003870"
    with pytest.raises(ValueError):
        make_id("nope", "1")


def test_hit_schema_matches_model() -> None:
    hit = Hit(
        id="vaers:1#0", document_id="vaers:1", source="vaers", kind="case", title="t", score=1.2,
        similarity=0.8, start=0, end=4, excerpt="Fever", outcome=None,
    )
    jsonschema.validate(hit.model_dump(mode="json"), schemas.load("hit.schema.json"))
    with pytest.raises(ValidationError):
        Hit.model_validate({**hit.model_dump(), "similarity": 1.5})


def test_record_is_a_pair() -> None:
    record = record_from_json(LINE)
    assert isinstance(record, Record)
    assert record.outcome is not None and record.outcome["hospitalised"] is True


def test_atomic_writer_leaves_nothing_on_failure_and_normal_permissions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from corpora.io import atomic_writer, write_jsonl

    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write("partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    assert write_jsonl(target, [{"a": "é"}]) == 1
    assert target.read_text(encoding="utf-8") == '{"a":"é"}\n'
    assert target.stat().st_mode & 0o077 != 0  # readable by others as with a plain open()
