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
- ``classifier.levels``: ``LEVELS``, ``level_rank``, ``max_level``, ``is_serious``,
  ``floor_level(fired) -> str``.
- ``classifier.policy.processing_mode(dossier_type, level, extra_expertises=())
  -> ProcessingMode(code, label, expertises, deadline_days, reference)``; ``expertises_of(fired)``.
- ``classifier.context``: ``build_knowledge_base(corpora_dir, cache_dir) -> KnowledgeBase``
  (I/O, cached as JSON) and ``gather_context(dossier, kb) -> ContextResult`` (a list of
  ContextFact(code, fact, source_hit, substance) with ``.unmatched`` and ``.warnings``).
"""
