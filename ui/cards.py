"""Pure builders of what the screens show: risk card props, highlighted text, citations, queue, search, trainer.

No Chainlit import and no service call: :mod:`ui.app` sends what these functions build (custom
elements, side texts, Markdown, CSV). Texts come from ``ui/messages.fr.yaml`` through
:func:`ui.render.text`.

>>> segments("Le patient est décédé.", [(15, 21, "PV-DECES")])
[{'text': 'Le patient est ', 'mark': ''}, {'text': 'décédé', 'mark': 'PV-DECES'}, {'text': '.', 'mark': ''}]
>>> days_left_text(1)
'1 jour restant'
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from classifier.result import TextEvidence, TriageResult
from corpora.model import RISK_LEVELS, Hit
from ui import render
from ui.render import number, outcome_fr, text

#: the level's colour key in the card (the level is always written in words too)
LEVEL_TONES = {"faible": "low", "modéré": "medium", "élevé": "high", "critique": "critical"}
SIDE_EXCERPT_CHARS = 6000
_WORD = re.compile(r"\w{5,}", re.UNICODE)


def _fold(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in plain if not unicodedata.combining(c))


# --------------------------------------------------------------------------- highlighting

def segments(value: str, spans: Iterable[tuple[int, int, str]]) -> list[dict[str, str]]:
    """``value`` cut into ``{"text", "mark"}`` pieces; ``mark`` names what a highlighted span is (else "")."""
    cleaned = sorted((max(0, s), min(len(value), e), label) for s, e, label in spans if e > s)
    out: list[dict[str, str]] = []
    pos = 0
    for start, end, label in cleaned:
        if start < pos:  # overlapping spans: extend the previous highlight
            if end > pos and out:
                out[-1]["text"] += value[pos:end]
                pos = end
            continue
        if start > pos:
            out.append({"text": value[pos:start], "mark": ""})
        out.append({"text": value[start:end], "mark": label})
        pos = end
    if pos < len(value):
        out.append({"text": value[pos:], "mark": ""})
    return out


def shared_word_spans(passage: str, reference: str, limit: int = 40) -> list[tuple[int, int, str]]:
    """Spans of the words of ``passage`` (5 letters or more, accents ignored) also found in ``reference``."""
    wanted = {_fold(m.group()) for m in _WORD.finditer(reference)}
    spans = [(m.start(), m.end(), "commun") for m in _WORD.finditer(passage) if _fold(m.group()) in wanted]
    return spans[:limit]


def markdown_highlight(value: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """Markdown of ``value`` with the spans in bold (for side panels, where HTML is not rendered)."""
    parts = []
    for piece in segments(value, spans):
        chunk = piece["text"].replace("*", "\\*").replace("_", "\\_")
        if piece["mark"] and chunk.strip():
            lead = chunk[: len(chunk) - len(chunk.lstrip())]
            tail = chunk[len(chunk.rstrip()):]
            chunk = f"{lead}**{chunk.strip()}**{tail}"
        parts.append(chunk)
    return "".join(parts)


def window(value: str, start: int, end: int, chars: int = SIDE_EXCERPT_CHARS) -> tuple[str, int, int, bool, bool]:
    """A window of ``value`` around ``[start, end)``: (text, new start, new end, cut before, cut after)."""
    if len(value) <= chars:
        return value, start, end, False, False
    margin = max(0, (chars - (end - start)) // 2)
    lo = max(0, start - margin)
    hi = min(len(value), max(end + margin, lo + chars))
    return value[lo:hi], start - lo, end - lo, lo > 0, hi < len(value)


def passage_markdown(document_text: str, hit: Hit, title: str) -> str:
    """A cited passage for the side panel: the stored document around the span, the span in bold."""
    body, start, end, before, after = window(document_text, hit.start, hit.end)
    md = markdown_highlight(body, [(start, end, "cité")])
    lines = [f"**{title}**", text("side.document", document_id=hit.document_id, source=hit.source), "",
             ("… " if before else "") + md + (" …" if after else "")]
    if hit.outcome:
        lines += ["", text("side.outcome", outcome=outcome_fr(hit.outcome))]
    return "\n".join(lines)


# --------------------------------------------------------------------------- risk card

def days_left_text(days: int) -> str:
    if days < 0:
        return text("card.overdue", days=-days, s="s" if -days > 1 else "")
    return text("card.days_left", days=days, s="s" if days > 1 else "")


def deadline(result: TriageResult, day0: date) -> tuple[date | None, int | None]:
    """The due date of the processing mode counted from ``day0``, and the days left from ``day0``."""
    days = result.processing_mode.deadline_days
    if not days:
        return None, None
    return day0 + timedelta(days=int(days)), int(days)


def evidence_spans(result: TriageResult) -> list[tuple[int, int, str]]:
    return [(ev.start, ev.end, c.code) for c in result.criteria for ev in c.evidence
            if isinstance(ev, TextEvidence)]


def _evidence_list(result: TriageResult) -> list[dict[str, Any]]:
    out = []
    for c in result.criteria:
        items = []
        for ev in c.evidence[:4]:
            if isinstance(ev, TextEvidence):
                items.append(f"« {' '.join(ev.text.split())} »")
            else:
                items.append(ev.text_fr())
        out.append({"code": c.code, "label": c.label, "reference": c.reference, "evidence": items})
    return out


def _explanation(result: TriageResult) -> list[str]:
    ex = result.explanation
    lines = [text("card.floor", level=ex.niveau_plancher_criteres)]
    lines.append(text("card.model_level", level=ex.niveau_modele) if ex.niveau_modele else text("card.no_model"))
    lines.append(text("card.rule", rule=ex.regle))
    top = sorted(ex.contributions_modele, key=lambda c: -abs(c.contribution))[:5]
    if top:
        lines.append(text("card.contributions", items=" ; ".join(
            f"{c.feature} ({'+' if c.contribution >= 0 else ''}{number(c.contribution)})" for c in top)))
    lines += [text("card.review_reason", reason=r) for r in ex.motifs_revue or []]
    return lines


def _hit_card(n: int, hit: Hit, reference_text: str, side_name: str) -> dict[str, Any]:
    return {"n": n, "title": hit.title or hit.document_id, "document_id": hit.document_id, "source": hit.source,
            "similarity": number(hit.similarity), "outcome": outcome_fr(hit.outcome) if hit.outcome else "",
            "excerpt": segments(hit.excerpt, shared_word_spans(hit.excerpt, reference_text)),
            "side": side_name}


def precedent_name(n: int) -> str:
    return text("card.precedent_name", n=n)


def guideline_name(n: int) -> str:
    return text("card.guideline_name", n=n)


def risk_card(result: TriageResult, dossier_text: str, today: date, *, assessment_id: int | None = None,
              can_decide: bool = False) -> dict[str, Any]:
    """The props of the ``RiskCard`` custom element (``public/elements/RiskCard.jsx``)."""
    types: dict[str, str] = render.messages()["triage"]["types"]
    due, days = deadline(result, today)
    mode = result.processing_mode
    return {
        "lang": "fr",
        "id": result.id,
        "type": types.get(result.type, result.type),
        "level": result.risk_level,
        "levelText": text("card.level", level=result.risk_level),
        "tone": LEVEL_TONES.get(result.risk_level, "low"),
        "levels": list(RISK_LEVELS),
        "score": number(result.risk_score),
        "needsReview": text("triage.needs_review") if result.needs_review else "",
        "mode": {"code": mode.code, "label": mode.label or mode.code, "expertises": list(mode.expertises),
                 "reference": mode.reference or ""},
        "deadline": ({"days": mode.deadline_days, "due": due.strftime("%d/%m/%Y"),
                      "left": days_left_text(days)} if due is not None and days is not None else None),
        "criteria": _evidence_list(result),
        "text": segments(dossier_text, evidence_spans(result)) if dossier_text else [],
        "explanation": _explanation(result),
        "precedents": [_hit_card(n, h, dossier_text, precedent_name(n)) for n, h in enumerate(result.precedents, 1)],
        "guidelines": [_hit_card(n, h, dossier_text, guideline_name(n)) for n, h in enumerate(result.guidelines, 1)],
        "context": [{"fact": c.fact, "source": c.source_hit.title or c.source_hit.document_id}
                    for c in result.context if c.fact],
        "warnings": list(dict.fromkeys(result.warnings)),
        "versions": text("triage.versions", model=result.model_version or "–",
                         referentiel=result.referentiel_version or "–"),
        "assessmentId": assessment_id,
        "canDecide": can_decide,
        "labels": render.messages()["card"]["labels"],
    }


def card_summary(result: TriageResult, today: date) -> str:
    """The Markdown message that carries the card: the essentials in words, and the names of the side texts.

    Chainlit turns each side element's name written in the message into a link that opens it.
    """
    due, days = deadline(result, today)
    lines = [text("triage.title", id=result.id, type=render.messages()["triage"]["types"].get(result.type,
                                                                                               result.type)),
             text("triage.risk", level=result.risk_level, score=number(result.risk_score))]
    mode = result.processing_mode
    if due is not None and days is not None:
        lines.append(text("card.mode_line", mode=mode.label or mode.code, due=due.strftime("%d/%m/%Y"),
                          left=days_left_text(days)))
    else:
        lines.append(text("card.mode_only", mode=mode.label or mode.code))
    opens = [text("card.dossier_name")]
    opens += [precedent_name(n) for n in range(1, len(result.precedents) + 1)]
    opens += [guideline_name(n) for n in range(1, len(result.guidelines) + 1)]
    lines.append(text("card.open_sources", names=", ".join(opens)))
    return "\n\n".join(lines)


def dossier_markdown(result: TriageResult, dossier_text: str) -> str:
    """The dossier text for the side panel, each criterion's evidence in bold, then the criteria."""
    body = markdown_highlight(dossier_text, evidence_spans(result)) if dossier_text else text("card.no_text")
    crit = [f"- **{c['code']}** — {c['label']} : {', '.join(c['evidence'])}" for c in _evidence_list(result)]
    return "\n".join([f"**{text('card.dossier_name')}** (`{result.id}`)", "", body, "", *crit])


