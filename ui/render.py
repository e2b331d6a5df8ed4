"""Pure rendering for the chat UI: user text → request, service results → French Markdown.

Nothing here imports Chainlit or calls the services (it only reads their result types):
:mod:`ui.app` and :mod:`ui.handlers` do the I/O. The texts come
from ``ui/messages.fr.yaml`` (loaded once, on first use).

>>> parse_request("/recherche myocardite").kind
'search'
>>> parse_request("/amm Nouveau médicament").dossier_type
'amm'
>>> number(0.5)
'0,50'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from classifier.result import FieldEvidence, TextEvidence, TriageResult
from corpora.io import dotted_text, read_texts
from corpora.model import Hit

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.fr.yaml"

SEARCH_COMMANDS = ("/recherche", "/rechercher", "/search")
HELP_COMMANDS = ("/aide", "/help", "/?")
SCREEN_COMMANDS = {"/file": "queue", "/queue": "queue", "/formation": "training", "/nouveautes": "news",
                   "/nouveautés": "news", "/signaler": "report", "/suggerer": "report", "/suggérer": "report"}
TYPE_COMMANDS = {"/pv": "pv", "/amm": "amm", "/aec": "aec"}

EXCERPT_CHARS = 320
SEARCH_K = 5

Kind = Literal["search", "triage", "help", "empty", "unknown", "queue", "training", "news", "report"]


@dataclass(frozen=True)
class ChatRequest:
    """What the user asked: a search, a triage (with an optional declared type), help, or nothing."""

    kind: Kind
    text: str = ""
    dossier_type: str | None = None


@lru_cache(maxsize=1)
def messages(path: Path = MESSAGES_FILE) -> dict[str, Any]:
    """The French texts of the UI (read once)."""
    return read_texts(path)


def text(key: str, **values: Any) -> str:
    """The French text at a dotted ``key`` of the messages file, formatted with ``values``."""
    return dotted_text(messages(), key, **values)


def parse_request(message: str, has_files: bool = False) -> ChatRequest:
    """Read the user's message: ``/recherche …``, ``/pv|/amm|/aec …``, ``/aide``, or a dossier text."""
    body = (message or "").strip()
    if not body:
        return ChatRequest("triage" if has_files else "empty")
    if not body.startswith("/"):
        return ChatRequest("triage", body)
    head, _, rest = body.partition(" ")
    if "\n" in head:  # "/amm\nTexte…"
        head, _, more = head.partition("\n")
        rest = f"{more} {rest}".strip()
    command, rest = head.lower(), rest.strip()
    if command in SEARCH_COMMANDS:
        return ChatRequest("search", rest)
    if command in HELP_COMMANDS:
        return ChatRequest("help")
    if command in SCREEN_COMMANDS:
        return ChatRequest(SCREEN_COMMANDS[command], rest)  # type: ignore[arg-type]
    if command in TYPE_COMMANDS:
        return ChatRequest("triage", rest, TYPE_COMMANDS[command])
    return ChatRequest("unknown", head)


# --------------------------------------------------------------------------- small helpers

def number(value: Any, digits: int = 2) -> str:
    """A French decimal (comma), or « – » when absent."""
    if value is None:
        return text("triage.unknown")
    try:
        return f"{float(value):.{digits}f}".replace(".", ",")
    except (TypeError, ValueError):
        return str(value)


def excerpt(value: str | None, limit: int = EXCERPT_CHARS) -> str:
    """One quoted Markdown line: whitespace collapsed, cut at a word boundary."""
    flat = " ".join((value or "").split())
    if len(flat) > limit:
        flat = flat[:limit].rsplit(" ", 1)[0] + " …"
    return f"> {flat}" if flat else ""


def _bullets(lines: Iterable[str]) -> list[str]:
    return [f"- {line}" for line in lines if line]


# --------------------------------------------------------------------------- search

def render_hits(query: str, hits: Sequence[Hit]) -> str:
    """Search results with their citation: title, source, document id, similarity and excerpt."""
    if not hits:
        return text("search.none", query=query)
    parts = [text("search.title", query=query)]
    for rank, hit in enumerate(hits, 1):
        parts.append(text("search.hit", rank=rank, title=hit.title or hit.document_id, source=hit.source,
                          document_id=hit.document_id, similarity=number(hit.similarity)))
        quoted = excerpt(hit.excerpt)
        if quoted:
            parts.append(quoted)
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- triage

def outcome_fr(outcome: Mapping[str, Any] | None) -> str:
    """A short French summary of a precedent's recorded outcome (PV, AMM, AEC or sample)."""
    if not outcome:
        return text("outcome.unknown")
    parts: list[str] = []
    for key in ("decision", "risk_level", "processing_mode", "authorisation_status", "status", "why_stopped"):
        value = outcome.get(key)
        if value:
            parts.append(text(f"outcome.{key}", value=str(value).strip().rstrip(".")))
    flags = messages()["outcome"]["flags"]
    if not outcome.get("decision"):  # a sample dossier's decision already says it all
        parts.extend(label for key, label in flags.items() if outcome.get(key) is True)
        if outcome.get("hospital_days"):
            parts.append(text("outcome.hospital_days", days=number(outcome["hospital_days"], 0)))
    if not parts:
        has_flags = any(key in outcome for key in flags)
        return text("outcome.none_serious") if has_flags else text("outcome.unknown")
    return " ; ".join(parts)


