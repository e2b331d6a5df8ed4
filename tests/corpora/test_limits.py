"""Limit messages of corpora.limits: French that agrees whatever the container, numbers grouped."""

from __future__ import annotations

import io
import zipfile

import pytest

from corpora.errors import InputTooLarge
from corpora.limits import IntakeLimits, check_text_length, check_zip


def _zip(n: int) -> zipfile.ZipFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for i in range(n):
            zf.writestr(f"{i}.txt", "Fièvre.")
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize("what", ["archive zip", "document Word (.docx)"])
def test_entry_count_message_agrees_with_any_container(what: str) -> None:
    with pytest.raises(InputTooLarge) as info:
        check_zip(_zip(12), "« lot »", IntakeLimits(max_zip_entries=10), what=what)
    assert info.value.message == f"« lot » refusé : {what} de 12 entrées (maximum 10)."


def test_total_size_message_agrees_with_any_container() -> None:
    with pytest.raises(InputTooLarge) as info:
        check_zip(_zip(3), "« cas.docx »", IntakeLimits(max_zip_total_bytes=10), what="document Word (.docx)")
    assert info.value.message == ("« cas.docx » refusé : document Word (.docx) de 0 Mio une fois décompressé "
                                  "(maximum 0 Mio).")


def test_text_length_groups_digits_and_keeps_the_name_intact() -> None:
    with pytest.raises(InputTooLarge) as info:
        check_text_length("x" * 1_200_000, IntakeLimits(), "« Patient, 40 ans »")
    assert info.value.message == ("Texte trop long dans « Patient, 40 ans » : 1 200 000 caractères (maximum 200 000) ; "
                                  "découpez le dossier ou ne gardez que le récit utile.")