def hit_side_markdown(hit: Hit, document_text: str, title: str) -> str:
    return passage_markdown(document_text, hit, title)


# --------------------------------------------------------------------------- follow-up answers

def cited_answer(reply: Mapping[str, Any]) -> str:
    """A cited answer as Markdown: each sentence with its ``[n]`` marks (names of the side passages)."""
    sentences = reply.get("sentences") or []
    if not sentences:
        return str(reply.get("answer") or "")
    out = []
    for s in sentences:
        marks = "".join(citation_name(n) for n in s.get("citations") or [])
        out.append(f"{s['text']} {marks}".strip())
    return " ".join(out)


def citation_name(n: int) -> str:
    return f"[{n}]"


# --------------------------------------------------------------------------- search

# besides the retrieval's own French aliases (vaccin, grave, statut…)
SEARCH_ALIASES = {"periode": "year", "période": "year", "annee": "year", "année": "year", "nature": "kind",
                  "gravite": "serious", "gravité": "serious"}


@dataclass(frozen=True)
class SearchRequest:
    query: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    export: bool = False


def _values(key: str, value: str) -> list[str]:
    values = [v for v in value.split(",") if v]
    if key == "year":  # a period: 2003-2004
        out: list[str] = []
        for v in values:
            lo, sep, hi = v.partition("-")
            if sep and lo.isdigit() and hi.isdigit() and 0 <= int(hi) - int(lo) <= 100:
                out += [str(y) for y in range(int(lo), int(hi) + 1)]
            else:
                out.append(v)
        return out
    return values


