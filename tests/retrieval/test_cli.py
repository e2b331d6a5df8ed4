"""``gdr index build`` / ``gdr search`` / ``gdr index status`` on the bundled sample, fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import build_app
from corpora.model import Hit
from retrieval.config import RetrievalConfig
from retrieval.search import Retriever


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return build_app()


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GDR_RETRIEVAL__EMBEDDER", "fake")
    monkeypatch.delenv("GDR_CORPORA_DIR", raising=False)
    return tmp_path / "var"


def test_build_then_search_json(app, env: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(app, ["index", "build"])
    assert result.exit_code == 0, result.output
    assert "Indexation terminée" in result.stderr and "sample" in result.stderr
    result = runner.invoke(app, ["search", "myocardite après vaccination", "--json", "-k", "5"])
    assert result.exit_code == 0, result.output
    hits = [Hit.model_validate(json.loads(line)) for line in result.stdout.splitlines()]
    assert 1 <= len(hits) <= 5
    with Retriever.open(RetrievalConfig(data_dir=env, embedder="fake")) as r:
        for h in hits:
            assert r.get_document(h.document_id).text[h.start : h.end] == h.excerpt
    readable = runner.invoke(app, ["search", "fièvre nourrisson", "--type", "pv", "--where", "serious=non"])
    assert readable.exit_code == 0 and "1. " in readable.stdout and "similarité" in readable.stdout
    # A recorded outcome in French words, not « recovered=True, decision=… ».
    outcomes = [line for line in readable.stdout.splitlines() if "Issue enregistrée" in line]
    assert outcomes and not any("=" in line or ".." in line for line in outcomes), outcomes
    assert any("décision : " in line for line in outcomes)
    status = runner.invoke(app, ["index", "status"])
    assert status.exit_code == 0 and "documents" in status.stderr
    shown = runner.invoke(app, ["index", "show", hits[0].document_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["text"][hits[0].start : hits[0].end] == hits[0].excerpt
    missing = runner.invoke(app, ["index", "show", "vaers:0"])
    assert missing.exit_code == 2 and "introuvable" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", ""], "requête est vide"),
        (["search", "a" * 100_000], "Requête trop longue"),
        (["search", "fièvre", "--where", "couleur=rouge"], "Filtre inconnu"),
        (["search", "fièvre", "--where", "year"], "mal formé"),
        (["search", "fièvre", "--method", "magie"], "Méthode inconnue"),
        (["index", "build", "--sources", "inconnue"], "Source inconnue"),
        # A typo in a filter value is refused with the known values, never « Aucun résultat. » (exit 0).
        (["search", "fièvre", "--source", "nope"], "Source inconnue : « nope ». Valeurs possibles : vaers, bdpm"),
        (["search", "fièvre", "--type", "zz"], "Type de dossier inconnu : « zz ». Valeurs possibles : pv, amm, aec."),
        (["search", "fièvre", "--kind", "avis"], "Nature de document inconnue : « avis »"),
        (["search", "fièvre", "--where", "source=nope"], "Source inconnue : « nope »"),
    ],
)
def test_bad_input_exit_2_index_untouched(app, env: Path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    assert runner.invoke(app, ["index", "build"]).exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in env.joinpath("index").rglob("*") if p.is_file()}
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    after = {p: p.stat().st_mtime_ns for p in env.joinpath("index").rglob("*") if p.is_file()}
    assert {p for p in before if p.suffix not in {".sqlite-wal", ".sqlite-shm"}} <= set(after)
    assert all(after[p] == t for p, t in before.items() if "chroma" not in str(p) and "wal" not in p.name
               and "shm" not in p.name)


def test_missing_or_corrupted_index(app, env: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(app, ["search", "fièvre"])
    assert result.exit_code == 2 and "Index de recherche absent : lancez « gdr index build »" in result.stderr
    (env / "index").mkdir(parents=True)
    (env / "index" / "docs.sqlite").write_bytes(b"garbage" * 1000)
    result = runner.invoke(app, ["search", "fièvre"])
    assert result.exit_code == 2 and "corrompu" in result.stderr
    assert (env / "index" / "docs.sqlite").read_bytes() == b"garbage" * 1000