def _evidence_fr(evidence: Sequence[TextEvidence | FieldEvidence], limit: int = 3) -> str:
    items = []
    for ev in list(evidence)[:limit]:
        if isinstance(ev, TextEvidence):
            if ev.text:
                items.append(f"« {' '.join(ev.text.split())} »")
        elif ev.field:
            items.append(ev.text_fr())
    return " ; ".join(items)


def _level_fr(level: str) -> str:
    levels: dict[str, str] = messages()["levels"]
    return levels.get(level, level)


def render_triage(result: TriageResult, intake_warnings: Sequence[str] = ()) -> str:
    """One triage result as French Markdown."""
    unknown = text("triage.unknown")
    types: dict[str, str] = messages()["triage"]["types"]
    parts = [text("triage.title", id=result.id, type=types.get(result.type, result.type)),
             text("triage.risk", level=_level_fr(result.risk_level), score=number(result.risk_score))]
    if result.needs_review:
        parts.append(text("triage.needs_review"))

    mode = result.processing_mode
    parts.append(text("triage.mode_title"))
    mode_lines = [text("triage.mode", label=mode.label or unknown)]
    if mode.expertises:
        mode_lines.append(text("triage.expertises", expertises=", ".join(mode.expertises)))
    if mode.deadline_days:
        mode_lines.append(text("triage.deadline", days=mode.deadline_days))
    if mode.reference:
        mode_lines.append(text("triage.reference", reference=mode.reference))
    parts.append("\n".join(_bullets(mode_lines)))

    parts.append(text("triage.criteria_title"))
    if not result.criteria:
        parts.append(text("triage.criteria_none"))
    for c in result.criteria:
        lines = [text("triage.criterion", code=c.code, label=c.label)]
        ev = _evidence_fr(c.evidence)
        if ev:
            lines.append("  - " + text("triage.evidence", evidence=ev))
        if c.reference:
            lines.append("  - " + text("triage.criterion_reference", reference=c.reference))
        parts.append("- " + "\n".join(lines))

    context = [c for c in result.context if c.fact]
    if context:
        parts.append(text("triage.context_title"))
        parts.append("\n".join(_bullets(
            f"{c.fact} — " + text("triage.source", title=c.source_hit.title or c.source_hit.document_id,
                                  document_id=c.source_hit.document_id)
            for c in context)))

    if result.signal is not None and (result.signal.rows or result.signal.notes):
        period = f"reçus avant le {result.signal.before:%d/%m/%Y}" if result.signal.before else "de tout le corpus"
        parts.append(text("triage.signal_title", period=period, rule=result.signal.rule))
        parts.append("\n".join(_bullets([*(text("triage.signal_row", summary=r.summary, recount=r.recount)
                                            for r in result.signal.rows), *result.signal.notes])))

    parts.append(text("triage.precedents_title"))
    if not result.precedents:
        parts.append(text("triage.precedents_none"))
    for p in result.precedents:
        parts.append("- " + text("triage.precedent", title=p.title or p.document_id, document_id=p.document_id,
                                 similarity=number(p.similarity), outcome=outcome_fr(p.outcome)))

    if result.guidelines:
        parts.append(text("triage.guidelines_title"))
        for g in result.guidelines:
            parts.append("- " + text("triage.guideline", title=g.title or g.document_id, document_id=g.document_id,
                                     similarity=number(g.similarity)))
            quoted = excerpt(g.excerpt, 240)
            if quoted:
                parts.append("  " + quoted)

    warnings = list(dict.fromkeys([*intake_warnings, *result.warnings]))
    if warnings:
        parts.append(text("triage.warnings_title"))
        parts.append("\n".join(_bullets(warnings)))
    parts.append("_" + text("triage.versions", model=result.model_version or unknown,
                            referentiel=result.referentiel_version or unknown) + "_")
    return "\n\n".join(parts)


def offline_html(html: str) -> str:
    """Chainlit's page made to work offline and in French: no font, stylesheet or script from the internet.

    Removes every ``<link>`` and ``<script>`` that points to another host (Google Fonts, the KaTeX
    stylesheet on a CDN, preconnects) and sets ``lang="fr"``.
    """
    import re

    html = re.sub(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>", "", html, flags=re.IGNORECASE | re.DOTALL)
    html = re.sub(r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", "", html,
                  flags=re.IGNORECASE | re.DOTALL)
    return re.sub(r"<html\b[^>]*>", '<html lang="fr">', html, count=1, flags=re.IGNORECASE)


def render_error(message: str) -> str:
    """A domain error (French ``GdrError.message``) for the chat."""
    return text("error", message=message)
