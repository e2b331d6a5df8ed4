"""The context's knowledge base: matching keys across languages, its JSON cache, no corpora."""

from __future__ import annotations

from pathlib import Path

from classifier.knowledge_base import KnowledgeBase, brand_word, build_knowledge_base, match_key


def test_match_key_across_languages() -> None:
    assert match_key("Acide valproïque") == match_key("valproic acid") == match_key("valproate de sodium")
    assert match_key("amoxicilline") == match_key("amoxicillin")
    assert match_key("Lévothyroxine sodique") == match_key("levothyroxine")


def test_brand_word_is_folded() -> None:
    assert brand_word("Dépakine Chrono 500 mg") == "depakine"
    assert brand_word("  ") is None


def test_kb_json_roundtrip() -> None:
    key = match_key("valproate de sodium")
    kb = KnowledgeBase(facts={key: [{"code": "CTX_EMA_DHPC", "fact": "DHPC diffusée.", "hit": {}, "date": None}]},
                       names={key: "valproate de sodium"}, brands={"depakine": ["valproate de sodium"]},
                       sources=["ema"])
    again = KnowledgeBase.from_json(kb.to_json())
    assert again.facts == kb.facts and again.brands == kb.brands and again.names == kb.names


def test_no_corpora_gives_an_empty_base(tmp_path: Path) -> None:
    kb = build_knowledge_base(tmp_path / "nothing", tmp_path / "cache")
    assert kb.empty and not (tmp_path / "cache").exists()
