from __future__ import annotations

from retrieval.analysis import analyze, analyze_query, expand_french_terms


def test_french_analysis_stems_and_drops_stop_words() -> None:
    tokens = analyze("Les céphalées et la fièvre élevée après l'injection", "fr")
    assert "les" not in tokens and "et" not in tokens
    assert "cephal" in tokens and "fievr" in tokens and "inject" in tokens


def test_english_analysis() -> None:
    assert analyze("Vaccinations were followed by seizures", "en") == ["vaccin", "follow", "seizur"]


def test_query_is_expanded_to_english_terms() -> None:
    assert "myocarditis" in expand_french_terms("Myocardite après vaccination")
    tokens = analyze_query("myocardite après vaccination")
    assert "myocard" in tokens  # English stem of "myocarditis": matches English reports
    assert "myocardit" in tokens  # French stem
