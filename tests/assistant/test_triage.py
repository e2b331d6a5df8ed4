"""``gdr triage`` and the triage service: JSON contract, outcomes never read, bad input, small real model."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.services.triage import NO_INDEX_WARNING, triage_dossiers
from assistant.settings import Settings, get_settings
from corpora.model import RISK_LEVELS, dossier_from_json

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "corpora" / "sample" / "dossiers.jsonl"
KEYS = {"id", "type", "risk_level", "risk_score", "needs_review", "processing_mode", "criteria", "context",
        "explanation", "precedents", "guidelines", "warnings", "model_version", "referentiel_version"}
# Blocks present only when they apply: PV signal context, likely duplicates.
OPTIONAL_KEYS = {"signal", "duplicates"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Criteria only: an empty data dir, the bundled sample as corpora."""
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)
    monkeypatch.setenv("GDR_CLASSIFIER__MODEL", "auto")
    return tmp_path


def _settings() -> Settings:
    return get_settings()


def _sample_lines() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _check_row(row: dict, text: str) -> None:
    assert KEYS <= set(row) <= KEYS | OPTIONAL_KEYS
    for line in (row.get("signal") or {}).get("rows", []):
        assert line["n"] <= line["n_product"] <= line["n_total"] and line["recount"].startswith("gdr signal ")
    assert row["risk_level"] in RISK_LEVELS and unicodedata.is_normalized("NFC", row["risk_level"])
    assert 0.0 <= row["risk_score"] <= 1.0
    assert isinstance(row["needs_review"], bool)
    assert set(row["processing_mode"]) == {"code", "label", "expertises", "deadline_days", "reference"}
    for c in row["criteria"]:
        assert set(c) == {"code", "label", "evidence", "reference"}
        for ev in c["evidence"]:
            if "start" in ev:
                assert text[ev["start"]:ev["end"]] == ev["text"]
            else:
                assert set(ev) == {"field", "value"}
    for item in row["context"]:
        assert set(item) == {"fact", "source_hit", "date", "raises_level"}


def test_sample_contract_criteria_only(env: Path) -> None:
    lines = _sample_lines()
    dossiers = [dossier_from_json(o) for o in lines]
    rows = [r.model_dump(mode="json") for r in triage_dossiers(_settings(), dossiers, with_precedents=True)]
    assert len(rows) == len(dossiers)
    for row, d in zip(rows, dossiers, strict=True):
        assert row["id"] == d.id and row["type"] == d.type
        _check_row(row, d.text)
        assert row["model_version"].startswith("criteria-only")
        assert NO_INDEX_WARNING in row["warnings"]
    # the sample's recorded decisions are not read, but its deaths must reach critique
    died = [r for r, o in zip(rows, lines, strict=True) if (o.get("outcome") or {}).get("died")]
    assert died and all(r["risk_level"] == "critique" for r in died)


def test_outcome_is_never_read(env: Path, tmp_path: Path) -> None:
    lines = _sample_lines()[:8]
    clean = tmp_path / "a.jsonl"
    poisoned = tmp_path / "b.jsonl"
    clean.write_text("\n".join(json.dumps({k: v for k, v in o.items() if k != "outcome"}) for o in lines),
                     encoding="utf-8")
    poisoned.write_text("\n".join(json.dumps(dict(o, outcome={"died": True, "risk_level": "critique",
                                                                 "life_threatening": True})) for o in lines),
                        encoding="utf-8")
    runner = CliRunner()
    app = build_app()
    a = runner.invoke(app, ["triage", str(clean), "--json", "--no-precedents"])
    b = runner.invoke(app, ["triage", str(poisoned), "--json", "--no-precedents"])
    assert a.exit_code == 0 and b.exit_code == 0
    assert a.stdout == b.stdout and len(a.stdout.splitlines()) == 8


def test_bad_lines_are_reported_and_skipped(env: Path, tmp_path: Path) -> None:
    good = _sample_lines()[0]
    foreign = dict(good, id="sample:de", text="Der Patient ist nach der Impfung gestorben und wurde nicht behandelt.")
    unknown = dict(good, id="sample:zz", type="zz")
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([json.dumps(good), "{pas du json", json.dumps(unknown), json.dumps(foreign),
                               json.dumps(dict(good, id="sample:vide", text=""))]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["triage", str(path), "--json", "--no-precedents"])
    assert result.exit_code == 3
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in out] == [good["id"], "sample:vide"]
    assert any("texte vide" in w for w in out[1]["warnings"])
    for n, word in ((2, "JSON"), (3, "type"), (4, "ni en français ni en anglais")):
        assert f"ligne {n}" in result.stderr and word in result.stderr
    assert "Traceback" not in result.stderr


