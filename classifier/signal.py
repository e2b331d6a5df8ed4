"""Signal context of a PV dossier: disproportionality of each vaccine type × coded reaction term.

For each vaccine type (VAERS ``VAX_TYPE``) × coded reaction term (MedDRA preferred term) of a dossier,
:func:`signal_context` reads the precomputed counts (:class:`~classifier.signal_counts.SignalCounts`)
of the reports received **before the month of the dossier's reception** (never the dossier itself nor
any later report), and computes PRR, ROR, their 95 % CIs, χ² (Yates) and the usual signal rule
(:mod:`classifier.disproportionality`). Every row says how to reopen its figures: the search that lists
the reports it counts (``gdr search … --where vaccine_type=… --where symptom=…``) and the exact
recount (``gdr signal PRODUIT "TERME" --avant AAAA-MM-01`` / ``GET /signal?…``).
"""

from __future__ import annotations

import shlex
from datetime import date
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from classifier.disproportionality import SIGNAL_MIN_CHI2, SIGNAL_MIN_N, SIGNAL_MIN_PRR, Table2x2, disproportionality
from classifier.signal_counts import SignalCounts, month_of, product_key, term_key
from corpora.model import Dossier
from corpora.normalise import fr_decimal

MAX_PRODUCTS = 5
MAX_TERMS = 10
RULE = f"n ≥ {SIGNAL_MIN_N}, PRR ≥ {SIGNAL_MIN_PRR:g} et χ² ≥ {SIGNAL_MIN_CHI2:g} (Evans 2001)"


class SignalRow(BaseModel):
    """Disproportionality of one product × term over the reports received before ``before``."""

    product: str = Field(..., description="type de vaccin (VAERS VAX_TYPE)")
    term: str = Field(..., description="terme de réaction codé (MedDRA)")
    before: date | None = Field(..., description="signalements reçus avant cette date (null : tout le corpus)")
    n: int = Field(..., description="signalements antérieurs du couple produit × terme (a)")
    serious: int = Field(..., description="dont graves")
    fatal: int = Field(..., description="dont décès")
    n_product: int = Field(..., description="signalements antérieurs du produit (a + b)")
    n_term: int = Field(..., description="signalements antérieurs du terme (a + c)")
    n_total: int = Field(..., description="signalements antérieurs de la base (a + b + c + d)")
    prr: float | None
    prr_low: float | None = Field(..., description="borne basse de l'IC 95 % du PRR")
    prr_high: float | None
    ror: float | None
    ror_low: float | None = Field(..., description="borne basse de l'IC 95 % du ROR")
    ror_high: float | None
    chi2: float | None = Field(..., description="χ² avec correction de Yates")
    signal: bool = Field(..., description=f"règle : {RULE}")
    summary: str = Field(..., description="la ligne en français")
    query: str = Field(..., description="recherche qui rouvre les signalements comptés (gdr search)")
    queries: dict[str, str] = Field(..., description="pour chaque chiffre (n, serious, fatal, n_product, n_term), "
                                    "la recherche qui rouvre ses signalements")
    recount: str = Field(..., description="commande qui recalcule la ligne (gdr signal)")
    url: str = Field(..., description="route qui recalcule la ligne (GET /signal)")


class SignalContext(BaseModel):
    """The disproportionality table of a dossier (or of ``gdr signal`` / ``GET /signal``)."""

    source: str = Field("vaers", description="base de signalements comptée")
    before: date | None = Field(..., description="signalements reçus avant cette date (null : tout le corpus)")
    rule: str = RULE
    rows: list[SignalRow]
    notes: list[str] = Field(default_factory=list, description="ce qui n'a pas pu être calculé (français)")


def _fmt(x: float | None, digits: int = 2) -> str:
    return "n.d." if x is None else fr_decimal(x, digits)


def _period(before: date | None) -> str:
    return f"reçus avant le {before:%d/%m/%Y}" if before else "de tout le corpus"


def cut_of(received: date | None) -> date | None:
    """First day of the dossier's month: the counts stop there (monthly granularity, never the future)."""
    return received.replace(day=1) if received else None


