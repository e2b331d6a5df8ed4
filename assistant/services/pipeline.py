"""The main job behind ``gdr run``: database → dossiers → index → models, each step skipped when done.

Every step is idempotent, so a second ``gdr run`` is fast and an interrupted one resumes.
With the bundled sample only, no model is trained (triage runs on the criteria alone).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.settings import Settings
from corpora.normalise import fr_decimal

Log = Callable[[str], None]


@dataclass
class RunPlan:
    """How much of the real corpora the main job takes (the full builds are separate commands)."""

    ingest_limit: int | None = 20_000
    # Every document of every corpus goes into the document store and the lexical index (so every cited
    # fact opens with ``gdr index show``); dense vectors stay bounded (référentiel and sample only, as
    # ``--dense-max 0``): a later ``gdr index build`` adds them while the service runs.
    index_limit: int | None = None
    dense_max: int | None = 0
    train: bool = True
    train_limit: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)


def _step(plan: RunPlan, name: str, log: Log, func: Callable[[], str]) -> None:
    start = time.perf_counter()
    log(f"▶ {name}…")
    detail = func()
    seconds = time.perf_counter() - start
    plan.steps.append({"step": name, "seconds": round(seconds, 1), "detail": detail})
    log(f"  ✓ {name} ({fr_decimal(seconds)} s) : {detail}")


def first_admin(settings: Settings) -> str:
    """Create the account « admin » from GDR_ADMIN_PASSWORD when there is no account; never one silently."""
    from sqlalchemy.orm import Session

    from assistant.db.engine import make_engine
    from assistant.services.users import Accounts
    from corpora.errors import InputError

    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            message = Accounts.from_settings(settings).ensure_first_admin(session=session, password=password)
            session.commit()
        return message
    except InputError as exc:
        raise InputError(f"GDR_ADMIN_PASSWORD refusé : {exc.message}", code=exc.code) from exc
    finally:
        engine.dispose()


def prepare(settings: Settings, plan: RunPlan, log: Log) -> RunPlan:
    """Run every step the app needs before serving."""
    from assistant.db.engine import upgrade
    from assistant.services import classifier, ingest, retrieval

    real = settings.uses_real_corpora
    log(
        f"Corpus : {settings.effective_corpora_dir} "
        f"({'corpus réels' if real else 'échantillon fourni, fictif'}) ; données : {settings.data_dir}"
    )

    _step(plan, "Base de données", log, lambda: f"schéma à la révision {upgrade(settings)}")
    _step(plan, "Comptes", log, lambda: first_admin(settings))

    def _ingest() -> str:
        summary = ingest.ingest_corpora(settings, limit=plan.ingest_limit if real else None)
        return ingest.summary_fr(summary).replace("\n", " ; ")

    _step(plan, "Chargement des dossiers", log, _ingest)

    def _index() -> str:
        report = retrieval.build(settings, limit=plan.index_limit if real else None,
                                 dense_max=plan.dense_max if real else None, progress=True)
        return retrieval.summary_fr(report).replace("\n", " ; ")

    _step(plan, "Index de recherche", log, _index)

    if real:
        def _signal() -> str:
            from classifier.signal_counts import open_counts

            counts = open_counts(settings.effective_corpora_dir / "vaers", settings.layout.signal_counts_path)
            if counts is None:
                return "pas de corpus VAERS : pas de contexte de signal"
            meta = counts.meta
            counts.close()
            return (f"{meta.get('reports')} signalements VAERS comptés par mois, type de vaccin et terme "
                    f"({meta.get('first_month')} – {meta.get('last_month')})")

        _step(plan, "Comptes de disproportionnalité (contexte de signal)", log, _signal)

    if real and plan.train:
        for dtype in classifier.TRAINABLE:
            cards = classifier.model_cards(settings)
            if dtype in cards:
                log(f"  Modèle {dtype} déjà entraîné ({cards[dtype].get('version', '?')}) : conservé.")
                continue

            def _train(dtype: str = dtype) -> str:
                model = settings.classifier.run_model if dtype == "pv" else None
                result = classifier.train(settings, dtype, limit=plan.train_limit, model_name=model)
                return f"modèle {dtype} écrit ({getattr(result, 'version', result)})"

            _step(plan, f"Entraînement du modèle {dtype}", log, _train)
    elif not real:
        log("  Pas d'entraînement sur l'échantillon : le tri s'appuie sur les seuls critères du référentiel.")
    return plan
