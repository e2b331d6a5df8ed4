"""Evaluation of duplicate detection on pairs built from real VAERS reports (``gdr eval duplicates``).

The pairs
    VAERS publishes no duplicate labels. Positives are **synthetic perturbed copies** of real reports,
    written by :func:`perturb` (seeded), paired with their original: the copy loses or shifts fields
    as a second reporter would (age missing or ± 1 year, sex or region missing, onset and vaccination dates
    missing or ± 1 day, a reaction term dropped or added, one of several vaccines dropped) and its
    narrative is retold (sentences dropped or swapped, a follow-up preamble or an extra sentence,
    abbreviations, typos, capitals, truncation). Negatives are real pairs of *different* reports:
    **random pairs sharing a vaccine**, and **hard pairs**: a report with the most similar *other*
    report of its year among its blocking candidates (same vaccine and onset or vaccination date, or
    age and sex), the very pair a detector must not flag. Each positive gets one negative of each
    kind. A hard pair may be a real duplicate VAERS holds twice (unlabelled): precision is a floor.

The splits
    By year: the threshold is chosen on the *dev* year (the lowest threshold whose precision reaches
    ``min_precision``, else the best F1), precision and recall are read once on the *test* year.
    Baselines in the same run: narrative only, and fields only (the same score without the
    narrative), each with its own dev threshold. Blocking is measured too: the share of copies whose
    original is among the candidates looked up in the whole test year, and the candidates per lookup.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from corpora.model import Dossier
from corpora.normalise import fr_decimal
from retrieval.duplicates import WEIGHTS, BlockIndex, Profile, best_matches, pair_score, profile_of_dossier

DEFAULT_DEV_YEAR = 2003
DEFAULT_TEST_YEAR = 2004
DEFAULT_PAIRS = 1000
DEFAULT_MIN_PRECISION = 0.95
SEED = 20261201

_ABBREVIATIONS = ((r"\bpatient\b", "pt"), (r"\bvaccine\b", "vax"), (r"\byears? old\b", "y.o."),
                  (r"\bhours?\b", "hrs"), (r"\bapproximately\b", "approx."), (r"\bhistory\b", "hx"),
                  (r"\bdays?\b", "d"), (r"\bfever\b", "pyrexia"))
_PREAMBLES = ("Follow-up information received: ", "Information has been received from a physician: ",
              "Case reported by the manufacturer. ", "FU: ")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

METHODS: Mapping[str, Mapping[str, float]] = {
    "score complet (champs + récit)": WEIGHTS,
    "récit seul (référence)": {"narrative": 1.0},
    "champs seuls (référence)": {k: v for k, v in WEIGHTS.items() if k != "narrative"},
}


# --------------------------------------------------------------------------- the generator

def _typos(text: str, rng: random.Random, rate: float) -> str:
    out = []
    for word in text.split(" "):
        if len(word) > 3 and rng.random() < rate:
            i = rng.randrange(len(word) - 1)
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:] if rng.random() < 0.5 else word[:i] + word[i + 1:]
        out.append(word)
    return " ".join(out)


def perturb_text(text: str, rng: random.Random, donor_text: str = "") -> str:
    """The narrative retold by another reporter (see the module docstring); never empty if ``text`` is not."""
    sentences = [s for s in _SENTENCE.split(text.strip()) if s]
    if len(sentences) > 1:
        kept = [s for s in sentences if rng.random() >= 0.2] or [sentences[0]]
        if len(kept) > 1 and rng.random() < 0.25:
            i = rng.randrange(len(kept) - 1)
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
        sentences = kept
    out = " ".join(sentences)
    if rng.random() < 0.3:
        out = rng.choice(_PREAMBLES) + out
    if donor_text and rng.random() < 0.2:
        extra = _SENTENCE.split(donor_text.strip())[0]
        out = f"{out} {extra[:200]}"
    if rng.random() < 0.5:
        for pattern, repl in _ABBREVIATIONS:
            if rng.random() < 0.6:
                out = re.sub(pattern, repl, out, flags=re.IGNORECASE)
    out = _typos(out, rng, 0.03)
    if rng.random() < 0.2:
        out = out.upper()
    if rng.random() < 0.15 and len(out) > 200:
        out = out[: int(len(out) * 0.6)]
    return out.strip() or text


def perturb(dossier: Dossier, rng: random.Random, donor: Dossier | None = None) -> Dossier:
    """A synthetic second report of the same case (id ``dup:<native id>``), fields and narrative perturbed."""
    f = dossier.fields.model_copy(deep=True)
    if f.patient_age is not None:
        r = rng.random()
        if r < 0.3:
            f.patient_age = None
        elif r < 0.5 and f.patient_age >= 2:
            f.patient_age = f.patient_age + rng.choice((-1, 1))
    if f.patient_sex is not None and rng.random() < 0.15:
        f.patient_sex = None
    if f.region is not None and rng.random() < 0.3:
        f.region = None
    for name in ("onset_date", "vaccination_date"):
        value = getattr(f, name)
        if value is not None:
            r = rng.random()
            if r < 0.25:
                setattr(f, name, None)
            elif r < 0.4:
                setattr(f, name, value + timedelta(days=rng.choice((-1, 1))))
    if f.onset_days is not None and rng.random() < 0.3:
        f.onset_days = None
    if f.symptoms:
        terms = list(f.symptoms)
        if len(terms) > 1 and rng.random() < 0.4:
            terms.pop(rng.randrange(len(terms)))
        if donor is not None and donor.fields.symptoms and rng.random() < 0.3:
            terms.append(rng.choice(donor.fields.symptoms))
        f.symptoms = list(dict.fromkeys(terms))
    if f.vaccine_types and len(f.vaccine_types) > 1 and rng.random() < 0.3:
        dropped = rng.choice(f.vaccine_types)
        f.vaccine_types = [v for v in f.vaccine_types if v != dropped]
        if f.products:
            f.products = [p for p in f.products if p.vaccine_type != dropped] or f.products[:1]
    text = perturb_text(dossier.text, rng, donor.text if donor else "")
    native = dossier.id.split(":", 1)[1]
    return dossier.model_copy(update={"id": f"dup:{native}", "text": text, "fields": f, "source": "dup",
                                      "received_at": dossier.received_at})


# --------------------------------------------------------------------------- the pairs

@dataclass
class PairSet:
    """Labelled pairs of one year: ``(a, b, label, kind)`` with kind ``copie``, ``aléatoire`` or ``difficile``."""

    year: int
    history: list[Profile]
    pairs: list[tuple[Profile, Profile, int, str]]


def build_pairs(dossiers: Sequence[Dossier], n: int, seed: int = SEED) -> tuple[list[tuple[Profile, Profile, int, str]],
                                                                            list[Profile]]:
    """``n`` positives (perturbed copies), ``n`` random same-vaccine negatives, up to ``n`` hard negatives."""
    rng = random.Random(seed)
    usable = [d for d in dossiers if d.fields.vaccine_types and d.text.strip()]
    history = [profile_of_dossier(d) for d in usable]
    by_id = {p.id: p for p in history}
    by_vaccine: dict[str, list[str]] = {}
    for p in history:
        for prod in p.products:
            by_vaccine.setdefault(prod, []).append(p.id)
    pairs: list[tuple[Profile, Profile, int, str]] = []
    originals = rng.sample(usable, min(n, len(usable)))
    for d in originals:
        copy = perturb(d, rng, rng.choice(usable))
        pairs.append((profile_of_dossier(copy), by_id[d.id], 1, "copie"))
    # random pairs of different reports sharing a vaccine
    tries = 0
    randoms = 0
    while randoms < n and tries < n * 20:
        tries += 1
        a = by_id[rng.choice(usable).id]
        prod = rng.choice(sorted(a.products))
        other = rng.choice(by_vaccine[prod])
        if other != a.id:
            pairs.append((a, by_id[other], 0, "aléatoire"))
            randoms += 1
    # hard pairs: each report with its best-scoring other report among its blocking candidates
    index = BlockIndex().extend(history)
    hard = 0
    for d in rng.sample(usable, len(usable)):
        if hard >= n:
            break
        p = by_id[d.id]
        best = best_matches(p, (by_id[c] for c in index.candidates(p)), 0.0, k=1)
        if best:
            pairs.append((p, by_id[best[0].id], 0, "difficile"))
            hard += 1
    return pairs, history


# --------------------------------------------------------------------------- metrics

def precision_recall(scores: Sequence[float], labels: Sequence[int], threshold: float) -> tuple[float, float, float]:
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y == 1)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y == 0)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s < threshold and y == 1)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def choose_threshold(scores: Sequence[float], labels: Sequence[int], min_precision: float) -> float:
    """The threshold of best F1 among those whose precision reaches ``min_precision`` (else of best F1
    overall); ties go to the higher threshold."""
    best: tuple[bool, float, float] = (False, -1.0, 1.0)
    for t in sorted(set(scores)):
        p, _r, f1 = precision_recall(scores, labels, t)
        key = (p >= min_precision, f1, t)
        if key >= best:
            best = key
    return best[2]


def _load_year(corpora_dir: Path, year: int, limit: int | None) -> list[Dossier]:
    from corpora.loaders.vaers import iter_vaers_records

    path = Path(corpora_dir) / "vaers" / f"{year}VAERSData.zip"
    if not path.is_file():
        from corpora.errors import InputError

        raise InputError(f"Fichier VAERS introuvable : {path}")
    out = []
    for rec in iter_vaers_records([path]):
        out.append(rec.dossier)
        if limit is not None and len(out) >= limit:
            break
    return out


def evaluate(corpora_dir: Path, *, dev_year: int = DEFAULT_DEV_YEAR, test_year: int = DEFAULT_TEST_YEAR,
             n: int = DEFAULT_PAIRS, min_precision: float = DEFAULT_MIN_PRECISION, seed: int = SEED,
             limit: int | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Thresholds chosen on ``dev_year``, precision and recall read once on ``test_year`` (see the module)."""
    say = log or (lambda _m: None)
    sets: dict[str, tuple[list[tuple[Profile, Profile, int, str]], list[Profile]]] = {}
    for split, year in (("dev", dev_year), ("test", test_year)):
        say(f"VAERS {year} ({split}) : lecture et construction des paires…")
        sets[split] = build_pairs(_load_year(corpora_dir, year, limit), n, seed + year)
    rows: list[dict[str, Any]] = []
    chosen = {}
    for method, weights in METHODS.items():
        dev_pairs = sets["dev"][0]
        dev_scores = [pair_score(a, b, weights) for a, b, _y, _k in dev_pairs]
        threshold = choose_threshold(dev_scores, [y for *_x, y, _k in dev_pairs], min_precision)
        chosen[method] = threshold
        test_pairs = sets["test"][0]
        test_scores = [pair_score(a, b, weights) for a, b, _y, _k in test_pairs]
        labels = [y for *_x, y, _k in test_pairs]
        p, r, f1 = precision_recall(test_scores, labels, threshold)
        dev_p, dev_r, _ = precision_recall(dev_scores, [y for *_x, y, _k in dev_pairs], threshold)
        per_kind = {}
        for kind in ("aléatoire", "difficile"):
            neg = [s for s, (_a, _b, y, k) in zip(test_scores, test_pairs, strict=True) if k == kind]
            per_kind[kind] = sum(1 for s in neg if s >= threshold) / len(neg) if neg else 0.0
        rows.append({"méthode": method, "seuil (dev)": threshold, "précision dev": dev_p, "rappel dev": dev_r,
                     "précision test": p, "rappel test": r, "F1 test": f1,
                     "faux positifs aléatoires": per_kind["aléatoire"],
                     "faux positifs difficiles": per_kind["difficile"]})
    test_pairs, history = sets["test"]
    blocking = _blocking(history, [a for a, _b, y, _k in test_pairs if y == 1],
                         [b.id for _a, b, y, _k in test_pairs if y == 1], chosen[next(iter(METHODS))], seed)
    counts = {split: {"positives": sum(1 for *_x, y, _k in ps if y == 1),
                      "négatives aléatoires": sum(1 for *_x, k in ps if k == "aléatoire"),
                      "négatives difficiles": sum(1 for *_x, k in ps if k == "difficile"),
                      "historique": len(hist)}
              for split, (ps, hist) in sets.items()}
    return {"dev_year": dev_year, "test_year": test_year, "seed": seed, "min_precision": min_precision,
            "pairs": counts, "rows": rows, "blocking": blocking}