def row(counts: SignalCounts, product: str, term: str, before: date | None) -> SignalRow:
    """One row of the table from the precomputed counts."""
    p = product_key(product)
    label = counts.label(term) or term.strip()
    c = counts.counts(p, term, month_of(before) if before else None)
    fig = disproportionality(Table2x2.from_margins(c.pair, c.product, c.term, c.total))
    prr_ci, ror_ci = fig.prr_ci, fig.ror_ci
    summary = (f"{p} × {label} : {c.pair} signalement(s) antérieur(s) {_period(before)} (dont {c.pair_serious} "
               f"grave(s), {c.pair_fatal} décès) sur {c.product} pour {p} ; PRR {_fmt(fig.prr)} "
               f"(IC 95 % {_fmt(prr_ci.low if prr_ci else None)}–{_fmt(prr_ci.high if prr_ci else None)}), "
               f"ROR {_fmt(fig.ror)} (IC 95 % {_fmt(ror_ci.low if ror_ci else None)}–"
               f"{_fmt(ror_ci.high if ror_ci else None)}), χ² {_fmt(fig.chi2, 1)}"
               f"{' : signal' if fig.signal else ''}.")
    on_product = f"--source vaers --where vaccine_type={shlex.quote(p)}"
    on_term = f"--where symptom={shlex.quote(term_key(label))}"
    query = f"gdr search {shlex.quote(label)} {on_product} {on_term}"
    queries = {"n": query, "serious": f"{query} --where serious=oui", "fatal": f"{query} --where died=oui",
               "n_product": f"gdr search {shlex.quote(p)} {on_product}",
               "n_term": f"gdr search {shlex.quote(label)} --source vaers {on_term}"}
    recount = f"gdr signal {shlex.quote(p)} {shlex.quote(label)}" + (f" --avant {before.isoformat()}" if before else "")
    params = {"product": p, "term": label, **({"before": before.isoformat()} if before else {})}
    return SignalRow(
        product=p, term=label, before=before, n=c.pair, serious=c.pair_serious, fatal=c.pair_fatal,
        n_product=c.product, n_term=c.term, n_total=c.total, prr=fig.prr,
        prr_low=prr_ci.low if prr_ci else None, prr_high=prr_ci.high if prr_ci else None, ror=fig.ror,
        ror_low=ror_ci.low if ror_ci else None, ror_high=ror_ci.high if ror_ci else None, chi2=fig.chi2,
        signal=fig.signal, summary=summary, query=query, queries=queries, recount=recount,
        url="/signal?" + urlencode(params))


def dossier_products(dossier: Dossier) -> list[str]:
    """The dossier's vaccine types (suspect products), codes as VAERS writes them."""
    f = dossier.fields
    names = [*(f.vaccine_types or []),
             *(p.vaccine_type for p in f.products or [] if p.vaccine_type and p.role != "concomitant")]
    return list(dict.fromkeys(product_key(n) for n in names if product_key(n)))


def signal_context(dossier: Dossier, counts: SignalCounts) -> SignalContext | None:
    """The table of the dossier's vaccine types × coded terms; None without a vaccine type or a coded term."""
    products = dossier_products(dossier)
    terms = list(dict.fromkeys(s.strip() for s in dossier.fields.symptoms or [] if s and s.strip()))
    if not products or not terms:  # nothing to count (a free-text narrative has no coded MedDRA term)
        return None
    before = cut_of(dossier.received_at)
    notes: list[str] = []
    known = [p for p in products if counts.has_product(p)]
    unknown = [p for p in products if p not in known]
    if unknown:
        notes.append("Type(s) de vaccin absent(s) de VAERS : " + ", ".join(unknown) + ".")
    if len(known) > MAX_PRODUCTS or len(terms) > MAX_TERMS:
        notes.append(f"Table limitée aux {MAX_PRODUCTS} premiers types de vaccin et {MAX_TERMS} premiers termes.")
    rows = [row(counts, p, t, before) for p in known[:MAX_PRODUCTS] for t in terms[:MAX_TERMS]]
    if before is None:
        notes.append("Dossier sans date de réception : comptes sur tout le corpus.")
    return SignalContext(before=before, rows=rows, notes=notes)


def signal_table(counts: SignalCounts, product: str, term: str | None = None, before: date | None = None,
                 limit: int = 20) -> SignalContext:
    """The expert's table: one term, or the product's most reported terms (``gdr signal``, ``GET /signal``).

    ``before`` is cut to the first day of its month, like a dossier's date. ValueError (French) for a
    product VAERS does not know.
    """
    p = product_key(product)
    if not p or not counts.has_product(p):
        known = counts.products()
        raise ValueError(f"Type de vaccin inconnu de VAERS : « {product} ». Exemples : {', '.join(known[:12])}…")
    cut = cut_of(before)
    terms = [term] if term else counts.top_terms(p, month_of(cut) if cut else None, limit)
    return SignalContext(before=cut, rows=[row(counts, p, t, cut) for t in terms])


def summary_lines(ctx: SignalContext) -> list[str]:
    """French lines for the CLI and the chat card."""
    lines = [f"Contexte de signal (VAERS, signalements {_period(ctx.before)} ; règle : {ctx.rule})"]
    lines += [f"  {r.summary} Recompter : {r.recount}" for r in ctx.rows]
    lines += [f"  {n}" for n in ctx.notes]
    return lines
