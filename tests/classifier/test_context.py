"""Gathering the context: small knowledge bases, plus a real-corpora check (marked ``corpora``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from classifier.context import ContextResult, gather_context
from classifier.criteria import evaluate_criteria
from classifier.knowledge_base import KnowledgeBase, build_knowledge_base, match_key
from corpora.model import Dossier

DOC_TEXT = "Medicine X. Substances: valproate. Safety referral: yes. Status: final."


def _hit(doc_id: str, text: str, needle: str) -> dict[str, Any]:
    start = text.index(needle)
    end = text.index(".", start) + 1
    return {"id": f"{doc_id}#0", "document_id": doc_id, "source": "ema-referral", "kind": "referral",
            "title": "Referral", "score": 1.0, "similarity": 1.0, "start": start, "end": end,
            "excerpt": text[start:end], "outcome": None}


@pytest.fixture()
def small_kb() -> KnowledgeBase:
    key = match_key("valproate de sodium")
    facts = [
        {"code": "CTX_EMA_REFERRAL_SAFETY", "fact": "Arbitrage européen de sécurité sur le valproate.",
         "hit": _hit("ema-referral:A", DOC_TEXT, "Safety referral"), "substance": "valproate",
         "date": "2014-10-01", "outcome_related": False},
        {"code": "CTX_EMA_DHPC", "fact": "DHPC diffusée pour le valproate.",
         "hit": _hit("ema-dhpc:B", DOC_TEXT, "Status"), "substance": "valproate",
         "date": "2024-02-19", "outcome_related": False},
    ]
    return KnowledgeBase(facts={key: facts}, names={key: "valproate de sodium"},
                         brands={"depakine": ["valproate de sodium"]}, sources=["ema"])


def pv(text: str, received: date | None = None, **fields: Any) -> Dossier:
    return Dossier(id="sample:c", type="pv", title="c", text=text, source="sample", received_at=received,
                   fields=fields)


def test_gather_from_fields_brands_and_text(small_kb: KnowledgeBase) -> None:
    result = gather_context(pv("Céphalées.", substances=["Acide valproïque"], other_medications="zorglub"), small_kb)
    assert isinstance(result, ContextResult)
    assert {f.code for f in result.facts} == {"CTX_EMA_REFERRAL_SAFETY", "CTX_EMA_DHPC"}
    for f in result.facts:
        assert DOC_TEXT[f.source_hit.start:f.source_hit.end] == f.source_hit.excerpt
    by_brand = gather_context(pv("Traitée par Dépakine."), small_kb).facts
    assert by_brand and by_brand[0].substance == "valproate de sodium"


def test_unmatched_reported_not_guessed(small_kb: KnowledgeBase) -> None:
    result = gather_context(pv("Rien.", substances=["zorglubine"]), small_kb)
    assert result.facts == [] and result.unmatched == ["zorglubine"]
    assert any("zorglubine" in w for w in result.warnings)


def test_facts_after_reception_are_left_out(small_kb: KnowledgeBase) -> None:
    result = gather_context(pv("x", date(2016, 1, 1), substances=["valproate"]), small_kb)
    assert [f.code for f in result.facts] == ["CTX_EMA_REFERRAL_SAFETY"]


def test_context_fires_criteria(small_kb: KnowledgeBase) -> None:
    d = pv("Céphalées.", substances=["valproate de sodium"])
    fired = {c.code for c in evaluate_criteria(d, context=gather_context(d, small_kb).facts)}
    assert "PV-ARBITRAGE-DHPC" in fired


def test_past_pv_reports_counted_before_reception() -> None:
    text = "Fever and seizure after DTP."
    example = {"id": "vaers:1#0", "document_id": "vaers:1", "source": "vaers", "kind": "case", "title": "VAERS 1",
               "score": 1.0, "similarity": 1.0, "start": 0, "end": 10, "excerpt": text[:10], "outcome": None}
    kb = KnowledgeBase(vaers={"DTP": {"1990": [10, 2], "1991": [5, 1], "1995": [7, 0]}},
                       vaers_examples={"DTP": {"1990": example, "1991": example, "1995": example}})
    facts = gather_context(pv(text, date(1992, 3, 1), vaccine_types=["DTP"]), kb).facts
    assert [f.code for f in facts] == ["CTX_PV_HISTORY"]
    assert "15 signalement(s)" in facts[0].fact and "dont 3 grave(s)" in facts[0].fact


def test_empty_kb_warns(tmp_path: Path) -> None:
    kb = build_knowledge_base(tmp_path / "nothing", tmp_path / "cache")
    assert kb.empty
    result = gather_context(pv("x", substances=["valproate"]), kb)
    assert result.facts == [] and result.warnings


@pytest.fixture(scope="module")
def real_kb(corpora_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return build_knowledge_base(corpora_dir, tmp_path_factory.mktemp("kb"), sources=["bdpm", "ema", "ansm"])


def _documents(corpora_dir: Path, ids: set[str]) -> dict[str, Any]:
    from corpora.loaders.ansm import iter_ansm_documents
    from corpora.loaders.bdpm import load_bdpm_index, product_to_document
    from corpora.loaders.ema_json import iter_ema_documents
    from corpora.loaders.has import iter_has_documents

    docs: dict[str, Any] = {}
    index = load_bdpm_index(corpora_dir / "bdpm")
    for i in ids:
        if i.startswith("bdpm:"):
            docs[i] = product_to_document(index.products[i.split(":", 1)[1]])
    for d in iter_ema_documents(corpora_dir / "ema"):
        if d.id in ids:
            docs[d.id] = d
    for d in iter_ansm_documents(corpora_dir / "ansm_interactions"):
        if d.id in ids:
            docs[d.id] = d
    for kind in ("smr", "asmr"):
        for d in iter_has_documents(corpora_dir / "has", kind):  # type: ignore[arg-type]
            if d.id in ids:
                docs[d.id] = d
    return docs


@pytest.mark.corpora
def test_valproate_on_real_corpora(real_kb: KnowledgeBase, corpora_dir: Path) -> None:
    d = Dossier(id="sample:valproate", type="pv", title="Valproate et grossesse", source="sample", language="fr",
                text="Patiente enceinte traitée par Dépakine pour épilepsie.",
                fields={"other_medications": "millepertuis"})
    result = gather_context(d, real_kb).facts
    sources = {f.source_hit.source for f in result}
    codes = {f.code for f in result}
    assert "bdpm" in sources and "ansm-interaction" in sources and any(s.startswith("ema-") for s in sources)
    assert {"CTX_SURVEILLANCE_RENFORCEE", "CTX_EMA_REFERRAL_SAFETY", "CTX_ANSM_INTERACTION_CI"} <= codes
    docs = _documents(corpora_dir, {f.source_hit.document_id for f in result})
    for f in result:
        doc = docs[f.source_hit.document_id]
        assert doc.text[f.source_hit.start:f.source_hit.end] == f.source_hit.excerpt
    fired = {c.code for c in evaluate_criteria(d, context=result)}
    assert {"PV-HISTORIQUE-CRISE", "PV-ARBITRAGE-DHPC", "PV-INTERACTION", "PV-GROSSESSE"} <= fired


# --------------------------------------------------------------------------- dated or timeless facts

BDPM_TEXT = "Spécialité Y. Statut de l'AMM : Autorisation suspendue. Substance(s) active(s) : zorglumab."


def _bdpm_kb() -> KnowledgeBase:
    key = match_key("zorglumab")
    start = BDPM_TEXT.index("Statut")
    end = BDPM_TEXT.index(".", start) + 1
    hit = {"id": "bdpm:1#0", "document_id": "bdpm:1", "source": "bdpm", "kind": "product", "title": "Y",
           "score": 1.0, "similarity": 1.0, "start": start, "end": end, "excerpt": BDPM_TEXT[start:end],
           "outcome": None}
    fact = {"code": "CTX_BDPM_SUSPENDED", "fact": "La spécialité Y (zorglumab) a une autorisation suspendue.",
            "hit": hit, "substance": "zorglumab", "date": None, "outcome_related": False}
    return KnowledgeBase(facts={key: [fact]}, names={key: "zorglumab"}, sources=["bdpm"])


def amm(received: date | None) -> Dossier:
    return Dossier(id="ema-epar:z", type="amm", title="Zorglumab", text="Demande d'AMM pour le zorglumab.",
                   source="sample", received_at=received, fields={"substances": ["zorglumab"]})


def test_undated_fact_is_shown_as_current_state_and_never_raises_an_older_dossier() -> None:
    from classifier.assess import assess
    from classifier.context import SOURCE_EDITIONS, UNDATED

    kb = _bdpm_kb()
    old = gather_context(amm(date(1998, 5, 1)), kb).facts
    assert [f.code for f in old] == ["CTX_BDPM_SUSPENDED"]
    assert UNDATED in old[0].fact and old[0].date is None and old[0].since == SOURCE_EDITIONS["bdpm"][0]
    assert old[0].raises is False and "Sans effet sur le niveau" in old[0].fact
    fired_old = {c.code for c in evaluate_criteria(amm(date(1998, 5, 1)), context=old)}
    assert "AMM-STATUT-SUSPENDU" not in fired_old
    baseline = assess(amm(date(1998, 5, 1)), None)
    assert assess(amm(date(1998, 5, 1)), None, old).level == baseline.level
    # a dossier received after the source's edition (or undated, i.e. at intake today) is raised
    for received in (date(2026, 1, 5), None):
        new = gather_context(amm(received), kb).facts
        assert new[0].raises is True and UNDATED in new[0].fact
        assessed = assess(amm(received), None, new)
        assert "AMM-STATUT-SUSPENDU" in {c.code for c in assessed.fired}
        assert assessed.level == "modéré"


def test_dated_fact_keeps_its_date_and_interactions_carry_their_edition(small_kb: KnowledgeBase) -> None:
    from classifier.context import dated_fact
    from corpora.model import Hit

    facts = gather_context(pv("x", date(2016, 1, 1), substances=["valproate"]), small_kb).facts
    assert facts[0].date == "2014-10-01" and facts[0].raises and "non daté" not in facts[0].fact
    hit = Hit(id="ansm:1#0", document_id="ansm:1", source="ansm-interaction", kind="interaction", title="a + b",
              score=1.0, similarity=1.0, start=0, end=1, excerpt="N", outcome=None)
    f1998 = dated_fact("CTX_ANSM_INTERACTION_CI", "Interaction a + b : contre-indication (thésaurus ANSM).", hit,
                       date(1998, 1, 1))
    f2021 = dated_fact("CTX_ANSM_INTERACTION_CI", "Interaction a + b : contre-indication (thésaurus ANSM).", hit,
                       date(2021, 1, 1))
    assert not f1998.raises and f2021.raises
    assert "octobre 2020" in f1998.fact and "état actuel, non daté" in f2021.fact


def test_model_is_served_without_the_context_it_was_not_trained_with() -> None:
    from classifier.assess import analyse, features_for

    kb = _bdpm_kb()
    d = amm(date(2026, 1, 5))
    facts = gather_context(d, kb).facts
    with_context = analyse(d, facts)
    assert "AMM-STATUT-SUSPENDU" in {c.code for c in with_context.fired}  # the floor sees the context
    assert features_for(d, with_context) == features_for(d, analyse(d))  # the model does not


def test_triage_result_says_whether_a_fact_raises_the_level() -> None:
    from classifier.assess import assess
    from classifier.result import triage_result

    kb = _bdpm_kb()
    d = amm(date(1998, 5, 1))
    ctx = gather_context(d, kb)
    result = triage_result(d, assess(d, None, ctx.facts), ctx, "test")
    assert result.context[0].date is None and result.context[0].raises_level is False


def test_a_comparator_named_in_an_amm_or_aec_text_brings_no_context(small_kb: KnowledgeBase) -> None:
    for dtype in ("amm", "aec"):
        text = "Deux essais de phase III versus valproate de sodium chez l'adulte épileptique."
        dossier = Dossier(id="sample:x", type=dtype, title="x", text=text, source="sample")
        assert gather_context(dossier, small_kb).facts == [], dtype
        brand = dossier.model_copy(update={"text": "Essai randomisé contre Depakine chez l'adulte."})
        assert gather_context(brand, small_kb).facts == [], dtype
        studied = dossier.model_copy(update={"text": "Demande d'AMM pour le valproate de sodium versus placebo."})
        assert {f.code for f in gather_context(studied, small_kb).facts} == {"CTX_EMA_REFERRAL_SAFETY", "CTX_EMA_DHPC"}
    # a PV report keeps every medicine it names
    report = gather_context(pv("Crise convulsive sous lamotrigine versus valproate de sodium."), small_kb)
    assert {f.code for f in report.facts} == {"CTX_EMA_REFERRAL_SAFETY", "CTX_EMA_DHPC"}
