"""Signal context (issue 12 §4): counts per month, disproportionality in the triage, ``gdr signal``, ``GET /signal``."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.services.signal import signal_table
from assistant.services.triage import triage_dossiers
from assistant.settings import get_settings
from classifier.signal_counts import SignalCounts, build_signal_counts
from corpora.errors import InputError, StoreError
from corpora.loaders.base import LoadReport
from corpora.loaders.cases import is_serious
from corpora.loaders.vaers import iter_vaers_records

DATA_HEADER = ("VAERS_ID,RECVDATE,STATE,AGE_YRS,CAGE_YR,CAGE_MO,SEX,RPT_DATE,SYMPTOM_TEXT,DIED,DATEDIED,"
               "L_THREAT,ER_VISIT,HOSPITAL,HOSPDAYS,X_STAY,DISABLE,RECOVD,VAX_DATE,ONSET_DATE,NUMDAYS,LAB_DATA,"
               "V_ADMINBY,V_FUNDBY,OTHER_MEDS,CUR_ILL,HISTORY,PRIOR_VAX,SPLTTYPE")


def _row(vid: int, recv: str, died: str = "", hosp: str = "") -> str:
    return (f'{vid},{recv},NY,1,,,F,,"fever after vaccine",{died},,,,{hosp},,,,Y,,,,,PVT,,,,,,')


def _write_vaers(folder: Path, reports: list[tuple[int, str, list[str], list[str], str, str]]) -> Path:
    """A small VAERS zip written by the test: (id, RECVDATE, vaccine types, symptoms, DIED, HOSPITAL)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = [DATA_HEADER] + [_row(vid, recv, died, hosp) for vid, recv, _, _, died, hosp in reports]
    vax = ["VAERS_ID,VAX_TYPE,VAX_MANU,VAX_LOT,VAX_DOSE,VAX_ROUTE,VAX_SITE,VAX_NAME"]
    sym = ["VAERS_ID,SYMPTOM1,SYMPTOMVERSION1,SYMPTOM2,SYMPTOMVERSION2,SYMPTOM3,SYMPTOMVERSION3,SYMPTOM4,"
           "SYMPTOMVERSION4,SYMPTOM5,SYMPTOMVERSION5"]
    for vid, _, types, symptoms, _, _ in reports:
        vax += [f"{vid},{t},MERCK,,1,IM,LA,{t} VACCINE" for t in types]
        cells = [x for s in symptoms for x in (s, "8.1")] + [""] * (10 - 2 * len(symptoms))
        sym.append(f"{vid}," + ",".join(cells))
    path = folder / "1999VAERSData.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("1999VAERSDATA.csv", "\n".join(data) + "\n")
        zf.writestr("1999VAERSVAX.csv", "\n".join(vax) + "\n")
        zf.writestr("1999VAERSSYMPTOMS.csv", "\n".join(sym) + "\n")
    return path


# January: 3 DTAP+Pyrexia (one fatal, one hospitalised), 1 DTAP+Rash, 2 MMR+Pyrexia, 4 MMR+Rash;
# February: 1 DTAP+Pyrexia; the DTAP+MMR report counts once for each type.
REPORTS = [
    (1, "01/05/1999", ["DTAP"], ["Pyrexia"], "Y", ""),
    (2, "01/06/1999", ["DTAP"], ["Pyrexia", "Crying"], "", "Y"),
    (3, "01/07/1999", ["DTAP", "MMR"], ["Pyrexia"], "", ""),
    (4, "01/08/1999", ["DTAP"], ["Rash"], "", ""),
    (5, "01/09/1999", ["MMR"], ["Pyrexia"], "", ""),
    (6, "01/10/1999", ["MMR"], ["Rash"], "", ""),
    (7, "01/11/1999", ["MMR"], ["Rash"], "", ""),
    (8, "01/12/1999", ["MMR"], ["Rash"], "", ""),
    (9, "01/13/1999", ["MMR"], ["Rash"], "", ""),
    (10, "02/03/1999", ["DTAP"], ["Pyrexia"], "", ""),
]


