"""GDR Santé: classifier (framework-free: never imports assistant/, retrieval/, fastapi, chainlit).

API of the criteria part (pure functions unless noted):

- ``classifier.extraction.extract(text, language=None, lexicon=None) -> list[Finding]``:
  Finding(code, label, start, end, text, negated, hypothetical, history, family, certainty,
  category, value, substance, atc); ``f.affirmed``; ``text[f.start:f.end] == f.text``.
  ``classifier.extraction.finding_codes()`` lists every code with its label and category.
- ``classifier.referentiel``: ``load_referentiel()``, ``referentiel_version()``,
  ``criteria_for(type)``, ``referentiel_documents() -> list[Document]`` (source "referentiel").
- ``classifier.criteria.evaluate_criteria(dossier, findings=None, context=None)
  -> list[FiredCriterion]`` (code, label, axis, expertises, floor, weight, evidence, reference).
- ``classifier.levels`` (over ``corpora.model.RISK_LEVELS``): ``level_rank``, ``max_level``, ``is_serious``,
  ``floor_level(fired) -> str``.
- ``classifier.policy.processing_mode(dossier_type, level, extra_expertises=())
  -> ProcessingMode(code, label, expertises, deadline_days, reference)``; ``expertises_of(fired)``.
- ``classifier.knowledge_base.build_knowledge_base(corpora_dir, cache_dir, sources=None)
  -> KnowledgeBase`` (I/O; JSON cache under cache_dir; empty without real corpora).
  ``kb.lexicon()`` is the substance lexicon enlarged with the corpora's names (pass it to
  ``extract`` to recognise every substance).
- ``classifier.context.gather_context(dossier, kb, findings=None) -> ContextResult``
  (``facts``: ContextFact(code, fact, source_hit: Hit, substance, outcome_related, date, since, raises),
  ``unmatched``, ``warnings``). Facts dated after ``dossier.received_at`` are dropped (time-split honest);
  undated facts say « état actuel, non daté » and have ``raises=False`` (fire no criterion) for a dossier
  received before their source's edition;
  ``outcome_related`` marks facts mirroring the AMM label (additional monitoring): drop them
  for AMM models.
- ``classifier.assess.assess_batch(dossiers, models, contexts) -> list[Assessment]`` and
  ``classifier.result.triage_result(dossier, assessment, context, referentiel_version)
  -> TriageResult`` (the typed output of a triage; its JSON is the ``gdr triage --json`` line).
- ``classifier.amm_features.amm_feature_row(dossier, findings, fired, spec) -> FeatureRow``: the AMM
  features known at submission, the same at training and serving (``model.amm_spec_``).
- ``classifier.artefacts``: the store of trained models (``latest_version``, ``load_artefact``
  after a sha256 check, ``save_artefact``, ``latest_card``); ``classifier.training`` writes to it.
"""
