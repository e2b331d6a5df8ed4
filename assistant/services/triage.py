"""Triage service: assess dossiers, add context, precedents and guidelines, in the output contract.

``triage_dossiers(settings, dossiers)`` yields one dict per dossier::

    {"id","type","risk_level","risk_score","needs_review","processing_mode":{…},"criteria":[…],
     "context":[{"fact","source_hit"}],"explanation":{…},"precedents":[Hit…],"guidelines":[Hit…],
     "warnings":[…],"model_version","referentiel_version"}

Batches stream in chunks; with ``workers > 1`` the assessment of each chunk runs in a
process pool (models and knowledge base loaded once per process), while precedents and
guidelines are looked up in the main process.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from corpora.errors import GdrError, InputError
from corpora.model import DOSSIER_TYPES, Dossier, dossier_from_json

NO_INDEX_WARNING = "index de recherche absent : précédents non disponibles"
EXIT_SKIPPED = 3


def referentiel_version() -> str:
    from classifier.referentiel import referentiel_version as version

    return str(version())


# --------------------------------------------------------------------------- input

@dataclass
class Skipped:
    where: str
    reason: str

    def message(self) -> str:
        return f"{self.where} : {self.reason} — ignoré."


def _validation_reason(exc: Exception) -> str:
    text = str(exc)
    if "type" in text and ("'pv'" in text or "pv" in text) and "literal" in text.lower():
        return "type de dossier inconnu (attendu : pv, amm ou aec)"
    first = [line for line in text.splitlines() if line.strip()]
    detail = first[1].strip() if len(first) > 1 else (first[0] if first else "")
    return f"dossier invalide ({detail})"


def check_language(dossier: Dossier) -> str | None:
    from classifier.features import detect_language

    if dossier.text.strip() and detect_language(dossier.text) is None:
        return "texte ni en français ni en anglais"
    return None


def read_inputs(paths: Sequence[Path], default_type: str = "pv") -> Iterator[Dossier | Skipped]:
    """Dossiers from JSON Lines files (``outcome`` ignored) or single .txt/.md narratives."""
    from corpora.io import iter_jsonl

    if default_type not in DOSSIER_TYPES:
        raise InputError(f"Type de dossier inconnu : « {default_type} » (attendu : pv, amm ou aec).")
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"Fichier introuvable : {path}")
        suffix = path.suffix.lower()
        if suffix in (".txt", ".md"):
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{path} n'est pas encodé en UTF-8.") from None
            text = unicodedata.normalize("NFC", text).strip()
            from classifier.features import detect_language

            lang = detect_language(text)
            d = Dossier(id=f"sample:{path.stem or 'dossier'}", type=default_type,  # type: ignore[arg-type]
                        title=path.stem, text=text, language=lang if lang in ("fr", "en") else "fr",
                        source="sample", received_at=None)
            reason = check_language(d)
            yield Skipped(str(path), reason) if reason else d
            continue
        if suffix not in (".jsonl", ".json", ".ndjson"):
            raise InputError(f"{path} : format non reconnu (attendu : .jsonl de dossiers, .txt ou .md).")
        for n, obj, error in iter_jsonl(path):
            where = f"{path}, ligne {n}"
            if obj is None:
                yield Skipped(where, error or "ligne illisible")
                continue
            if obj.get("type") is not None and obj.get("type") not in DOSSIER_TYPES:
                yield Skipped(where, f"type de dossier inconnu « {obj.get('type')} » (attendu : pv, amm ou aec)")
                continue
            try:
                d = dossier_from_json(obj)
            except ValueError as exc:
                yield Skipped(where, _validation_reason(exc))
                continue
            reason = check_language(d)
            yield Skipped(where, reason) if reason else d


# --------------------------------------------------------------------------- assessment (in workers)

_STATE: dict[str, Any] = {}


def _init_state(settings_json: str, with_context: bool) -> None:
    """Load models (and the knowledge base) once per process; reloaded when settings or models change."""
    settings = Settings.model_validate_json(settings_json)
    from assistant.services.classifier import load_models
    from classifier.artefacts import latest_version

    key = (settings_json, with_context, tuple(latest_version(settings.models_dir, t) for t in ("pv", "amm")))
    if _STATE.get("key") == key:
        return
    _STATE["models"] = load_models(settings)
    _STATE["kb"] = _knowledge_base(settings) if with_context else None
    _STATE["key"] = key


def _knowledge_base(settings: Settings) -> Any:
    from classifier.knowledge_base import build_knowledge_base

    return build_knowledge_base(settings.effective_corpora_dir, settings.cache_dir)


def _hit_json(hit: Any) -> Any:
    if hit is None:
        return None
    return hit.model_dump(mode="json") if hasattr(hit, "model_dump") else hit


def _assess_chunk(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from classifier.assess import assess_batch, criteria_json
    from classifier.context import gather_context as gather
    from classifier.policy import expertises_of
    from classifier.policy import processing_mode as policy
    dossiers = [Dossier.model_validate(r) for r in raw]
    kb = _STATE.get("kb")
    contexts = [gather(d, kb) if kb is not None else None for d in dossiers]
    results = assess_batch(dossiers, _STATE["models"], [c.facts if c else [] for c in contexts])
    out = []
    for d, ctx, a in zip(dossiers, contexts, results, strict=True):
        mode = policy(d.type, a.level, expertises_of(a.fired))
        out.append({
            "id": d.id,
            "type": d.type,
            "risk_level": unicodedata.normalize("NFC", a.level),
            "risk_score": a.risk_score,
            "needs_review": a.needs_review,
            "processing_mode": _mode_json(mode),
            "criteria": criteria_json(a.fired),
            "context": [{"fact": getattr(c, "fact", None), "source_hit": _hit_json(getattr(c, "source_hit", None))}
                        for c in (ctx.facts if ctx else [])],
            "explanation": a.explanation,
            "precedents": [],
            "guidelines": [],
            "warnings": a.warnings + a.reasons + _context_warnings(ctx, kb is not None),
            "model_version": a.model_version,
            "referentiel_version": None,
        })
    return out


def _context_warnings(ctx: Any, has_kb: bool) -> list[str]:
    """What the database crossing could not do, said to the user (never guessed silently)."""
    if not has_kb:
        return ["Contexte des bases publiques (BDPM, HAS, EMA, ANSM) non calculé pour ce tri."]
    return list(getattr(ctx, "warnings", []) or [])


def _mode_json(mode: Any) -> dict[str, Any]:
    keys = ("code", "label", "expertises", "deadline_days", "reference")
    if mode is None:
        return {"code": None, "label": "mode de traitement indisponible (politique absente)", "expertises": [],
                "deadline_days": None, "reference": None}
    get = (lambda k: mode.get(k)) if isinstance(mode, dict) else (lambda k: getattr(mode, k, None))
    out = {k: get(k) for k in keys}
    out["expertises"] = list(out["expertises"] or [])
    return out


# --------------------------------------------------------------------------- orchestration

def _chunks(items: Iterable[Dossier], size: int) -> Iterator[list[Dossier]]:
    buf: list[Dossier] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


class _Retrieval:
    """Precedents and guidelines from the retrieval service, or a warning when no index exists."""

    def __init__(self, settings: Settings, enabled: bool) -> None:
        self.retriever: Any = None
        self.warning: str | None = None
        if not enabled:
            return
        try:
            from assistant.services.retrieval import open_retriever

            self.retriever = open_retriever(settings)
        except (GdrError, ImportError, OSError):
            self.warning = NO_INDEX_WARNING

    def add(self, dossier: Dossier, row: dict[str, Any], k_prec: int = 5, k_guid: int = 3) -> None:
        if self.warning:
            row["warnings"].append(self.warning)
        if self.retriever is None:
            return
        try:
            row["precedents"] = [_hit_json(h) for h in self.retriever.find_precedents(dossier, k=k_prec)]
            text = dossier.text or dossier.title
            row["guidelines"] = [_hit_json(h) for h in
                                 self.retriever.find_guidelines(text, dossier_type=dossier.type, k=k_guid)]
        except GdrError as exc:
            row["warnings"].append(f"précédents non disponibles : {exc.message}")

    def close(self) -> None:
        if self.retriever is not None and hasattr(self.retriever, "close"):
            self.retriever.close()


def triage_dossiers(settings: Settings, dossiers: Iterable[Dossier], with_precedents: bool = True,
                    workers: int = 1, chunk_size: int = 256, with_context: bool = True) -> Iterator[dict[str, Any]]:
    """Triage dossiers as a stream (see module docstring). Outcomes are never read: only Dossiers come in."""
    ref_version = referentiel_version()
    retrieval = _Retrieval(settings, with_precedents)
    try:
        if workers <= 1:
            _init_state(settings.model_dump_json(), with_context)
            for chunk in _chunks(dossiers, chunk_size):
                yield from _finish(chunk, _assess_chunk([d.model_dump(mode="json") for d in chunk]),
                                   retrieval, ref_version)
            return
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_state,
                                 initargs=(settings.model_dump_json(), with_context)) as pool:
            pending: list[tuple[list[Dossier], Any]] = []
            for chunk in _chunks(dossiers, chunk_size):
                pending.append((chunk, pool.submit(_assess_chunk, [d.model_dump(mode="json") for d in chunk])))
                while len(pending) > workers * 2:
                    c, fut = pending.pop(0)
                    yield from _finish(c, fut.result(), retrieval, ref_version)
            for c, fut in pending:
                yield from _finish(c, fut.result(), retrieval, ref_version)
    finally:
        retrieval.close()


def _finish(chunk: list[Dossier], rows: list[dict[str, Any]], retrieval: _Retrieval,
            ref_version: str | None) -> Iterator[dict[str, Any]]:
    for d, row in zip(chunk, rows, strict=True):
        row["referentiel_version"] = ref_version
        retrieval.add(d, row)
        yield row


def summary_fr(row: dict[str, Any]) -> str:
    """A readable French summary of one triage result."""
    mode = row["processing_mode"]
    lines = [f"Dossier {row['id']} ({row['type'].upper()}) — niveau de risque : {row['risk_level']} "
             f"(score {row['risk_score']:.2f}){' — à revoir par un évaluateur' if row['needs_review'] else ''}",
             f"  Mode de traitement : {mode.get('label') or '–'}"
             + (f", délai {mode['deadline_days']} jours" if mode.get("deadline_days") else "")
             + (f" ({mode['reference']})" if mode.get("reference") else "")]
    if mode.get("expertises"):
        lines.append(f"  Expertises : {', '.join(mode['expertises'])}")
    for c in row["criteria"]:
        ev = "; ".join(e.get("text") or f"{e.get('field')}={e.get('value')}" for e in c["evidence"][:2])
        lines.append(f"  Critère {c['code']} : {c['label']}" + (f" — « {ev} »" if ev else ""))
    for p in row["precedents"][:3]:
        lines.append(f"  Précédent : {p['title']} ({p['document_id']})")
    for w in row["warnings"]:
        lines.append(f"  Avertissement : {w}")
    lines.append(f"  Modèle : {row['model_version']} ; référentiel : {row['referentiel_version'] or '–'}")
    return "\n".join(lines)


def to_json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))
