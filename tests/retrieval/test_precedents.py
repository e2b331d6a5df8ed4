from __future__ import annotations

from datetime import date
from typing import ClassVar

from retrieval_fixtures import DOCS, build

from corpora.model import Document, Dossier, DossierFields
from retrieval.config import RetrievalConfig
from retrieval.search import PrecedentWeights, Retriever


def dossier(**kw: object) -> Dossier:
    values: dict[str, object] = {
        "id": "vaers:2001", "type": "pv", "title": "SMALLPOX — Myocarditis", "source": "vaers",
        "text": "Myocarditis with chest pain after smallpox vaccine.", "language": "en",
        "received_at": date(2004, 1, 10),
        "fields": DossierFields(vaccine_types=["SMALLPOX"], symptoms=["Myocarditis", "Chest pain"]),
    }
    values.update(kw)
    return Dossier(**values)  # type: ignore[arg-type]


def test_precedents_share_vaccine_and_carry_outcome(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        hits = r.find_precedents(dossier(), k=5)
    assert [h.document_id for h in hits][:2] == ["vaers:1001", "vaers:1006"]
    assert hits[0].outcome == {"hospitalised": True}
    assert all(h.kind == "case" for h in hits)


def test_never_itself_nor_later_nor_other_types(built: RetrievalConfig) -> None:
    # vaers:1005 was received on 2004-06-01: a copy of it received that very day gets no precedent
    # from itself, and nothing received on or after that date.
    src = next(d for d in DOCS if d.id == "vaers:1005")
    d = dossier(id=src.id, title=src.title, text=src.text, received_at=src.received_at,
                fields=DossierFields(vaccine_types=["DTAP", "HIB"], symptoms=["Crying", "Pyrexia"]))
    with Retriever.open(built) as r:
        hits = r.find_precedents(d, k=10)
        assert hits and all(h.document_id != src.id for h in hits)
        docs = {h.document_id: r.get_document(h.document_id) for h in hits}
    assert all(doc.received_at is not None and doc.received_at < src.received_at for doc in docs.values())
    assert all(h.document_id.startswith(("vaers:", "sample:")) for h in hits)  # type pv only


def test_near_duplicates_of_the_dossier_are_excluded(built: RetrievalConfig) -> None:
    # A new report whose narrative repeats vaers:1002 word for word (a follow-up or a duplicate).
    d = dossier(id="vaers:3000", title="DTAP — Convulsion",
                text="Fever 39C and febrile seizure the evening after DTaP vaccine. Recovered.",
                fields=DossierFields(vaccine_types=["DTAP"], symptoms=["Pyrexia", "Convulsion"]))
    with Retriever.open(built) as r:
        ids = [h.document_id for h in r.find_precedents(d, k=10)]
    assert "vaers:1002" not in ids and "vaers:1003" not in ids


def test_received_before_filter_is_strict(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config()
    build(config, DOCS)
    with Retriever.open(config) as r:
        hits = r.find_precedents(dossier(received_at=date(2003, 2, 1)), k=10)  # same day as vaers:1001
    assert "vaers:1001" not in {h.document_id for h in hits}


def test_seriousness_known_at_intake_narrows_when_enough_candidates_remain(built: RetrievalConfig) -> None:
    with Retriever.open(built) as r:
        serious = r.find_precedents(dossier(), k=1, serious=True)
        benign = r.find_precedents(dossier(), k=1, serious=False)
        unknown = r.find_precedents(dossier(), k=5)
    assert [h.document_id for h in serious] == ["vaers:1001"]  # recorded hospitalised
    assert [h.document_id for h in benign] == ["vaers:1006"]  # recorded non-serious
    assert {"vaers:1001", "vaers:1006"} <= {h.document_id for h in unknown}


def test_precedent_labels_the_filter_does_not_decide() -> None:
    from retrieval.evaluation import EvalQuery, load_pictures, neutral_title, picture_of, precedent_scores

    pictures = load_pictures()
    assert picture_of("Febrile seizure the evening after DTaP.", pictures) == "convulsion"
    assert picture_of("Redness and swelling at injection site.", pictures) == "reaction_locale"
    assert picture_of("Nothing to report.", pictures) is None
    q = EvalQuery("q", "x", frozenset(), labels={"serious": True, "age_band": "0-1", "picture": "convulsion",
                                                 "symptoms": frozenset({"pyrexia", "convulsion", "crying"})})
    labels = {
        "a": {"serious": True, "age_band": "0-1", "picture": "convulsion",
              "symptoms": frozenset({"pyrexia", "convulsion"})},
        "b": {"serious": False, "age_band": "0-1", "picture": "fievre", "symptoms": frozenset({"pyrexia"})},
        "c": {"serious": True, "age_band": "18-39", "picture": "convulsion",
              "symptoms": frozenset({"crying", "pyrexia"})},
        "d": {"serious": None, "age_band": None, "picture": None, "symptoms": frozenset()},
    }
    scores = precedent_scores(["a", "b", "c", "d"], q, labels)
    assert scores == {"p@5_sym2": 2 / 5, "serious_agree": 2 / 3, "age_agree": 2 / 4, "p@5_picture": 2 / 5}
    d = dossier()
    stripped = neutral_title(d)
    assert "SMALLPOX" not in stripped.title and stripped.text == d.text


def test_users_precedents_use_the_seriousness_read_at_intake(built: RetrievalConfig) -> None:
    from assistant.services.retrieval import intake_seriousness, precedents_of

    serious = dossier(text="Myocarditis after smallpox vaccine. The patient was hospitalized for 3 days.")
    benign = dossier(text="Mild chest pain after smallpox vaccine, resolved the next day. No hospitalisation.")
    assert intake_seriousness(serious) is True and intake_seriousness(benign) is False
    assert intake_seriousness(dossier(type="amm")) is None
    with Retriever.open(built) as r:
        assert [h.document_id for h in precedents_of(r, serious, 1)] == ["vaers:1001"]
        assert [h.document_id for h in precedents_of(r, benign, 1)] == ["vaers:1006"]
        # a trained model's calibrated probability of a serious case narrows like the criteria do
        assert [h.document_id for h in precedents_of(r, benign, 1, probabilities={"grave": 0.8})] == ["vaers:1001"]


def test_seriousness_hint_criteria_first_then_the_models_probability() -> None:
    from assistant.services.retrieval import SERIOUS_PROBABILITY, seriousness_hint

    serious = dossier(text="The patient was hospitalized for 3 days after the vaccine.")
    benign = dossier(text="Sore arm after the vaccine, resolved the next day.")
    assert seriousness_hint(serious, probabilities={"grave": 0.01}) is True  # evidence read at intake wins
    assert seriousness_hint(benign) is False  # no model: criteria only
    assert seriousness_hint(benign, probabilities={"grave": SERIOUS_PROBABILITY}) is True
    assert seriousness_hint(benign, probabilities={"grave": SERIOUS_PROBABILITY - 0.01}) is False
    # gdr triage reads the result's probabilities (4 decimals), the API the unrounded ones: same answer
    near = SERIOUS_PROBABILITY - 0.00004
    assert seriousness_hint(benign, probabilities={"grave": near}) == seriousness_hint(
        benign, probabilities={"grave": round(near, 4)}) is True
    assert seriousness_hint(dossier(type="amm"), probabilities={"grave": 0.9}) is None


def test_lookup_many_matches_one_by_one_with_one_encoding_batch(built: RetrievalConfig) -> None:
    from corpora.errors import GdrError
    from retrieval.embeddings import FakeEmbedder

    class Counting(FakeEmbedder):
        batches = 0
        encoded: ClassVar[list[str]] = []

        def embed_queries(self, texts):  # type: ignore[no-untyped-def]
            type(self).batches += 1
            type(self).encoded += list(texts)
            return self.embed_passages(texts)

        def embed_query(self, text):  # type: ignore[no-untyped-def]
            raise AssertionError("one query at a time")

    dossiers = [dossier(), dossier(id="vaers:2002", title="DTAP — fever", text="Fever and seizure after DTaP.",
                                   fields=DossierFields(vaccine_types=["DTAP"], symptoms=["Pyrexia"])),
                dossier(id="vaers:2003", title="", text="   ")]
    with Retriever.open(built) as r:
        one_by_one: list[object] = []
        for d in dossiers:
            try:
                one_by_one.append((r.find_precedents(d, k=5),
                                   r.find_guidelines(d.text or d.title, dossier_type=d.type, k=3)))
            except GdrError as exc:
                one_by_one.append(type(exc))
    with Retriever.open(built, embedder=Counting()) as r:
        many = r.lookup_many(dossiers, 5, 3)
    assert Counting.batches == 1
    # lexical precedents (the default) read no vector: only the two non-empty guideline queries are encoded
    assert Counting.encoded == [d.text for d in dossiers[:2]]
    assert [type(m) if isinstance(m, GdrError) else m for m in many] == one_by_one
    assert one_by_one[0][0] and one_by_one[1][1]  # type: ignore[index]


def _measles_case(native: str, symptoms: str, age: int) -> Document:
    return Document(
        id=f"vaers:{native}", source="vaers", kind="case", title=f"Report {native}",
        text=f"Report {native}: fever after measles vaccine, seen by the family doctor.",
        metadata={"type": "pv", "vaccine_types": "|MMR|", "symptoms": symptoms, "age": age, "language": "en"},
        language="en", received_at=date(2003, 6, 1),
    )


def _measles_query() -> Dossier:
    return dossier(id="vaers:4000", title="MMR", text="Fever and rash a week after measles vaccine.",
                   fields=DossierFields(vaccine_types=["MMR"], symptoms=["Pyrexia", "Rash"], patient_age=1))


def test_precedents_sharing_two_reactions_win_over_the_age_band(make_config) -> None:  # type: ignore[no-untyped-def]
    # Three adults share both reactions; four infants of the query's age band share one. Sharing two
    # reactions is checked before the age band, so the adults are the precedents.
    config = make_config()
    docs = [_measles_case(f"600{i}", "|Pyrexia|Rash|", 30) for i in range(3)]
    docs += [_measles_case(f"610{i}", "|Pyrexia|", 1) for i in range(4)]
    build(config, docs)
    legacy_order = PrecedentWeights(order=("vaccine_type", "age_band", "serious", "symptom"))
    with Retriever.open(config) as r:
        ids = {h.document_id for h in r.find_precedents(_measles_query(), k=3)}
        legacy = {h.document_id for h in r.find_precedents(_measles_query(), k=3, weights=legacy_order)}
        few = {h.document_id for h in r.find_precedents(_measles_query(), k=4)}  # 3 < k: age band instead
    assert ids == {"vaers:6000", "vaers:6001", "vaers:6002"}
    infants = {"vaers:6100", "vaers:6101", "vaers:6102", "vaers:6103"}
    assert len(legacy) == 3 and legacy <= infants  # previous order: the age band first
    assert few == infants


def test_a_narrative_without_vaccine_types_is_narrowed_to_the_vaccine_its_text_names(make_config) -> None:  # type: ignore[no-untyped-def]
    # Three MMR reports whose words are closer to the query, then three influenza reports; a French
    # narrative that names the influenza vaccine and carries no structured field gets the influenza reports.
    config = make_config()
    docs = [Document(id=f"vaers:70{i}", source="vaers", kind="case", title=f"Report 70{i}",
                     text=f"{onset} after the vaccine: {reaction}.",
                     metadata={"type": "pv", "vaccine_types": code, "symptoms": "|Urticaria|", "language": "en"},
                     language="en", received_at=date(2003, 6, 1))
            for i, (code, onset, reaction) in enumerate(
                [("|MMR|", "Ten minutes", "urticaria and dyspnoea, treated with epinephrine"),
                 ("|MMR|", "Three days", "generalised urticaria with dyspnoea, epinephrine in the emergency room"),
                 ("|MMR|", "The next morning", "dyspnoea then urticaria on the trunk, one epinephrine injection"),
                 ("|FLU3|", "One hour", "hives on both arms"), ("|FLU3|", "Two days", "itching rash of the legs"),
                 ("|FLU3|", "The evening", "wheals around the injection site")])]
    build(config, docs)
    text = "Patiente de 34 ans ayant reçu le vaccin contre la grippe : urticaire et dyspnée, adrénaline."
    pasted = dossier(id="intake:1", title="Dossier déposé", text=text, language="fr", fields=DossierFields())
    flu_like = dossier(id="intake:2", title="Dossier déposé", language="fr", fields=DossierFields(),
                       text="Syndrome grippal, urticaire et dyspnée après la vaccination, adrénaline.")
    with Retriever.open(config) as r:
        named = {h.document_id for h in r.find_precedents(pasted, k=3)}
        unnamed = {h.document_id for h in r.find_precedents(flu_like, k=6)}
    assert named == {"vaers:703", "vaers:704", "vaers:705"}
    assert len(unnamed) == 6  # « syndrome grippal » names no vaccine: nothing narrowed