def test_text_file_and_french_summary(env: Path, tmp_path: Path) -> None:
    path = tmp_path / "cas.txt"
    path.write_text("Le patient est décédé deux jours après la vaccination.", encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["triage", str(path), "--no-precedents"])
    assert result.exit_code == 0, result.stderr
    assert "niveau de risque : critique" in result.stdout
    en = tmp_path / "case.txt"
    en.write_text("The patient died two days after the vaccination.", encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["triage", str(en), "--json", "--no-precedents"])
    assert json.loads(result.stdout)["risk_level"] == "critique"


def test_single_files_are_read_as_uploads(env: Path, tmp_path: Path) -> None:
    """.txt/.md/.json named on the command line are read as ``POST /triage`` reads them (ids, refusals)."""
    app, runner = build_app(), CliRunner()
    text = "Le patient est décédé deux jours après la vaccination."
    (tmp_path / "pv-010.txt").write_text(text, encoding="utf-8")
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"type": "pv", "text": text}).encode())
    (tmp_path / "pretty.json").write_text(json.dumps({"type": "pv", "text": text}, indent=2), encoding="utf-8")
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(_sample_lines()[0]).encode() + b"\n")
    for name in ("pv-010.txt", "bom.json", "pretty.json", "bom.jsonl"):
        result = runner.invoke(app, ["triage", str(tmp_path / name), "--json", "--no-precedents"])
        assert result.exit_code == 0 and result.stderr == "", (name, result.stderr)
        row = json.loads(result.stdout)
        # A user's file never takes a corpus id (sample:pv-010 is a bundled dossier; it would hide it).
        assert row["id"].startswith("intake:" if name != "bom.jsonl" else "sample:"), row["id"]
        assert row["risk_level"] == "critique" or name == "bom.jsonl"

    refused = {"vide.txt": (b"", "Fichier vide : « vide.txt » ne contient aucun texte."),
               "blanc.txt": (b"  \n\t \n", "Fichier vide : « blanc.txt » ne contient aucun texte."),
               "nul.txt": (b"Patient d\x00\xc3\xa9c\xc3\xa9d\xc3\xa9", "contient des octets nuls"),
               "tronque.json": (b'{"type": "pv", "text":', "JSON invalide à la ligne 1, colonne 23 : valeur attendue.")}
    for name, (data, message) in refused.items():
        (tmp_path / name).write_bytes(data)
        result = runner.invoke(app, ["triage", str(tmp_path / name), "--json"])
        # A named file unreadable as a whole stops the command before any output (README, « Intake »).
        assert result.exit_code == 2 and result.stdout == "", (name, result.stderr)
        assert result.stderr.startswith("Erreur : ") and message in result.stderr and "ignoré" not in result.stderr

    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "vide.txt").write_bytes(b"")
    (folder / "cas.txt").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["triage", str(folder), "--json", "--no-precedents"])
    assert result.exit_code == 3 and len(result.stdout.splitlines()) == 1
    assert f"{folder / 'vide.txt'} : Fichier vide : « vide.txt » ne contient aucun texte. — ignoré." in result.stderr


def test_empty_text_is_one_warning(env: Path, tmp_path: Path) -> None:
    """A dossier without text is triaged on its fields with one warning (intake no longer adds its own)."""
    path = tmp_path / "vide.json"
    path.write_text(json.dumps({"type": "pv", "title": "Sans récit", "text": ""}), encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["triage", str(path), "--json", "--no-precedents"])
    assert result.exit_code == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert [w for w in warnings if "vide" in w.lower()] == ["texte vide : évaluation fondée sur les seuls champs "
                                                             "structurés"]


def test_missing_file_is_one_french_line(env: Path) -> None:
    result = CliRunner().invoke(build_app(), ["triage", "absent.jsonl", "--json"])
    assert result.exit_code == 2 and "Fichier introuvable" in result.stderr


