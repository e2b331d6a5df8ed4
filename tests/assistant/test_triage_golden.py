"""Golden tests: ``gdr triage --json`` on the bundled sample stays byte-for-byte what it was.

Pinned outputs, in ``tests/assistant/golden/``:

* ``sample_triage.jsonl``: the 43 sample dossiers (``corpora/sample/dossiers.jsonl``) and a French
  ``.txt`` narrative, with the embedded defaults (no trained model: criteria only; no real corpora:
  no database crossing), precedents and guidelines from an index of the sample and the référentiel
  built with the deterministic ``fake`` embedder. The same output is expected with ``--workers 2``.
* ``sample_files.jsonl``: the sample documents of ``corpora/sample/files`` (CIOMS I PDFs with form
  fields and flattened, a DOCX narrative, a CSV batch and a zip), ``--no-precedents``: the
  ``intake`` block (declared seriousness, format, form boxes, pages) and the evidence pages.
* ``sample_context.jsonl`` (real corpora, marked ``corpora``): the 43 sample dossiers, ``--no-precedents``,
  with the knowledge base crossed from BDPM, HAS, EMA, the ANSM thesaurus and VAERS 1990–1991.

Volatile fields: the triage itself has none (no clock, no random). The ``score`` and ``similarity``
of precedents and guidelines are float32 computations (numpy, Chroma) whose last bits may differ
between CPUs, so they are rounded to 6 decimals on both sides; the order of the hits is still
compared. Everything else, key order included, is compared exactly.

Regenerate only when a change of output is intended (and say so in the commit):
``GDR_UPDATE_GOLDEN=1 pytest tests/assistant/test_triage_golden.py``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from corpora.model import Hit

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLE = REPO_ROOT / "corpora" / "sample" / "dossiers.jsonl"
NARRATIVE = GOLDEN / "nourrisson-convulsion.txt"
SAMPLE_FILES = REPO_ROOT / "corpora" / "sample" / "files"
UPDATE = os.environ.get("GDR_UPDATE_GOLDEN") == "1"
# Real corpora crossed for the context golden (VAERS bounded to two small years to stay fast).
CONTEXT_SOURCES = ("bdpm", "has", "ema", "ansm_interactions")
CONTEXT_VAERS_YEARS = (1990, 1991)


def _env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, corpora_dir: Path | None = None) -> None:
    for key in [k for k in os.environ if k.startswith("GDR_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GDR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "fake")
    if corpora_dir is not None:
        monkeypatch.setenv("GDR_CORPORA_DIR", str(corpora_dir))


def _gdr(*args: str) -> str:
    result = CliRunner().invoke(build_app(), list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _normalised(jsonl: str) -> list[str]:
    """One canonical line per result: hit scores rounded (see the module docstring), key order kept."""
    lines = []
    for line in jsonl.splitlines():
        row = json.loads(line)
        for key in ("precedents", "guidelines"):
            for hit in row.get(key) or []:
                hit["score"] = round(hit["score"], 6)
                hit["similarity"] = round(hit["similarity"], 6)
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    return lines


def _check_golden(name: str, stdout: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(stdout, encoding="utf-8")
    expected = _normalised(path.read_text(encoding="utf-8"))
    actual = _normalised(stdout)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got == want, f"triage output changed for {json.loads(want)['id']}"


@pytest.fixture(scope="module")
def indexed_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir holding an index of the sample and the référentiel (fake embedder)."""
    data_dir = tmp_path_factory.mktemp("golden") / "var"
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, data_dir)
        CliRunner().invoke(build_app(), ["index", "build"], catch_exceptions=False)
    yield data_dir


@pytest.fixture(scope="module")
def sample_output(indexed_data: Path) -> str:
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, indexed_data)
        return _gdr("triage", str(SAMPLE), str(NARRATIVE), "--json")


def test_sample_triage_is_unchanged(sample_output: str) -> None:
    _check_golden("sample_triage.jsonl", sample_output)


def test_worker_processes_give_the_same_output(indexed_data: Path, sample_output: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, indexed_data)
    two = _gdr("triage", str(SAMPLE), str(NARRATIVE), "--json", "--workers", "2")
    assert _normalised(two) == _normalised(sample_output)


