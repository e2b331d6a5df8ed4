"""Duplicate reports: profiles, pairwise score, blocking and the evaluation generator (pure, no corpora)."""

from __future__ import annotations

import random
from datetime import date

from corpora.model import Dossier, DossierFields, Product
from retrieval.duplicates import (
    BlockIndex,
    best_matches,
    blocking_keys,
    components,
    pair_score,
    profile_of_document,
    profile_of_dossier,
)
from retrieval.duplicates_eval import choose_threshold, perturb, precision_recall

NARRATIVE = ("A 34 year old female patient received a first dose of hepatitis B vaccine in the left deltoid. "
             "Two hours later she developed generalised urticaria and swelling of the lips. She was treated "
             "with antihistamines in the emergency department and recovered the next day.")
OTHER = ("Infant had fever of 39.5 C and persistent crying for four hours after the second dose of DTaP. "
         "Parents called the office; acetaminophen was given and the child was well the following morning.")


def _report(rid: str, text: str = NARRATIVE, *, age: float | None = 34, sex: str | None = "F",
            vaccines: tuple[str, ...] = ("HEP",), onset: date | None = date(2003, 5, 2),
            symptoms: tuple[str, ...] = ("Urticaria", "Lip swelling"), region: str | None = "CA") -> Dossier:
    return Dossier(id=rid, type="pv", title=rid, text=text, language="en", source="vaers",
                   received_at=date(2003, 5, 10),
                   fields=DossierFields(patient_age=age, patient_sex=sex, vaccine_types=list(vaccines),
                                        products=[Product(vaccine_type=v, role="suspect") for v in vaccines],
                                        onset_date=onset, vaccination_date=onset, symptoms=list(symptoms),
                                        country="US", region=region))


def test_a_retold_report_scores_high_and_another_case_low() -> None:
    original = profile_of_dossier(_report("vaers:1"))
    retold = profile_of_dossier(_report(
        "vaers:2", "Follow-up: 34 y.o. female pt got 1st dose of hep B vax in left deltoid. Two hrs later she "
        "developed generalised urticaria and swelling of the lips. Treated with antihistamines in the ER, "
        "recovered next day.", age=None, symptoms=("Urticaria",)))
    other = profile_of_dossier(_report("vaers:3", OTHER, age=0.3, sex="M", symptoms=("Pyrexia", "Crying")))
    assert pair_score(original, original) == 1.0
    assert pair_score(original, retold) > 0.75
    assert pair_score(original, other) < 0.4
    parts = components(original, retold)
    assert parts["age"] is None and parts["products"] == 1.0 and parts["onset"] == 1.0


def test_a_plain_conflict_on_sex_or_age_lowers_the_score() -> None:
    a = profile_of_dossier(_report("vaers:1"))
    same = profile_of_dossier(_report("vaers:2"))
    other_sex = profile_of_dossier(_report("vaers:3", sex="M"))
    other_age = profile_of_dossier(_report("vaers:4", age=70))
    other_region = profile_of_dossier(_report("vaers:5", region="TX"))
    no_region = profile_of_dossier(_report("vaers:6", region=None))
    for other in (other_sex, other_age, other_region):
        assert pair_score(a, other) < pair_score(a, no_region) < pair_score(a, same)


def test_blocking_finds_a_shifted_copy_and_skips_other_vaccines() -> None:
    history = [profile_of_dossier(_report("vaers:1")),
               profile_of_dossier(_report("vaers:2", vaccines=("DTAP",))),
               profile_of_dossier(_report("vaers:3", age=None, onset=None))]
    index = BlockIndex().extend(history)
    copy = profile_of_dossier(_report("dup:1", age=35, onset=date(2003, 5, 3)))  # ± 1 year, ± 1 day
    found = index.candidates(copy)
    assert "vaers:1" in found and "vaers:2" not in found
    assert index.candidates(history[0]) == set()  # never its own candidate, no other key shared
    assert not blocking_keys(profile_of_dossier(_report("vaers:9", vaccines=())))  # no product: never blocked
    best = best_matches(copy, history, threshold=0.6)
    # vaers:3 tells the same story without age or dates: a twin too, but a weaker one
    assert [m.id for m in best] == ["vaers:1", "vaers:3"] and best[0].score > best[1].score


