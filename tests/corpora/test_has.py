"""HAS SMR/ASMR opinions: cp1252 decoding, quoted rationales, unique ids, CT page links."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from corpora.errors import EncodingProblem
from corpora.loaders.base import LoadReport
from corpora.loaders.has import iter_has_documents, load_has_index

SMR = (
    "69766528\tCT-19690\tInscription (CT)\t20220209\tImportant\t\" Le service médical rendu par IZIXATE "
    "(méthotrexate) est important dans : <br>- la polyarthrite ; l\u2019adulte \"\"à la demande\"\". \"\r\n"
    "69766528\tCT-19690\tInscription (CT)\t20220209\tModéré\tLe service médical rendu par IZIXATE est modéré "
    "dans la maladie de Crohn.\r\n"
    "60173715\tCT-19670\tRenouvellement d'inscription (CT)\t20220202\tInsuffisant\tLe service médical rendu "
    "est insuffisant pour justifier d\u2019une prise en charge.\r\n"
    "ABC\tCT-1\tInscription (CT)\t20220202\tFaible\ttexte\r\n"
    "60173715\tCT-1\tInscription (CT)\t2022-13-45\tFaible\ttexte\r\n"
    "incomplète\r\n"
)
ASMR = ("69766528\tCT-19690\tInscription (CT)\t20220209\tV\t"
        "Pas d\u2019amélioration du service médical rendu (ASMR V).\r\n")
LINKS = "CT-19690\thttps://www.has-sante.fr/jcms/p_1\r\n"


@pytest.fixture()
def has_dir(tmp_path: Path) -> Path:
    d = tmp_path / "has"
    d.mkdir()
    (d / "CIS_HAS_SMR_bdpm.txt").write_bytes(SMR.encode("cp1252"))
    (d / "CIS_HAS_ASMR_bdpm.txt").write_bytes(ASMR.encode("cp1252"))
    (d / "HAS_LiensPageCT_bdpm.txt").write_bytes(LINKS.encode("cp1252"))
    return d


def test_smr_documents(has_dir: Path) -> None:
    report = LoadReport(source="has-smr")
    docs = list(iter_has_documents(has_dir, "smr", report, product_names={"69766528": "IZIXATE 2,5 mg"}))
    assert [d.id for d in docs] == [
        "has-smr:69766528/CT-19690/20220209",
        "has-smr:69766528/CT-19690/20220209-2",
        "has-smr:60173715/CT-19670/20220202",
    ]
    assert report.skipped == {"code CIS invalide": 1, "date d'avis illisible": 1,
                              "ligne malformée (moins de 6 colonnes)": 1}
    assert report.read == 6 and report.written == 3
    first, second, third = docs
    assert first.title == "Avis SMR Important — IZIXATE 2,5 mg"
    assert third.title == "Avis SMR Insuffisant — CIS 60173715"
    # Accents decoded from cp1252, quotes unwrapped and undoubled, <br> as a line break.
    assert second.metadata["level"] == "Modéré" and second.outcome == {"smr": "Modéré"}
    assert "est modéré dans la maladie de Crohn" in second.text
    assert "insuffisant" in third.text and third.outcome == {"smr": "Insuffisant"}
    assert "méthotrexate" in first.text and "\n- la polyarthrite" in first.text
    assert "l\u2019adulte \"à la demande\"." in first.text and '" Le' not in first.text
    assert not any("Ã" in d.text for d in docs)
    assert first.metadata["url"] == "https://www.has-sante.fr/jcms/p_1"
    assert "url" not in third.metadata
    assert first.metadata["motif"] == "Inscription (CT)" and first.received_at == date(2022, 2, 9)
    assert first.kind == "opinion" and first.source == "has-smr" and first.language == "fr"


def test_asmr_and_index(has_dir: Path) -> None:
    docs = list(iter_has_documents(has_dir, "asmr"))
    assert len(docs) == 1 and docs[0].outcome == {"asmr": "V"} and docs[0].source == "has-asmr"
    index = load_has_index(has_dir)
    ops = index.opinions_for_cis("69766528")
    assert [o.kind for o in ops].count("smr") == 2 and [o.kind for o in ops].count("asmr") == 1
    latest = index.latest("69766528", "asmr")
    assert latest is not None and latest.level == "V"
    assert index.opinions_for_cis("00000000") == []


def test_undecodable_byte_is_a_french_error(tmp_path: Path) -> None:
    (tmp_path / "CIS_HAS_SMR_bdpm.txt").write_bytes(b"69766528\tCT-1\tInscription\t20220209\tFaible\t\x81\r\n")
    with pytest.raises(EncodingProblem, match="illisible en utf-8 ou cp1252"):
        list(iter_has_documents(tmp_path, "smr"))


def test_utf8_copy_reads_the_same(has_dir: Path) -> None:
    expected = [(d.id, d.text) for d in iter_has_documents(has_dir, "smr")]
    path = has_dir / "CIS_HAS_SMR_bdpm.txt"
    path.write_bytes(path.read_bytes().decode("cp1252").encode("utf-8"))
    assert [(d.id, d.text) for d in iter_has_documents(has_dir, "smr")] == expected


@pytest.fixture(scope="session")
def real_has(corpora_dir: Path) -> dict[str, tuple[list, LoadReport]]:
    out = {}
    for kind in ("smr", "asmr"):
        report = LoadReport(source=f"has-{kind}")
        out[kind] = (list(iter_has_documents(corpora_dir / "has", kind, report)), report)  # type: ignore[arg-type]
    return out


@pytest.mark.corpora
def test_real_has_counts_and_accents(real_has: dict[str, tuple[list, LoadReport]]) -> None:
    smr, smr_report = real_has["smr"]
    asmr, asmr_report = real_has["asmr"]
    assert len(smr) == 12738 == smr_report.written and not smr_report.skipped
    assert len(asmr) == 8093 == asmr_report.written and not asmr_report.skipped
    assert len({d.id for d in smr}) == 12738 and len({d.id for d in asmr}) == 8093
    levels = {d.metadata["level"] for d in smr}
    assert {"Important", "Modéré", "Faible", "Insuffisant"} <= levels
    assert {"I", "II", "III", "IV", "V"} <= {d.metadata["level"] for d in asmr}
    assert any("modéré" in d.text for d in smr)
    assert any("insuffisant" in d.text for d in smr)
    assert not any("Ã" in d.text or "\ufffd" in d.text for d in smr + asmr)
