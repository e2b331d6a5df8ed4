"""Loaders for every real public corpus, and the bundled sample.

Each loader streams ``Record`` (dossier + outcome) or ``Document`` objects and
fills a :class:`~corpora.loaders.base.LoadReport` (files, read, written, skipped
with reasons, timings): no row is ever dropped silently.
"""
