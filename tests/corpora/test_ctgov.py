"""ClinicalTrials.gov stopped trials: duplicates and malformed rows counted, prediction never read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from corpora.errors import CorruptFile, InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.ctgov import iter_ctgov_documents

HEADER = ("stop_reason\tphase\tnct_id\tstart_date\tstatus\tlast_update_posted_date\tcompletion_date\t"
          "prediction\t\t\t\r\n")
ROWS = (
    "COVID19\tnan\tNCT05075902\t1.02.2019\tSuspended\t13.10.2021\t1.03.2022\tCovid19\t\t\t\r\n"
    '"Safety   concerns; study halted"\tPhase 2\tNCT00000001\t31.01.2001\tTerminated\tnan\tNegative\t\t\t\t\r\n'
    "Slow accrual\tPhase 2\tNCT00000001\t31.01.2001\tTerminated\t21.10.2016\t30.06.2005\tNegative\t\t\t\r\n"
    "bad\tnan\tNCT00000002\t31.05.2007\tSlow/Insufficient accrual\tPhase 4\tNCT00023504\t\t\r\n"
    "no id\tnan\tXYZ\tnan\tWithdrawn\tnan\tnan\tNo_Context\t\t\t\r\n"
    "\tnan\tNCT00000003\tnan\tWithdrawn\tnan\tnan\tNo_Context\t\t\t\r\n"
    "Funding\tPhase 1/Phase 2\tNCT00000004\tnan\tWithdrawn\tnan\tnan\tBusiness_Administrative\t\t\t"
)


@pytest.fixture()
def tsv(tmp_path: Path) -> Path:
    d = tmp_path / "ctgov_stopped"
    d.mkdir()
    path = d / "stopped_predictions_27.11.tsv"
    path.write_bytes((HEADER + ROWS).encode("utf-8"))
    return path


def test_documents_and_skips(tsv: Path) -> None:
    report = LoadReport(source="ctgov")
    docs = list(iter_ctgov_documents(tsv.parent, report))
    assert [d.id for d in docs] == ["ctgov:NCT05075902", "ctgov:NCT00000001", "ctgov:NCT00000004"]
    assert report.read == 7 and report.written == 3
    assert report.skipped == {"identifiant NCT en double": 1, "statut inconnu (ligne malformée)": 1,
                              "identifiant NCT invalide": 1, "raison d'arrêt absente": 1}
    covid, safety, funding = docs
    assert covid.kind == "trial" and covid.language == "en" and covid.source == "ctgov"
    assert covid.outcome == {"status": "Suspended", "why_stopped": "COVID19"}
    assert covid.received_at == date(2019, 2, 1)
    assert "phase" not in covid.metadata  # "nan" is unknown, never a value
    assert covid.metadata["status"] == "Suspended" and covid.metadata["start_date"] == "2019-02-01"
    # The first of two rows with one NCT id is kept; quotes and repeated spaces cleaned.
    assert safety.outcome == {"status": "Terminated", "why_stopped": "Safety concerns; study halted"}
    assert safety.metadata["phase"] == "Phase 2"
    assert "Safety concerns; study halted" in safety.text and "Phase 2" in safety.text
    assert funding.received_at is None and funding.metadata["phase"] == "Phase 1/Phase 2"


def test_prediction_column_is_never_used(tsv: Path) -> None:
    for doc in iter_ctgov_documents(tsv):
        blob = doc.model_dump_json()
        for label in ("Covid19", "Negative", "Business_Administrative", "prediction"):
            assert label not in blob


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        list(iter_ctgov_documents(tmp_path / "absent.tsv"))
    bad = tmp_path / "stopped_predictions_x.tsv"
    bad.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(CorruptFile, match="colonnes attendues absentes"):
        list(iter_ctgov_documents(bad))


@pytest.mark.corpora
def test_real_stopped_trials(corpora_dir: Path) -> None:
    report = LoadReport(source="ctgov")
    docs = list(iter_ctgov_documents(corpora_dir / "ctgov_stopped", report))
    # 28,873 data rows; 28,852 distinct NCT ids, one of which only on a malformed (merged) row.
    assert report.read == 28873
    assert report.skipped == {"identifiant NCT en double": 21, "statut inconnu (ligne malformée)": 1}
    assert len(docs) == report.written == 28851 == len({d.id for d in docs})
    assert {d.outcome["status"] for d in docs if d.outcome} == {"Terminated", "Withdrawn", "Suspended"}
