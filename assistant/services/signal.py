"""Signal context for experts: the disproportionality table of a vaccine type (``gdr signal``, ``GET /signal``)."""

from __future__ import annotations

from datetime import date

from assistant.services.resources import Resources
from assistant.settings import Settings
from classifier.signal import SignalContext
from corpora.errors import InputError, StoreError

NO_VAERS = ("Pas de corpus VAERS (GDR_CORPORA_DIR) : la disproportionnalité se calcule sur les signalements "
            "VAERS réels, absents de l'échantillon fourni.")
MAX_LIMIT = 200


def signal_table(settings: Settings, product: str, term: str | None = None, before: date | None = None,
                 limit: int = 20, resources: Resources | None = None) -> SignalContext:
    """PRR, ROR, χ² of ``product`` × ``term`` (or of its ``limit`` most reported terms) before ``before``.

    InputError (French) for an unknown vaccine type or a bad limit; StoreError without a VAERS corpus.
    """
    from classifier.signal import signal_table as table

    if not product.strip():
        raise InputError("Indiquez un type de vaccin VAERS (ex. DTAP, MMR, HEPB).")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"Nombre de termes invalide : {limit} (entre 1 et {MAX_LIMIT}).")
    own = resources or Resources(settings)
    try:
        counts = own.signal_counts()
        if counts is None:
            raise StoreError(NO_VAERS)
        try:
            return table(counts, product, term.strip() if term and term.strip() else None, before, limit)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    finally:
        if resources is None:
            own.close()