def test_profile_of_an_indexed_document_reads_the_vaers_metadata() -> None:
    p = profile_of_document("vaers:7", {"vaccine_types": "HEP|FLU", "symptoms": "Urticaria|Lip swelling",
                                        "age": 34.0, "sex": "F", "onset_days": 0.0, "region": "CA"}, NARRATIVE,
                            dossier_type="pv", received_at="2003-05-10")
    assert p.products == frozenset({"v:HEP", "v:FLU"}) and p.age == 34.0 and p.sex == "F"
    assert p.received == date(2003, 5, 10) and p.onset_days == 0.0 and p.shingles and p.region == "US/CA"
    assert pair_score(p, profile_of_dossier(_report("vaers:1"))) > 0.7


def test_the_generator_is_seeded_and_keeps_the_case() -> None:
    d = _report("vaers:1")
    a, b = perturb(d, random.Random(3)), perturb(d, random.Random(3))
    assert a == b and a.id == "dup:1" and a.text
    assert a.fields.vaccine_types == ["HEP"]


def test_threshold_choice_and_metrics() -> None:
    scores = [0.9, 0.8, 0.7, 0.4, 0.3, 0.75]
    labels = [1, 1, 1, 0, 0, 0]
    assert precision_recall(scores, labels, 0.7) == (0.75, 1.0, 2 * 0.75 / 1.75)
    assert choose_threshold(scores, labels, min_precision=0.95) == 0.8  # precise and best F1 among precise


def test_history_matches_skip_shingling_only_where_no_match_is_possible() -> None:
    from types import SimpleNamespace

    from retrieval.duplicates import history_best_matches

    def doc(rid: str, text: str, **meta: object) -> SimpleNamespace:
        metadata = {"vaccine_types": "HEP", "symptoms": "Urticaria|Lip swelling", "age": 34.0, "sex": "F",
                    "onset_date": "2003-05-02", "vaccination_date": "2003-05-02", "region": "CA", **meta}
        return SimpleNamespace(id=rid, metadata=metadata, text=text, dossier_type="pv", received_at="2003-05-10")

    docs = [doc("vaers:1", NARRATIVE), doc("vaers:2", OTHER), doc("vaers:3", NARRATIVE, sex="M", age=70.0),
            doc("vaers:4", ""), doc("vaers:5", OTHER + " Second report.", sex="M", age=1.0, symptoms="Pyrexia")]
    shingled: list[str] = []

    class Store:
        def get_many(self, ids: list[str]) -> dict[str, SimpleNamespace]:
            return {d.id: d for d in docs if d.id in ids}

    import retrieval.duplicates as dup

    original = dup.shingles

    def counting(text: str, n: int = dup.SHINGLE) -> frozenset[str]:
        shingled.append(text)
        return original(text, n)

    query = profile_of_dossier(_report("dup:1"))
    full = [profile_of_document(d.id, d.metadata, d.text, dossier_type="pv", received_at=d.received_at) for d in docs]
    expected = best_matches(query, full, threshold=0.663)
    dup.shingles = counting  # type: ignore[assignment]
    try:
        found = history_best_matches(query, Store(), [d.id for d in docs], threshold=0.663)  # type: ignore[arg-type]
    finally:
        dup.shingles = original  # type: ignore[assignment]
    assert found == expected and found[0].id == "vaers:1" and "vaers:5" not in {m.id for m in found}
    # vaers:5 (another patient, another reaction) could never reach the threshold: its text is never shingled
    assert docs[4].text not in shingled and NARRATIVE in shingled