def test_counts_and_table_on_written_reports(tmp_path: Path) -> None:
    zpath = _write_vaers(tmp_path / "vaers", REPORTS)
    summary = build_signal_counts([zpath], tmp_path / "counts.sqlite")
    assert summary["reports"] == 10
    counts = SignalCounts(tmp_path / "counts.sqlite")
    # before March: DTAP × Pyrexia a = 4, DTAP 5 reports, Pyrexia 5 reports (1, 2, 3, 5, 10), 10 in all
    c = counts.counts("dtap", "PYREXIA", "1999-03")
    assert (c.pair, c.pair_serious, c.pair_fatal, c.product, c.term, c.total) == (4, 2, 1, 5, 5, 10)
    # before February: report 10 is not counted (no future)
    c = counts.counts("DTAP", "Pyrexia", "1999-02")
    assert (c.pair, c.product, c.term, c.total) == (3, 4, 4, 9)
    from classifier.signal import signal_table as table

    ctx = table(counts, "DTAP", "Pyrexia", date(1999, 2, 20))
    assert ctx.before == date(1999, 2, 1)
    (r,) = ctx.rows
    # a=3, b=1, c=1, d=4: PRR = (3/4)/(1/5) = 3.75, ROR = 12/1 = 12
    assert (r.n, r.n_product, r.n_term, r.n_total) == (3, 4, 4, 9)
    assert r.prr == pytest.approx(3.75) and r.ror == pytest.approx(12.0)
    assert "--where vaccine_type=DTAP" in r.query and "--where symptom=pyrexia" in r.query
    assert r.queries["fatal"].endswith("--where died=oui") and r.queries["n"] == r.query
    assert r.queries["n_product"] == "gdr search DTAP --source vaers --where vaccine_type=DTAP"
    assert r.recount == "gdr signal DTAP Pyrexia --avant 1999-02-01"
    assert r.url == "/signal?product=DTAP&term=Pyrexia&before=1999-02-01"
    with pytest.raises(ValueError, match="inconnu"):
        table(counts, "ZZZ")
    counts.close()


