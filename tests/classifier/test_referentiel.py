"""Référentiel: schema, counts, unique codes, references, guideline documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from classifier.extraction import finding_codes
from classifier.referentiel import (
    AXES,
    REFERENTIEL_DIR,
    criteria_for,
    load_referentiel,
    referentiel_documents,
    referentiel_version,
)


def test_version_and_counts() -> None:
    assert referentiel_version() == load_referentiel().meta.version
    for t in ("pv", "amm", "aec"):
        items = criteria_for(t)
        assert len(items) >= 15, t
        assert all(c.code.startswith(t.upper() + "-") for c in items)
        assert {c.axis for c in items} == set(AXES), t  # the three axes are covered


def test_unique_codes_references_and_known_findings() -> None:
    ref = load_referentiel()
    all_codes = [c.code for items in ref.criteria.values() for c in items]
    assert len(all_codes) == len(set(all_codes))
    known = set(finding_codes())
    for c in ref.by_code().values():
        assert c.references and all(r.title and r.section for r in c.references)
        assert c.label and c.description and c.expertises
        stack = [c.detection]
        while stack:
            det = stack.pop()
            assert set(det.findings) <= known, (c.code, set(det.findings) - known)
            stack.extend(det.all_of)


def test_pv_ich_e2a_anchors() -> None:
    by = load_referentiel().by_code()
    assert by["PV-DECES"].effect.floor == "critique"
    assert by["PV-PRONOSTIC-VITAL"].effect.floor == "critique"
    assert by["PV-HOSPITALISATION"].effect.floor == "élevé"
    assert by["PV-URGENCES"].effect.floor == "modéré"


def test_invalid_referentiel_is_rejected(tmp_path: Path) -> None:
    for name in ("meta", "pv", "amm", "aec"):
        (tmp_path / f"{name}.yaml").write_text((REFERENTIEL_DIR / f"{name}.yaml").read_text("utf-8"), "utf-8")
    data = yaml.safe_load((tmp_path / "pv.yaml").read_text("utf-8"))
    data["criteria"][0]["effect"]["floor"] = "grave"
    (tmp_path / "pv.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ValueError):
        load_referentiel(tmp_path)


def test_documents_for_retrieval() -> None:
    docs = referentiel_documents()
    assert len(docs) == sum(len(v) for v in load_referentiel().criteria.values())
    doc = next(d for d in docs if d.id == "referentiel:PV-DECES")
    assert doc.source == "referentiel" and doc.kind == "guideline" and doc.language == "fr"
    assert doc.metadata["type"] == "pv" and doc.metadata["axis"] == "profil_patient"
    assert "ICH E2A" in doc.text and "Décès" in doc.text