def parse_search(body: str) -> SearchRequest:
    """``myocardite source:vaers année:2003-2004 grave:oui --csv`` → query words, filters, CSV wanted.

    Filter keys are checked by the retrieval service (unknown keys refused in French).
    """
    words: list[str] = []
    filters: dict[str, list[str]] = {}
    export = False
    for token in body.split():
        if token.lower() in ("--csv", "csv", "export:csv"):
            export = True
            continue
        key, sep, value = token.partition(":")
        if sep and value and key.replace("_", "").isalpha() and not value.startswith("//"):
            name = SEARCH_ALIASES.get(key.lower(), key.lower())
            filters.setdefault(name, []).extend(_values(name, value))
        else:
            words.append(token)
    return SearchRequest(" ".join(words), filters, export)


CSV_COLUMNS = ("rang", "titre", "source", "nature", "document", "similarité", "début", "fin", "extrait", "issue")


def search_csv(hits: Sequence[Hit]) -> str:
    """The results as CSV (UTF-8 with BOM, French headers, formulas neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rank, h in enumerate(hits, 1):
        row = [rank, h.title, h.source, h.kind, h.document_id, f"{h.similarity:.3f}", h.start, h.end,
               " ".join(h.excerpt.split()), outcome_fr(h.outcome) if h.outcome else ""]
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row])
    return "\ufeff" + out.getvalue()


def search_markdown(request: SearchRequest, hits: Sequence[Hit]) -> str:
    """Results with their citation names (``[n]`` opens the passage)."""
    shown = ", ".join(f"{k} = {', '.join(v)}" for k, v in request.filters.items())
    head = text("search.title", query=request.query) + (f" — {text('search.filters', filters=shown)}"
                                                        if shown else "")
    if not hits:
        return text("search.none", query=request.query) + (f" ({shown})" if shown else "")
    parts = [head]
    for rank, hit in enumerate(hits, 1):
        parts.append(text("search.hit_cited", rank=rank, name=citation_name(rank), title=hit.title or hit.document_id,
                          source=hit.source, document_id=hit.document_id, similarity=number(hit.similarity)))
        quoted = render.excerpt(hit.excerpt)
        if quoted:
            parts.append(quoted)
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- queue

def queue_markdown(queue: Any) -> str:
    """The pending dossiers (``assistant.services.queue.Queue``), most urgent first."""
    if not queue.items:
        return text("queue.empty")
    lines = [text("queue.title", total=queue.total, overdue=queue.overdue, due_soon=queue.due_soon,
                  today=queue.today.strftime("%d/%m/%Y")), "",
             "| " + " | ".join(render.messages()["queue"]["columns"]) + " |",
             "|" + "---|" * len(render.messages()["queue"]["columns"])]
    for n, item in enumerate(queue.items, 1):
        title = " ".join(str(item.title).split()).replace("|", "/")[:80]
        lines.append(f"| {n} | {item.risk_level} | {days_left_text(item.days_left)} | "
                     f"{item.deadline.strftime('%d/%m/%Y')} | `{item.dossier_id}` | {title} | "
                     f"{item.processing_mode_label or item.processing_mode or '–'} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- trainer

def trainer_case_markdown(case: Any, number_in_session: int) -> str:
    """The case shown to the trainee: the dossier only, never its outcome."""
    d = case.dossier
    types: dict[str, str] = render.messages()["triage"]["types"]
    fields = d.fields.model_dump(exclude_none=True) if hasattr(d.fields, "model_dump") else dict(d.fields or {})
    facts = []
    for key in ("patient_age", "patient_sex", "medical_history", "other_medications"):
        if fields.get(key) not in (None, "", []):
            facts.append(f"{render.messages()['trainer']['fields'].get(key, key)} : {fields[key]}")
    products = [str(p["name"]) for p in fields.get("products") or [] if isinstance(p, dict) and p.get("name")]
    if products:
        facts.append(f"{render.messages()['trainer']['fields']['products']} : {', '.join(products)}")
    body = [text("trainer.case_title", n=number_in_session, type=types.get(d.type, d.type),
                 difficulty=case.difficulty, title=d.title),
            "", *[f"- {f}" for f in facts], "", "> " + " ".join(d.text.split())[:3000], "",
            text("trainer.instructions")]
    return "\n".join(body)


def trainer_reveal_markdown(case: Any, score: Any, tool: TriageResult | None) -> str:
    """After the answer: the recorded outcome, the tool's proposal, the criteria, the precedents, the score."""
    lines = [text("trainer.score", total=score.total, level=score.level_points, mode=score.mode_points,
                  criteria=score.criteria_points),
             text("trainer.recorded", level=case.recorded_level, outcome=outcome_fr(case.outcome)),
             text("trainer.yours", level=score.proposed_level, mode=score.proposed_mode or "–",
                  expected_mode=score.expected_mode or "–")]
    if tool is not None:
        lines.append(text("trainer.tool", level=tool.risk_level, score=number(tool.risk_score),
                          mode=tool.processing_mode.label or tool.processing_mode.code))
        if tool.precedents:
            lines.append(text("trainer.precedents_title"))
            lines += [f"- {precedent_name(n)} : **{h.title or h.document_id}** (`{h.document_id}`) — "
                      f"{text('trainer.outcome')} {outcome_fr(h.outcome)}" for n, h in enumerate(tool.precedents, 1)]
    if case.criteria:
        lines.append(text("trainer.criteria_title"))
        lines += [f"- {'✓' if c in score.named else '✗'} **{c.code}** — {c.label}"
                  + (f" ({text('trainer.floor', level=c.floor)})" if c.floor else "") for c in case.criteria]
    else:
        lines.append(text("trainer.no_criteria"))
    if case.traps:
        lines.append(text("trainer.traps", codes=", ".join(case.traps)))
    return "\n\n".join(lines)


def trainer_summary_markdown(summary: Any) -> str:
    if not summary.cases:
        return text("trainer.summary_empty")
    lines = [text("trainer.summary", cases=summary.cases, agreements=summary.agreements,
                  rate=number(100 * summary.agreement_rate, 0), mean=number(summary.mean_score, 0))]
    for difficulty, (n, agree) in sorted(summary.by_difficulty.items()):
        lines.append(f"- {text('trainer.by_difficulty', difficulty=difficulty, n=n, agree=agree)}")
    if summary.most_missed:
        lines.append(text("trainer.missed_title"))
        lines += [f"- **{c.code}** — {c.label} : {n}" for c, n in summary.most_missed]
    return "\n".join(lines)
