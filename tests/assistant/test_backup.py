"""``gdr backup`` / ``gdr restore`` (issue 13 §4): restored into an empty data dir, the same search, the
same triage, the audit chain verifies and the pseudonym maps are still readable; altered backups refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from api_auth import FAST_AUTH, api_clients
from typer.testing import CliRunner

from assistant.cli.main import build_app
from assistant.db.engine import upgrade
from assistant.services.backup import MANIFEST, backup, restore
from assistant.services.ingest import ingest_sample
from assistant.services.retrieval import build, search
from assistant.settings import Settings, get_settings
from corpora.errors import CorruptFile, InputError

NARRATIVE = ("M. Paul Lefèvre, né le 3 mai 1941, tél. 06 11 22 33 44 : hémorragie digestive sous apixaban "
             "associé à l'ibuprofène, décès à J2.")


def _settings(data_dir: Path) -> Settings:
    return get_settings(data_dir=data_dir, database_url=None, corpora_dir=None, retrieval={"embedder": "fake"},
                        auth=FAST_AUTH)


def _triage(settings: Settings) -> tuple[dict, dict, bool]:
    with api_clients(settings) as clients:
        response = clients["evaluateur"].post("/triage", content=NARRATIVE.encode(), params={"type": "pv"},
                                              headers={"Content-Type": "text/plain"})
        assert response.status_code == 200, response.text
        [row] = response.json()
        mapping = clients["admin"].get(f"/assessments/{row['assessment_id']}/pseudonyms").json()
        verified = clients["admin"].get("/audit/verify").json()
        return row, mapping, bool(verified["ok"])


def _comparable(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("assessment_id",)}


def test_backup_then_restore_into_an_empty_data_dir(tmp_path: Path) -> None:
    source = _settings(tmp_path / "source")
    ingest_sample(source)
    upgrade(source)
    build(source, sources=["sample"], progress=False)
    before_row, before_map, before_ok = _triage(source)
    before_search = [h.id for h in search(source, "hémorragie digestive apixaban", k=5)]
    assert before_ok and before_search and before_map["pseudonyms"]

    result = CliRunner().invoke(build_app(), ["backup", str(tmp_path / "sauvegarde")],
                                env={"GDR_DATA_DIR": str(tmp_path / "source"), "GDR_RETRIEVAL__EMBEDDER": "fake"})
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.stderr and (tmp_path / "sauvegarde" / MANIFEST).is_file()

    target = _settings(tmp_path / "restaurée")
    report = restore(target, tmp_path / "sauvegarde")
    assert report.files > 5 and report.revision
    assert [h.id for h in search(target, "hémorragie digestive apixaban", k=5)] == before_search
    after_row, after_map, after_ok = _triage(target)
    assert after_ok
    assert _comparable(after_row) == _comparable(before_row)
    assert after_row["assessment_id"] == before_row["assessment_id"] + 1  # the restored base goes on
    assert after_map["pseudonyms"] == before_map["pseudonyms"]  # the key came back with the data


def test_altered_or_misplaced_backups_are_refused(tmp_path: Path) -> None:
    source = _settings(tmp_path / "source")
    upgrade(source)
    (source.data_dir / "models").mkdir(parents=True)
    (source.data_dir / "models" / "card.json").write_text("{}", encoding="utf-8")
    backup(source, tmp_path / "b")
    with pytest.raises(InputError, match="non vide"):
        backup(source, tmp_path / "b")
    with pytest.raises(InputError, match="non vide"):
        restore(source, tmp_path / "b")  # the source data dir is not empty
    (tmp_path / "b" / "data" / "models" / "card.json").write_text('{"x": 1}', encoding="utf-8")
    with pytest.raises(CorruptFile, match="altérée"):
        restore(_settings(tmp_path / "vide"), tmp_path / "b")
    assert not (tmp_path / "vide").exists()
    with pytest.raises(InputError, match="pg_dump"):
        backup(get_settings(data_dir=tmp_path / "pg", database_url="postgresql+psycopg://u@localhost/x"),
               tmp_path / "c")