def _blocking(history: list[Profile], queries: list[Profile], twins: list[str], threshold: float,
              seed: int) -> dict[str, Any]:
    """The whole detector over the test year: candidates by blocking, then the best match at ``threshold``.

    Copies are looked up in the year's history (right when their original is the best match);
    as many real reports of that year (not originals of a copy) are looked up in the same history
    without themselves: a match there is an alarm (a false one, unless VAERS holds the case twice).
    """
    by_id = {p.id: p for p in history}
    started = time.perf_counter()
    index = BlockIndex().extend(history)
    built = time.perf_counter() - started
    found = right = 0
    sizes = []
    started = time.perf_counter()
    for q, twin in zip(queries, twins, strict=True):
        cands = index.candidates(q)
        sizes.append(len(cands))
        found += twin in cands
        best = best_matches(q, (by_id[c] for c in cands), threshold, k=1)
        right += bool(best) and best[0].id == twin
    elapsed = time.perf_counter() - started
    originals = set(twins)
    others = [p for p in history if p.id not in originals]
    reals = random.Random(seed).sample(others, min(len(queries), len(others)))
    alarms = sum(1 for p in reals if best_matches(p, (by_id[c] for c in index.candidates(p)), threshold, k=1))
    sizes.sort()
    flags = right + alarms
    return {"history": len(history), "queries": len(queries), "recall": found / len(queries) if queries else 0.0,
            "median_candidates": sizes[len(sizes) // 2] if sizes else 0,
            "p95_candidates": sizes[int(len(sizes) * 0.95)] if sizes else 0,
            "ms_per_lookup": 1000 * elapsed / max(len(queries), 1), "build_seconds": built,
            "threshold": threshold, "e2e_recall": right / len(queries) if queries else 0.0,
            "reals": len(reals), "alarms": alarms, "alarm_rate": alarms / len(reals) if reals else 0.0,
            "e2e_precision": right / flags if flags else 1.0}


def markdown(result: Mapping[str, Any], command: str) -> str:
    """The French report of :func:`evaluate`."""
    lines = [
        "# Détection des doublons — évaluation", "",
        f"Commande : `{command}`. Graine {result['seed']}. Seuil choisi sur l'année {result['dev_year']} (dev) : "
        f"celui du meilleur F1 parmi ceux dont la précision atteint {result['min_precision']:.0%} ; lu une fois "
        f"sur l'année {result['test_year']} (test).", "",
        "Positives : copies perturbées synthétiques de vrais signalements (générateur "
        "`retrieval/duplicates_eval.py`, `perturb`) ; négatives : paires aléatoires de signalements "
        "différents partageant un vaccin, et paires difficiles (chaque signalement avec l'autre signalement le "
        "plus semblable parmi ses candidats du blocage ; quelques-unes peuvent être de vrais doublons de VAERS, "
        "la précision est donc un minimum).", "",
        "| split | positives | négatives aléatoires | négatives difficiles | historique |",
        "|---|---|---|---|---|",
    ]
    for split, c in result["pairs"].items():
        lines.append(f"| {split} | {c['positives']} | {c['négatives aléatoires']} | {c['négatives difficiles']} "
                     f"| {c['historique']} |")
    lines += ["", "| méthode | seuil (dev) | précision dev | rappel dev | précision test | rappel test | F1 test "
              "| FP aléatoires | FP difficiles |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['méthode']} | {r['seuil (dev)']:.3f} | {r['précision dev']:.3f} | {r['rappel dev']:.3f} "
                     f"| {r['précision test']:.3f} | {r['rappel test']:.3f} | {r['F1 test']:.3f} "
                     f"| {r['faux positifs aléatoires']:.3f} | {r['faux positifs difficiles']:.3f} |")
    b = result["blocking"]
    lines += ["", f"Blocage sur l'année de test entière ({b['history']} signalements) : l'original figure parmi "
              f"les candidats de {b['recall']:.1%} des {b['queries']} copies ; candidats par recherche : médiane "
              f"{b['median_candidates']}, 95e centile {b['p95_candidates']} ; "
              f"{fr_decimal(b['ms_per_lookup'], 2)} ms par recherche, score compris (index construit en "
              f"{fr_decimal(b['build_seconds'])} s).", "",
              f"Détecteur complet (blocage puis meilleur candidat au seuil {b['threshold']:.3f}) sur l'année de "
              f"test : jumeau correct pour {b['e2e_recall']:.1%} des copies ; {b['alarms']} alertes sur "
              f"{b['reals']} vrais signalements sans copie ({b['alarm_rate']:.1%}, fausses sauf doublon réel de "
              f"VAERS) ; précision de bout en bout à parts égales : {b['e2e_precision']:.1%}.", ""]
    return "\n".join(lines)


def kinds(pairs: Iterable[tuple[Profile, Profile, int, str]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for *_x, kind in pairs:
        out[kind] = out.get(kind, 0) + 1
    return out
