"""The bundled fictitious sample: valid against the model and the JSON Schema, varied, loadable."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

import jsonschema
import pytest

from corpora import schemas
from corpora.loaders.base import LoadReport
from corpora.loaders.sample import (
    SAMPLE_PATH,
    iter_sample_records,
    sample_record_to_document,
)
from corpora.model import RISK_LEVELS, SampleOutcome, record_from_json


@pytest.fixture(scope="module")
def lines() -> list[dict]:
    with SAMPLE_PATH.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_every_line_matches_model_and_schema(lines: list[dict]) -> None:
    schema = schemas.load("dossier.schema.json")
    for obj in lines:
        jsonschema.validate(obj, schema)
        record = record_from_json(obj)
        assert record.dossier.source == "sample"
        assert record.dossier.id.startswith(f"sample:{record.dossier.type}-")
        assert record.dossier.language == "fr"
        SampleOutcome.model_validate(obj["outcome"])


def test_counts_types_and_levels(lines: list[dict]) -> None:
    types = Counter(obj["type"] for obj in lines)
    assert len(lines) >= 36
    assert all(types[t] >= 12 for t in ("pv", "amm", "aec")), types
    assert len({obj["id"] for obj in lines}) == len(lines)
    pv_levels = {obj["outcome"]["risk_level"] for obj in lines if obj["type"] == "pv"}
    assert pv_levels == set(RISK_LEVELS)
    for obj in lines:
        assert obj["outcome"]["risk_level"] in RISK_LEVELS
        assert obj["outcome"]["decision"]


def test_text_is_french_nfc_with_accents(lines: list[dict]) -> None:
    for obj in lines:
        for key in ("title", "text"):
            assert unicodedata.normalize("NFC", obj[key]) == obj[key]
    corpus = " ".join(obj["text"] for obj in lines)
    for word in ("décédé", "hospitalisation", "grossesse", "première administration à l'homme"):
        assert word in corpus


def test_pv_levels_agree_with_ich_e2a_outcomes(lines: list[dict]) -> None:
    for obj in (o for o in lines if o["type"] == "pv"):
        out = obj["outcome"]
        if out["died"] or out["life_threatening"]:
            assert out["risk_level"] == "critique", obj["id"]
        elif out["hospitalised"] or out["disability"] or out["congenital_anomaly"]:
            assert out["risk_level"] == "élevé", obj["id"]
        elif out["er_visit"] or out["recovered"] is False:
            assert out["risk_level"] == "modéré", obj["id"]
        else:
            assert out["risk_level"] == "faible", obj["id"]


def test_traps_are_present(lines: list[dict]) -> None:
    texts = {obj["id"]: obj["text"] for obj in lines}
    negated = [i for i, t in texts.items() if "pas de décès" in t.lower()]
    assert negated
    for i in negated:
        assert next(o for o in lines if o["id"] == i)["outcome"]["died"] is False
    assert any("antécédent familial de décès" in t.lower() for t in texts.values())


def test_loader_counts_and_documents() -> None:
    report = LoadReport(source="sample")
    records = list(iter_sample_records(report=report))
    assert report.read == report.written == len(records) >= 36
    assert not report.skipped
    doc = sample_record_to_document(next(r for r in records if r.dossier.id == "sample:pv-009"))
    assert doc.kind == "case" and doc.source == "sample"
    assert doc.metadata["substances"] == "|levothyroxine sodique|"
    assert doc.metadata["risk_level"] == "faible"
    assert doc.metadata["serious"] is False
    assert doc.outcome is not None and doc.outcome["decision"]
    assert all(isinstance(v, str | int | float | bool) for v in doc.metadata.values())
    vaccine = sample_record_to_document(next(r for r in records if r.dossier.id == "sample:pv-004"))
    assert vaccine.metadata["vaccine_types"] == "|MMR|"
    assert vaccine.metadata["serious"] is True


def test_loader_counts_bad_lines(tmp_path) -> None:
    good = SAMPLE_PATH.read_text(encoding="utf-8").splitlines()[0]
    bad = json.loads(good)
    bad["type"] = "xyz"
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join([good, "{pas du json", json.dumps(bad, ensure_ascii=False)]) + "\n",
                    encoding="utf-8")
    report = LoadReport(source="sample")
    assert len(list(iter_sample_records(path, report))) == 1
    assert report.read == 3 and report.written == 1 and report.skipped_total == 2


