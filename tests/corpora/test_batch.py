"""Batches: CSV (delimiter, encodings, columns), JSON Lines, zip (limits, dangerous names), row-level errors."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from corpora import seriousness
from corpora.batch import BatchEntry, iter_batch
from corpora.errors import CorruptFile, EncodingProblem, InputError, InputTooLarge
from corpora.intake import CP1252_WARNING, parse_upload
from corpora.limits import IntakeLimits

SAMPLES = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "files"
HEADER = "id;type;texte;age;sexe;produits;gravite;date_reception\n"


def _entries(data: bytes, name: str, **kw: object) -> list[BatchEntry]:
    return list(iter_batch(data, filename=name, **kw))  # type: ignore[arg-type]


def test_sample_csv() -> None:
    entries = _entries((SAMPLES / "lot_pv.csv").read_bytes(), "lot_pv.csv")
    assert [e.row for e in entries] == [1, 2, 3, 4, 5] and all(e.error is None for e in entries)
    items = [e.item for e in entries if e.item is not None]
    assert [i.dossier.id for i in items][:2] == ["intake:lot-001", "intake:lot-002"]
    second = items[1]
    assert second.declared_seriousness == [seriousness.LIFE_THREATENING, seriousness.HOSPITALISATION]
    assert second.dossier.fields.products[0].name == "Rocéphine 1 g"  # type: ignore[index]
    assert str(items[3].dossier.received_at) == "2026-03-05"  # 05/03/2026, day first
    assert entries[0].where == "ligne 2"


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
def test_csv_delimiters_are_detected(delimiter: str) -> None:
    rows = [["text", "patient_age", "products"], ["Fièvre à 39 °C après vaccin, guérison.", "3", "Priorix"],
            ["Malaise vagal, résolutif", "25", "Gardasil 9"]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    items = [e.item for e in _entries(out.getvalue().encode(), "lot.csv")]
    assert [i.dossier.fields.patient_age for i in items if i] == [3, 25]


def test_csv_cp1252_file_and_mixed_encodings() -> None:
    cp = (HEADER + "a1;pv;Hépatite sévère après paracétamol;40;F;Doliprane;;2026-01-02\n").encode("cp1252")
    [entry] = _entries(cp, "lot.csv")
    assert entry.item is not None and "Hépatite sévère" in entry.item.dossier.text
    assert CP1252_WARNING in entry.item.warnings
    mixed = (HEADER.encode() + "a1;pv;Fièvre élevée;40;F;X;;\n".encode()
             + "a2;pv;Céphalée brutale;50;M;Y;;\n".encode("cp1252") + b"a3;pv;\x81\x8d\x8f\x90 \x9d;30;M;Z;;\n")
    first, second, third = _entries(mixed, "lot.csv")
    assert first.item is not None and not first.item.warnings
    assert second.item is not None and "Céphalée brutale" in second.item.dossier.text
    assert any("Windows-1252" in w for w in second.item.warnings)
    assert third.error is not None and "encodage illisible" in third.error and third.where == "ligne 4"


def test_csv_row_errors_do_not_stop_the_batch() -> None:
    data = (HEADER
            + "b1;pv;Texte correct;40;F;A;;\n"
            + "b2;pv;Trop de colonnes;40;F;A;;;;\n"
            + "b3;pv;Âge illisible;quarante;F;A;;\n"
            + "b4;pv;Gravité inconnue;40;F;A;grave;\n"
            + "b5;zz;Type inconnu;40;F;A;;\n"
            + "b6;pv;Date illisible;40;F;A;;31/02/2026\n"
            + "b7;pv;\"Récit sur\ndeux lignes\";40;F;A;décès;\n").encode()
    entries = _entries(data, "lot.csv")
    assert [e.row for e in entries] == list(range(1, 8))
    errors = {e.where: e.error for e in entries if e.error}
    assert "colonne(s) au lieu de 8" in errors["ligne 3"] and "âge illisible" in errors["ligne 4"]
    assert "critère de gravité inconnu" in errors["ligne 5"] and "type inconnu" in errors["ligne 6"]
    assert "date illisible" in errors["ligne 7"]
    last = entries[-1].item
    assert last is not None and entries[-1].where == "ligne 8" and "deux lignes" in last.dossier.text
    assert last.declared_seriousness == [seriousness.DEATH]


def test_csv_outcome_column_is_dropped_and_unknown_columns_reported() -> None:
    data = "text,outcome,couleur\nDécès brutal,critique,bleu\nFièvre,faible,rouge\n".encode()
    first, _second = _entries(data, "lot.csv")
    assert first.item is not None and "critique" not in first.item.dossier.model_dump_json()
    assert any("couleur" in w for w in first.item.warnings)


def test_csv_quotes_never_merge_rows_silently() -> None:
    first, second = _entries('id,text\n0,Fièvre\n1,"Patient décédé\n2,ok\n'.encode(), "lot.csv")
    assert first.item is not None
    assert second.where == "ligne 3" and second.error == (
        "guillemet ouvert et jamais refermé : les lignes 3 à 4 n'ont pas pu être lues (corrigez les guillemets).")
    entries = _entries('id,text\n1,"Décès" brutal\n2,"Récit sur\ndeux lignes"\n'.encode(), "lot.csv")
    assert entries[0].error == "texte après un guillemet fermant : guillemets incohérents sur cette ligne."
    assert entries[1].item is not None and entries[1].item.dossier.text == "Récit sur\ndeux lignes"


def test_csv_nul_bytes_and_control_characters() -> None:
    """NUL bytes anywhere: the refusal every text file gets; other control characters: that row only."""
    for data in ("id,text\n1,Patient d\x00écédé\n".encode(), b"id,text\n" + b"1,ok\n" * 2000 + b"2,a\x00b\n"):
        with pytest.raises(EncodingProblem, match=r"« lot\.csv » contient des octets nuls"):
            _entries(data, "lot.csv")
    first, second = _entries("id,text\n1,Fièvre\n2,Décès \x07\x08\n".encode(), "lot.csv")
    assert first.item is not None and second.error == "caractères de contrôle dans la ligne (ce n'est pas du texte)."


def test_csv_row_with_a_title_only_is_analysed_on_its_title() -> None:
    (entry,) = _entries("id,title\n1,Décès après vaccination\n".encode(), "lot.csv")
    assert entry.item is not None and entry.item.dossier.text == "Décès après vaccination"
    assert entry.item.dossier.title == "Décès après vaccination" and entry.item.warnings == []


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"", InputError, "Lot vide"),
        (b"text\n\n\n", InputError, "Lot vide"),
        ("id:type:texte\na:pv:Fièvre\n".encode(), CorruptFile, "séparateur"),
        ("numéro;produit\n1;Doliprane\n".encode(), CorruptFile, "aucune colonne « text »"),
        ("text\nFièvre\n".encode("utf-16"), EncodingProblem, "UTF-16"),
    ],
)
def test_csv_batch_level_errors(data: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _entries(data, "lot.csv")


def test_jsonl_batch_reports_bad_lines() -> None:
    lines = [json.dumps({"type": "pv", "title": "a", "text": "Fièvre."}), "{pas du json", json.dumps({"type": "zz"}),
             json.dumps({"type": "pv", "title": "b", "text": "Décès."})]
    entries = _entries("\n".join(lines).encode(), "lot.jsonl")
    assert [bool(e.item) for e in entries] == [True, False, False, True]
    assert entries[1].where == "ligne 2" and "JSON invalide à la ligne 2" in (entries[1].error or "")


# --------------------------------------------------------------------------- zip

def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_sample_zip_batch() -> None:
    entries = _entries((SAMPLES / "lot_pv.zip").read_bytes(), "lot_pv.zip")
    assert all(e.item for e in entries) and len(entries) == 5
    wheres = [e.where for e in entries]
    assert wheres[0] == "lot_pv.zip › lot/cioms_i_aplati.pdf" and "lot_pv.zip › lot/dossiers.jsonl › ligne 2" in wheres
    assert entries[0].item and entries[0].item.details["form"] == "CIOMS I"


def test_zip_dangerous_names_nesting_and_bad_members() -> None:
    inner = _zip({"cas.txt": b"Patient de 40 ans, urticaire."})
    deeper = _zip({"niveau2.zip": _zip({"niveau3.zip": inner})})
    data = _zip({"../evasion.txt": b"x", "/absolu.txt": b"x", "ok.txt": "Fièvre après vaccin.".encode(),
                 "imbrique.zip": inner, "profond.zip": deeper, "casse.pdf": b"%PDF-1.4 tronque",
                 "__MACOSX/._ok.txt": b"x"})
    entries = _entries(data, "lot.zip")
    by_where = {e.where: e for e in entries}
    assert "dangereux" in (by_where["lot.zip › ../evasion.txt"].error or "")
    assert "dangereux" in (by_where["lot.zip › /absolu.txt"].error or "")
    assert by_where["lot.zip › ok.txt"].item is not None
    assert by_where["lot.zip › imbrique.zip › cas.txt"].item is not None
    assert "trop profonde" in (by_where["lot.zip › profond.zip › niveau2.zip"].error or "")
    assert "PDF tronqué" in (by_where["lot.zip › casse.pdf"].error or "")
    assert not any("__MACOSX" in w for w in by_where)


def test_zip_members_of_an_unknown_format_are_reported_one_by_one() -> None:
    data = _zip({"malware.exe": b"MZ\x90\x00", "photo.JPG": b"\xff\xd8\xff", "sans-extension": "Fièvre.".encode(),
                 "cas.txt": "Décès après vaccination.".encode()})
    by_where = {e.where: e for e in _entries(data, "lot.zip")}
    for member, suffix in (("malware.exe", ".exe"), ("photo.JPG", ".jpg")):
        assert by_where[f"lot.zip › {member}"].error == (
            f"format non reconnu (« {suffix} » ; attendu : .txt, .md, .json, .jsonl, .xml, .pdf, .docx, .csv ou .zip).")
    assert by_where["lot.zip › cas.txt"].item is not None and by_where["lot.zip › sans-extension"].item is not None
    # Errors are bare reasons: the CLI adds « — ignoré. » itself (no « : ignoré. — ignoré. »).
    assert not any((e.error or "").endswith(("ignoré.", "ignorée.")) for e in by_where.values())


def test_random_bytes_named_zip_are_an_unreadable_archive() -> None:
    with pytest.raises(CorruptFile, match=r"« lot\.zip » : archive zip illisible"):
        _entries(bytes(range(256)) * 8, "lot.zip")


def test_zip_bomb_and_limits_refuse_the_whole_archive() -> None:
    bomb = _zip({"bombe.txt": b"a" * (30 * 1024 * 1024)})
    with pytest.raises(InputTooLarge, match="bombe de décompression"):
        _entries(bomb, "bombe.zip")
    many = _zip({f"f{i}.txt": b"Fievre." for i in range(12)})
    with pytest.raises(InputTooLarge, match="12 entrées"):
        _entries(many, "lot.zip", limits=IntakeLimits(max_zip_entries=10))
    big = _zip({"a.txt": b"Fievre. " * 4000}, zipfile.ZIP_STORED)
    with pytest.raises(InputTooLarge, match="une fois décompressé "):
        _entries(big, "lot.zip", limits=IntakeLimits(max_zip_total_bytes=16_000))
    with pytest.raises(CorruptFile, match="archive zip illisible"):
        _entries(bomb[: len(bomb) // 2], "tronque.zip")
    with pytest.raises(InputError, match="Lot vide"):
        _entries(_zip({"__MACOSX/._x": b"x"}), "vide.zip")


def test_batch_row_limit() -> None:
    data = ("text\n" + "\n".join(f"Fièvre {i}" for i in range(5))).encode()
    entries = _entries(data, "lot.csv", limits=IntakeLimits(max_batch_rows=3))
    assert len(entries) == 4 and entries[-1].error and "au-delà de 3 dossiers" in entries[-1].error


def test_parse_upload_refuses_a_batch_with_a_bad_row() -> None:
    """``POST /triage`` (one response) refuses a batch whose row fails; ``/triage/batch`` reports it."""
    with pytest.raises(CorruptFile, match="ligne 3 :"):
        parse_upload((HEADER + "c1;pv;ok;1;F;A;;\nc2;pv;ko;x;F;A;;\n").encode(), filename="lot.csv")
