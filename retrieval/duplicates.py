"""Duplicate reports: the profile of a report, blocking keys and a pairwise score (pure functions).

A pharmacovigilance report often reaches the agency twice: the same case told by the physician and
by the manufacturer, a follow-up sent as a new report. Detection works in two steps, as record
linkage tools do (vigiMatch among them):

1. **Blocking** (:func:`blocking_keys`, :class:`BlockIndex`): a report is only compared with those
   sharing a product and one of: its onset date (± 1 day), its vaccination date (± 1 day), its
   age (± 1 year) and sex, or its onset delay. A lookup is a few dictionary reads, whatever the size
   of the history.
2. **Scoring** (:func:`pair_score`): agreement of the patient profile (age, sex), the products, the
   dates, the coded reaction terms, and the similarity of the narratives (Jaccard and containment
   of character 5-gram shingles of the folded text, drawn towards neutral for a narrative of a few
   words) and the reporter's region, as a weighted mean in [0, 1]. A field unknown on either side
   counts as neutral (0.5); a plain conflict on sex, age, products or region lowers the score
   (× 0.7 each). The threshold that flags a pair is chosen on a
   development set (``gdr eval duplicates``) and stored in the settings.

Profiles are built from a :class:`~corpora.model.Dossier` (:func:`profile_of_dossier`) or from the
metadata and text of an indexed case document (:func:`profile_of_document`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from corpora.model import Dossier
from corpora.normalise import bar_split, fold, normalise_substance, parse_date
from retrieval.facets import norm_code, norm_word

if TYPE_CHECKING:
    from retrieval.stores.docstore import DocStore

SHINGLE = 5
MAX_TEXT = 4000
#: Weight of each component of the score (a weighted mean; unknown components count 0.5).
WEIGHTS: Mapping[str, float] = {
    "narrative": 4.0, "terms": 1.5, "products": 1.5, "onset": 1.5, "vaccination": 1.0, "age": 1.0, "sex": 0.5,
    "region": 0.5,
}
#: French names of the components, as the explanation shows them.
COMPONENT_LABELS: Mapping[str, str] = {
    "narrative": "récit", "terms": "termes de réaction", "products": "produits", "onset": "date de début",
    "vaccination": "date d'administration", "age": "âge", "sex": "sexe", "region": "région",
}
NEUTRAL = 0.5
#: A narrative shorter than this many shingles (about 20 words) counts less, in proportion.
FULL_TEXT_SHINGLES = 120
#: Identifying fields whose plain disagreement (another sex, an age apart, no product in common, another
#: region or country) makes
#: the same patient unlikely: the score is multiplied by ``CONFLICT_FACTOR`` for each.
CONFLICTS = ("sex", "age", "products", "region")
CONFLICT_FACTOR = 0.7
DEFAULT_THRESHOLD = 0.75


@dataclass(frozen=True)
class Profile:
    """What two reports of the same case share: patient, products, dates, reaction terms, narrative."""

    id: str
    type: str | None = None
    age: float | None = None
    sex: str | None = None
    products: frozenset[str] = frozenset()
    onset: date | None = None
    onset_days: float | None = None
    vaccination: date | None = None
    received: date | None = None
    region: str | None = None
    terms: frozenset[str] = frozenset()
    shingles: frozenset[str] = field(default=frozenset(), repr=False)


def shingles(text: str, n: int = SHINGLE) -> frozenset[str]:
    """Character ``n``-grams of the folded text (words only, single spaces), at most :data:`MAX_TEXT` chars."""
    basis = " ".join(norm_word(fold(text[:MAX_TEXT])).split())
    if len(basis) <= n:
        return frozenset({basis}) if basis else frozenset()
    return frozenset(basis[i:i + n] for i in range(len(basis) - n + 1))


def _age(value: Any) -> float | None:
    try:
        age = float(value)
    except (TypeError, ValueError):
        return None
    return age if 0 <= age <= 130 else None


def _sex(value: Any) -> str | None:
    s = str(value or "").strip().upper()[:1]
    return s if s in ("F", "M") else None


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return parse_date(value) if value else None


def _region(country: Any, region: Any) -> str | None:
    """``COUNTRY/REGION`` when the region is known (a region alone is read within its country)."""
    r = norm_code(str(region or ""))
    return f"{norm_code(str(country or ''))}/{r}" if r else None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def product_keys(vaccine_types: Iterable[str] = (), substances: Iterable[str] = (),
                 names: Iterable[str] = ()) -> frozenset[str]:
    """Normalised product keys: vaccine types (``v:``) and substances (``s:``); names only without either."""
    keys = {f"v:{c}" for v in vaccine_types if v and (c := norm_code(v))}
    keys |= {f"s:{s}" for v in substances if v and (s := normalise_substance(v))}
    if not keys:
        keys = {f"n:{n}" for v in names if v and (n := norm_word(v))}
    return frozenset(keys)


def profile_of_dossier(dossier: Dossier) -> Profile:
    f = dossier.fields
    products = f.products or []
    substances = [*(f.substances or []), *(s for p in products for s in (p.substances or []))]
    vaccine_types = [*(f.vaccine_types or []), *(p.vaccine_type for p in products if p.vaccine_type)]
    return Profile(
        id=dossier.id, type=dossier.type, age=_age(f.patient_age), sex=_sex(f.patient_sex),
        products=product_keys(vaccine_types, substances, [p.name for p in products if p.name] + [f.inn or ""]),
        onset=f.onset_date, onset_days=f.onset_days, vaccination=f.vaccination_date, received=dossier.received_at,
        region=_region(f.country, f.region),
        terms=frozenset(t for s in f.symptoms or [] if (t := norm_word(s))),
        shingles=shingles(dossier.text or dossier.title),
    )


def profile_of_document(doc_id: str, metadata: Mapping[str, Any], text: str = "", *,
                        dossier_type: str | None = None, received_at: Any = None, keys_only: bool = False) -> Profile:
    """The profile of an indexed case document (VAERS metadata: bar-joined vaccine types and symptoms).

    ``keys_only``: only what :func:`blocking_keys` reads (products, dates, age, sex), for a fast scan.
    """
    if keys_only:
        return Profile(id=doc_id, age=_age(metadata.get("age")), sex=_sex(metadata.get("sex")),
                       products=product_keys(bar_split(metadata.get("vaccine_types")),
                                             bar_split(metadata.get("substances"))),
                       onset=_date(metadata.get("onset_date")), onset_days=_number(metadata.get("onset_days")),
                       vaccination=_date(metadata.get("vaccination_date")))
    return Profile(
        id=doc_id, type=dossier_type or metadata.get("type"), age=_age(metadata.get("age")),
        sex=_sex(metadata.get("sex")),
        products=product_keys(bar_split(metadata.get("vaccine_types")), bar_split(metadata.get("substances"))),
        onset=_date(metadata.get("onset_date")), onset_days=_number(metadata.get("onset_days")),
        vaccination=_date(metadata.get("vaccination_date")),
        received=_date(received_at or metadata.get("received_at")),
        region=_region(metadata.get("country") or ("US" if str(doc_id).startswith("vaers:") else None),
                       metadata.get("region")),
        terms=frozenset(t for s in bar_split(metadata.get("symptoms")) if (t := norm_word(s))),
        shingles=shingles(text) if text else frozenset(),
    )


# --------------------------------------------------------------------------- scoring

def _sets(a: frozenset[str], b: frozenset[str]) -> float | None:
    """Mean of Jaccard and containment (overlap over the smaller set); None when either is empty."""
    if not a or not b:
        return None
    inter = len(a & b)
    return 0.5 * inter / len(a | b) + 0.5 * inter / min(len(a), len(b))


def _days(a: date | None, b: date | None) -> float | None:
    if a is None or b is None:
        return None
    gap = abs((a - b).days)
    return 1.0 if gap == 0 else 0.6 if gap <= 2 else 0.2 if gap <= 7 else 0.0


def _age_agreement(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    tolerance = max(0.5, 0.05 * max(a, b))
    gap = abs(a - b)
    return 1.0 if gap <= tolerance else 0.5 if gap <= 2 * tolerance else 0.0


def _onset(a: Profile, b: Profile) -> float | None:
    by_date = _days(a.onset, b.onset)
    if by_date is not None:
        return by_date
    if a.onset_days is None or b.onset_days is None:
        return None
    gap = abs(a.onset_days - b.onset_days)
    return 1.0 if gap == 0 else 0.5 if gap <= 1 else 0.0


def _narrative(a: frozenset[str], b: frozenset[str]) -> float | None:
    """Shingle similarity, drawn towards neutral for short texts (a few words say little about identity)."""
    value = _sets(a, b)
    if value is None:
        return None
    reliability = min(1.0, min(len(a), len(b)) / FULL_TEXT_SHINGLES)
    return NEUTRAL + (value - NEUTRAL) * reliability


def components(a: Profile, b: Profile) -> dict[str, float | None]:
    """Agreement of each component in [0, 1]; None when unknown on either side."""
    return {
        "narrative": _narrative(a.shingles, b.shingles),
        "terms": _sets(a.terms, b.terms),
        "products": (len(a.products & b.products) / len(a.products | b.products)
                     if a.products and b.products else None),
        "onset": _onset(a, b),
        "vaccination": _days(a.vaccination, b.vaccination),
        "age": _age_agreement(a.age, b.age),
        "sex": None if a.sex is None or b.sex is None else float(a.sex == b.sex),
        "region": None if a.region is None or b.region is None else float(a.region == b.region),
    }


def combine(parts: Mapping[str, float | None], weights: Mapping[str, float] = WEIGHTS) -> float:
    """Weighted mean of the components present in ``weights`` (unknown ones count :data:`NEUTRAL`),
    times :data:`CONFLICT_FACTOR` for each identifying field in plain conflict (sex, age, products)."""
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("weights must not all be zero")
    value = sum(w * (NEUTRAL if parts.get(k) is None else float(parts[k] or 0.0)) for k, w in weights.items())
    for key in CONFLICTS:
        if key in weights and parts.get(key) == 0.0:
            value *= CONFLICT_FACTOR
    return round(value / total, 4)


def pair_score(a: Profile, b: Profile, weights: Mapping[str, float] = WEIGHTS) -> float:
    """Probability-like score in [0, 1] that ``a`` and ``b`` report the same case."""
    return combine(components(a, b), weights)


def agreeing(parts: Mapping[str, float | None], at_least: float = 0.8) -> list[str]:
    """French names of the components that agree (value ≥ ``at_least``), in weight order."""
    return [COMPONENT_LABELS[k] for k in WEIGHTS if (v := parts.get(k)) is not None and v >= at_least]


# --------------------------------------------------------------------------- blocking

def _near_days(d: date) -> list[date]:
    return [d - timedelta(days=1), d, d + timedelta(days=1)]


def blocking_keys(p: Profile, *, query: bool = False) -> set[tuple[Any, ...]]:
    """Keys under which ``p`` is stored (``query=False``) or looked up (``query=True``: ± 1 day, ± 1 year).

    Every key holds a product: reports without any product are not blocked (never compared).
    """
    keys: set[tuple[Any, ...]] = set()
    for prod in p.products:
        if p.onset is not None:
            keys.update(("o", prod, d) for d in (_near_days(p.onset) if query else [p.onset]))
        if p.vaccination is not None:
            keys.update(("v", prod, d) for d in (_near_days(p.vaccination) if query else [p.vaccination]))
        if p.age is not None:
            age = int(p.age)
            keys.update(("a", prod, x, p.sex) for x in ((age - 1, age, age + 1) if query else (age,)))
        if p.onset_days is not None:
            keys.add(("d", prod, int(p.onset_days)))
    return keys


class BlockIndex:
    """Blocking keys → ids, for a fast candidate lookup over a whole history."""

    def __init__(self) -> None:
        self._blocks: dict[tuple[Any, ...], list[str]] = {}
        self.size = 0

    def add(self, profile: Profile) -> None:
        for key in blocking_keys(profile):
            self._blocks.setdefault(key, []).append(profile.id)
        self.size += 1

    def extend(self, profiles: Iterable[Profile]) -> BlockIndex:
        for p in profiles:
            self.add(p)
        return self

    def candidates(self, profile: Profile, max_block: int = 2000) -> set[str]:
        """Ids sharing a query key with ``profile`` (itself excluded); a block larger than ``max_block``
        (a mass vaccination day) is skipped, the other keys still apply."""
        out: set[str] = set()
        for key in blocking_keys(profile, query=True):
            block = self._blocks.get(key)
            if block and len(block) <= max_block:
                out.update(block)
        out.discard(profile.id)
        return out


@dataclass(frozen=True)
class Match:
    """A likely twin of a report: its id, the score and the components that agree."""

    id: str
    score: float
    components: dict[str, float | None]


def best_matches(profile: Profile, candidates: Iterable[Profile], threshold: float, k: int = 3,
                 weights: Mapping[str, float] = WEIGHTS) -> list[Match]:
    """The ``k`` highest-scoring candidates at or above ``threshold``, best first (ties by id)."""
    scored = []
    for c in candidates:
        if c.id == profile.id:
            continue
        parts = components(profile, c)
        score = combine(parts, weights)
        if score >= threshold:
            scored.append(Match(c.id, score, parts))
    scored.sort(key=lambda m: (-m.score, m.id))
    return scored[:k]


def iter_pairs_scores(pairs: Sequence[tuple[Profile, Profile]],
                      weights: Mapping[str, float] = WEIGHTS) -> Iterator[float]:
    for a, b in pairs:
        yield pair_score(a, b, weights)


# --------------------------------------------------------------------------- the indexed history

def history_index(store: DocStore, dossier_type: str = "pv") -> BlockIndex:
    """Blocking index of the indexed case documents of ``dossier_type`` (metadata only: a fast scan)."""
    import json

    index = BlockIndex()
    rows = store.db.execute("SELECT id, metadata FROM documents WHERE kind = 'case' AND dossier_type = ?",
                            (dossier_type,))
    for doc_id, metadata in rows:
        index.add(profile_of_document(doc_id, json.loads(metadata), keys_only=True))
    return index


def history_best_matches(profile: Profile, store: DocStore, ids: Iterable[str], threshold: float, k: int = 3,
                         weights: Mapping[str, float] = WEIGHTS) -> list[Match]:
    """:func:`best_matches` among indexed documents, the same matches, but a candidate's narrative is
    shingled only when its best possible score (narrative in full agreement) reaches ``threshold``: the
    score is non-decreasing in each component, and shingling is most of the cost of a history lookup."""
    kept: list[Profile] = []
    for d in store.get_many(sorted(set(ids))).values():
        light = profile_of_document(d.id, d.metadata, "", dossier_type=d.dossier_type, received_at=d.received_at)
        parts = components(profile, light)
        parts["narrative"] = 1.0 if profile.shingles and d.text else None
        if combine(parts, weights) >= threshold:
            kept.append(replace(light, shingles=shingles(d.text) if d.text else frozenset()))
    return best_matches(profile, kept, threshold, k=k, weights=weights)
