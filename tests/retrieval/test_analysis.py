from __future__ import annotations

from retrieval.analysis import analyze, analyze_query, concepts_shown, expand_french_terms, query_concepts


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


def test_query_concepts_skip_generic_words_and_reach_english_passages() -> None:
    generic = frozenset({"quels", "effets", "indesirables", "contre"})
    concepts = query_concepts("Quels sont les effets indésirables du vaccin contre la grippe ?", generic)
    assert len(concepts) == 2  # « vaccin », « grippe »: the rest says nothing about the subject
    assert concepts_shown(concepts, "Risque majoré d'effets indésirables à type de rhabdomyolyse.") == 0
    assert concepts_shown(concepts, "Patient received the influenza vaccine and had fever.") == 2
    assert concepts_shown(concepts, "Homme de 67 ans vacciné contre la grippe.") == 2
    assert query_concepts("Quels sont les effets ?", generic) == []


def test_a_name_in_the_question_is_matched_as_a_word_not_a_stem() -> None:
    concepts = query_concepts("Quel est le statut du Mediator ?")
    assert concepts_shown(concepts, "Attention médiatique ou contentieux.") == 0
    assert concepts_shown(concepts, "MEDIATOR 150 mg, comprimé enrobé.") == 1
    guillain = query_concepts("Cas de syndrome de Guillain-Barré ?")
    assert concepts_shown(guillain, "Guillain-Barre syndrome after influenza vaccine.") == 3