def test_a_named_file_never_takes_a_corpus_id(indexed_data: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A file named like a bundled dossier (pv-004.txt, a follow-up of that case) gets an ``intake:`` id:
    that dossier stays its best précédent instead of being taken for the file itself and left out."""
    _env(monkeypatch, indexed_data)
    pv004 = next(json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()
                 if line.strip() and json.loads(line)["id"] == "sample:pv-004")
    path = tmp_path / "pv-004.txt"
    path.write_text(pv004["text"].replace("13 mois", "14 mois") + " Le médecin traitant a été informé.",
                    encoding="utf-8")
    row = json.loads(_gdr("triage", str(path), "--json"))
    assert row["id"].startswith("intake:")
    assert row["precedents"][0]["document_id"] == "sample:pv-004"


def test_sample_files_triage_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier.result import IntakeInfo, TriageResult

    _env(monkeypatch, tmp_path / "var")
    stdout = _gdr("triage", str(SAMPLE_FILES), "--json", "--no-precedents")
    contract, _ = _readme_contract()
    for line in stdout.splitlines():
        row = json.loads(line)
        assert TriageResult.model_validate_json(line).model_dump(mode="json") == row  # the typed model round-trips
        intake = row.pop("intake", None)  # documented beside the contract: only when intake read more
        row.pop("duplicates", None)  # likewise: only when a PV report repeats one already received
        _conforms(row, contract, row["id"])
        assert intake is None or set(intake) <= set(IntakeInfo.model_fields)  # every key described
    assert any('"intake":{"declared_seriousness"' in line for line in stdout.splitlines())
    _check_golden("sample_files.jsonl", stdout)


@pytest.mark.corpora
def test_sample_triage_with_context_is_unchanged(corpora_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    subset = tmp_path / "corpora"
    (subset / "vaers").mkdir(parents=True)
    for name in CONTEXT_SOURCES:
        (subset / name).symlink_to(corpora_dir / name, target_is_directory=True)
    for year in CONTEXT_VAERS_YEARS:
        (subset / "vaers" / f"{year}VAERSData.zip").symlink_to(corpora_dir / "vaers" / f"{year}VAERSData.zip")
    _env(monkeypatch, tmp_path / "var", subset)
    stdout = _gdr("triage", str(SAMPLE), "--json", "--no-precedents")
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert sum(len(row["context"]) for row in rows) > 100
    contract, _ = _readme_contract()
    for row in rows:
        _conforms(row, contract, row["id"])
        for item in row["context"]:
            Hit.model_validate(item["source_hit"])
    _check_golden("sample_context.jsonl", stdout)


# --------------------------------------------------------------------------- the README's contract

def _readme_contract() -> tuple[Any, set[str]]:
    """The one-line output contract and the level names documented in README « Classifier and triage »."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Classifier and triage", 1)[1]
    spec = re.search(r'`(\{"id".*?\})`', section)
    levels = re.search(r"Levels are exactly ((?:`[^`]+`(?:, )?)+)", section)
    assert spec and levels, "README: the triage contract moved; update this test with it"
    return _parse_spec(spec.group(1)), set(re.findall(r"`([^`]+)`", levels.group(1)))


def _parse_spec(text: str) -> Any:
    """``{"a","b":{…},"c":[Hit…]}`` → {"a": None, "b": ANY_OBJECT, "c": ["Hit"]} (None: any value)."""
    tokens = re.findall(r'"[^"]+"|Hit…|…|[{}\[\]:,]', text)
    pos = 0

    def value() -> Any:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "{":
            if tokens[pos] == "…":
                pos += 2
                return "object"
            out: dict[str, Any] = {}
            while True:
                key = tokens[pos].strip('"')
                pos += 1
                out[key] = None
                if tokens[pos] == ":":
                    pos += 1
                    out[key] = value()
                token = tokens[pos]
                pos += 1
                if token == "}":
                    return out
                assert token == ","
        if token == "[":
            item = tokens[pos]
            if item in ("…", "Hit…"):
                pos += 2
                return ["Hit" if item == "Hit…" else None]
            inner = value()
            assert tokens[pos] == "]"
            pos += 1
            return [inner]
        raise AssertionError(f"README contract: unexpected token {token!r}")

    return value()


def _conforms(value: Any, spec: Any, where: str) -> None:
    if spec is None:
        return
    if spec == "object":
        assert isinstance(value, dict), where
    elif spec == "Hit":
        assert list(value) == list(Hit.model_fields), where
        Hit.model_validate(value)
    elif isinstance(spec, list):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _conforms(item, spec[0], f"{where}[{i}]")
    else:
        assert isinstance(value, dict) and list(value) == list(spec), f"{where}: {list(value)} != {list(spec)}"
        for key, sub in spec.items():
            _conforms(value[key], sub, f"{where}.{key}")


def test_output_matches_the_readme_contract(sample_output: str) -> None:
    contract, levels = _readme_contract()
    assert levels == {"faible", "modéré", "élevé", "critique"}
    rows = [json.loads(line) for line in sample_output.splitlines()]
    assert any(r["precedents"] for r in rows) and any(r["criteria"] for r in rows)
    for row in rows:
        _conforms(row, contract, row["id"])
        assert row["risk_level"] in levels