def test_too_large_file_names_its_path_intact(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDR_API__MAX_UPLOAD_BYTES", "1000")
    big = tmp_path / "cas 1, version 2.txt"
    big.write_text("Fièvre après vaccination. " * 100, encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["triage", str(big), "--json"])
    # the digits are grouped, the comma of the file name is kept (it was once turned into a space)
    assert result.exit_code == 2 and "cas 1, version 2.txt : fichier trop volumineux : 2 800 octets (maximum " \
        "1 000)" in result.stderr, result.stderr


def test_train_refuses_the_sample(env: Path) -> None:
    result = CliRunner().invoke(build_app(), ["train", "--type", "pv"])
    assert result.exit_code == 2 and "échantillon" in result.stderr


@pytest.mark.corpora
def test_train_then_triage_later_years(corpora_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small PV model trained on 1999–2001 (200 reports a year), then triage of 2004 reports it never saw."""
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GDR_CORPORA_DIR", str(corpora_dir))
    runner = CliRunner()
    app = build_app()
    trained = runner.invoke(app, ["train", "--type", "pv", "--limit", "200", "--first-year", "1999", "--workers", "1",
                                      "--model", "pv-tfidf-lr"])
    assert trained.exit_code == 0, trained.stderr
    converted = tmp_path / "v2004.jsonl"
    conv = runner.invoke(app, ["corpora", "convert", "vaers", str(corpora_dir / "vaers" / "2004VAERSData.zip"),
                               "--out", str(converted), "--limit", "60"])
    assert conv.exit_code == 0, conv.stderr
    lines = [json.loads(x) for x in converted.read_text(encoding="utf-8").splitlines()]
    result = runner.invoke(app, ["triage", str(converted), "--json", "--no-precedents", "--workers", "2"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [o["id"] for o in lines]
    for row, o in zip(rows, lines, strict=True):
        _check_row(row, o["text"])
        assert row["model_version"].startswith("pv-") and "-train2002-" in row["model_version"]
        assert row["explanation"]["contributions_modele"]


def test_train_aec_writes_a_card_only(env: Path) -> None:
    result = CliRunner().invoke(build_app(), ["train", "--type", "aec"])
    assert result.exit_code == 0, result.stderr
    card = (env / "var" / "models" / "aec" / "model_card.md").read_text(encoding="utf-8")
    assert "prediction" in card and "jamais une vérité de terrain" in card


def test_context_warnings_reach_the_output(env: Path) -> None:
    """Without real corpora the database crossing says so in each result, not silently."""
    from assistant.services.triage import triage_dossiers
    from corpora.model import dossier_from_json

    dossier = dossier_from_json(_sample_lines()[0])
    (result,) = list(triage_dossiers(_settings(), [dossier], with_precedents=False))
    assert any("Contexte indisponible" in w for w in result.warnings)


def test_workers_search_precedents_themselves_with_the_same_hits(tmp_path: Path) -> None:
    from assistant.services.retrieval import build

    settings = get_settings(data_dir=tmp_path / "var", corpora_dir=None, database_url=None,
                            retrieval={"embedder": "fake"})
    build(settings, sources=["sample", "referentiel"], progress=False)
    dossiers = [dossier_from_json(o) for o in _sample_lines()]
    one = list(triage_dossiers(settings, dossiers, workers=1, chunk_size=4))
    two = list(triage_dossiers(settings, dossiers, workers=2, chunk_size=4))
    assert [r.id for r in two] == [d.id for d in dossiers]
    assert any(r.precedents for r in one) and all(r.guidelines for r in one)
    assert [([h.id for h in r.precedents], [h.id for h in r.guidelines]) for r in two] == [
        ([h.id for h in r.precedents], [h.id for h in r.guidelines]) for r in one]


def test_an_impossible_reception_date_is_flagged(env: Path) -> None:
    from datetime import date

    from assistant.services.triage import implausible_reception

    today = date(2026, 11, 30)
    future = dossier_from_json({"id": "intake:x", "type": "pv", "title": "t", "text": "Décès.", "source": "intake",
                                "received_at": "2999-12-31"})
    assert "postérieure à aujourd'hui (2999-12-31)" in (implausible_reception(future, today) or "")
    ancient = future.model_copy(update={"received_at": date(1, 1, 1)})
    assert "antérieure à 1950" in (implausible_reception(ancient, today) or "")
    assert implausible_reception(future.model_copy(update={"received_at": today}), today) is None
    [result] = triage_dossiers(_settings(), [future], with_precedents=False)
    assert any("date de réception postérieure" in w for w in result.warnings), result.warnings