def test_triage_carries_signal_and_cli_api_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpora = tmp_path / "corpora"
    _write_vaers(corpora / "vaers", REPORTS)
    settings = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=corpora)
    from corpora.model import Dossier, DossierFields

    dossier = Dossier(id="t:1", type="pv", title="t", text="Fièvre à 39 °C après le vaccin DTaP.", language="fr",
                      source="sample", received_at=date(1999, 2, 20),
                      fields=DossierFields(vaccine_types=["DTAP"], symptoms=["Pyrexia", "Rash"]))
    (result,) = list(triage_dossiers(settings, [dossier], with_precedents=False))
    assert result.signal is not None
    rows = {r.term: r for r in result.signal.rows}
    assert rows["Pyrexia"].n == 3 and rows["Rash"].n == 1
    assert result.model_dump(mode="json")["signal"]["rows"][0]["prr"] == pytest.approx(3.75)
    from assistant.services.triage import summary_fr

    assert "Contexte de signal" in summary_fr(result) and "PRR 3,75" in summary_fr(result)
    from ui.render import render_triage

    card = render_triage(result)
    assert "#### Contexte de signal (VAERS, signalements reçus avant le 01/02/1999" in card
    assert "DTAP × Pyrexia : 3 signalement(s) antérieur(s)" in card and "PRR 3,75" in card
    expert = signal_table(settings, "dtap", "Pyrexia", date(1999, 2, 20))
    assert expert.rows[0] == rows["Pyrexia"]
    monkeypatch.setenv("GDR_CORPORA_DIR", str(corpora))
    monkeypatch.setenv("GDR_DATA_DIR", str(tmp_path / "var"))
    from assistant.cli.main import build_app

    out = CliRunner().invoke(build_app(), ["signal", "DTAP", "Pyrexia", "--avant", "1999-02-20", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rows"][0] == rows["Pyrexia"].model_dump(mode="json")
    bad = CliRunner().invoke(build_app(), ["signal", "NOPE"])
    assert bad.exit_code == 2 and "inconnu" in bad.output
    with pytest.raises(InputError):
        signal_table(settings, "DTAP", limit=0)


def test_no_vaers_corpus_is_said(tmp_path: Path) -> None:
    settings = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=None)
    with pytest.raises(StoreError, match="VAERS"):
        signal_table(settings, "DTAP")


def test_held_out_vaers_report_matches_a_recount(corpora_dir: Path, tmp_path: Path) -> None:
    """Acceptance: a real VAERS report triaged; its figures equal a recount over the earlier reports."""
    years = [corpora_dir / "vaers" / f"{y}VAERSData.zip" for y in (1990, 1991)]
    local = tmp_path / "corpora" / "vaers"
    local.mkdir(parents=True)
    for y in years:
        (local / y.name).symlink_to(y)
    records = list(iter_vaers_records(years, LoadReport(source="vaers")))
    # held out: the first report of December 1991 with a vaccine type and a coded symptom
    held = next(r for r in sorted(records, key=lambda r: (r.dossier.received_at or date.max, r.dossier.id))
                if r.dossier.received_at and r.dossier.received_at >= date(1991, 12, 1)
                and r.dossier.fields.vaccine_types and r.dossier.fields.symptoms)
    d = held.dossier
    vt, term = d.fields.vaccine_types[0].upper(), d.fields.symptoms[0]  # type: ignore[index]
    # independent recount: reports received before 1 December 1991
    earlier = [r for r in records if r.dossier.received_at and r.dossier.received_at < date(1991, 12, 1)]

    def has_vt(r: object) -> bool:
        return vt in {v.upper() for v in r.dossier.fields.vaccine_types or []}  # type: ignore[attr-defined]

    def has_term(r: object) -> bool:
        return term.lower() in {s.lower() for s in r.dossier.fields.symptoms or []}  # type: ignore[attr-defined]

    a_reports = [r for r in earlier if has_vt(r) and has_term(r)]
    a, n_vt, n_term, n = len(a_reports), sum(map(has_vt, earlier)), sum(map(has_term, earlier)), len(earlier)
    serious = sum(is_serious(r.outcome or {}) for r in a_reports)
    fatal = sum((r.outcome or {}).get("died") is True for r in a_reports)
    assert a > 0 and n_term > a
    prr = (a / n_vt) / ((n_term - a) / (n - n_vt))
    ror = (a * (n - n_vt - n_term + a)) / ((n_vt - a) * (n_term - a))

    settings = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=tmp_path / "corpora")
    (result,) = list(triage_dossiers(settings, [d], with_precedents=False))
    assert result.signal is not None and result.signal.before == date(1991, 12, 1)
    row = next(r for r in result.signal.rows if r.product == vt and r.term.lower() == term.lower())
    assert (row.n, row.serious, row.fatal, row.n_product, row.n_term, row.n_total) == (a, serious, fatal, n_vt,
                                                                                        n_term, n)
    assert row.prr == pytest.approx(prr) and row.ror == pytest.approx(ror)
    assert row.prr_low is not None and row.prr_low < prr < row.prr_high  # type: ignore[operator]


def test_get_signal_route(tmp_path: Path) -> None:
    from api_auth import FAST_AUTH, api_clients

    from assistant.db.engine import upgrade

    corpora = tmp_path / "corpora"
    _write_vaers(corpora / "vaers", REPORTS)
    settings = get_settings(data_dir=tmp_path / "var", database_url=None, corpora_dir=corpora, auth=FAST_AUTH)
    upgrade(settings)
    with api_clients(settings) as clients:
        ok = clients["expert"].get("/signal", params={"product": "DTAP", "term": "Pyrexia", "before": "1999-02-20"})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["before"] == "1999-02-01" and body["rows"][0]["n"] == 3
        assert body["rows"][0]["prr"] == pytest.approx(3.75)
        top = clients["evaluateur"].get("/signal", params={"product": "MMR"}).json()
        assert [r["term"] for r in top["rows"]] == ["Rash", "Pyrexia"]  # most reported first: 4, then 2
        unknown = clients["expert"].get("/signal", params={"product": "ZZZ"})
        assert unknown.status_code == 400 and "inconnu" in unknown.json()["detail"]
        assert clients.anonymous.get("/signal", params={"product": "DTAP"}).status_code == 401
