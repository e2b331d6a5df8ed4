"""Pseudonymised intake: personal data replaced before a submitted dossier is triaged and stored.

:func:`pseudonymise_item` rewrites the dossier's title, narrative and free-text fields with the
placeholders of :mod:`corpora.pseudonymise` (page spans follow), so the triage, its evidence offsets,
the stored assessment and the audit log only ever see the pseudonymised text. The placeholder → value
map is encrypted (Fernet, key from ``settings.privacy.mapping_key`` or a random key created once in
``<data_dir>/auth/pseudonym_key``) and stored apart (table ``pseudonym_map``), next to its assessment;
:func:`read_mapping` decrypts it for the ``pseudonyms`` permission (admin) and audits the reading.
Framework-free.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings
from corpora.errors import NotFound, StoreError
from corpora.model import IntakeItem
from corpora.pseudonymise import NameFinder, Pseudonymiser, spacy_names

if TYPE_CHECKING:
    from cryptography.fernet import Fernet
    from sqlalchemy.orm import Session

    from assistant.services.audit import Actor, HasLogin

KEY_FILE = "pseudonym_key"
FREE_TEXT_FIELDS = ("medical_history", "current_illness", "other_medications", "lab_data")


@dataclass
class Pseudonymised:
    """A pseudonymised intake item and its placeholder → value map (empty when nothing was found)."""

    item: IntakeItem
    mapping: dict[str, str]


def name_finder(settings: Settings) -> NameFinder | None:
    """The NER name finder of the settings (``None`` for « none »); a missing model is a French error."""
    model = settings.privacy.ner_model
    if model.lower() == "none":
        return None
    try:
        return spacy_names(model)
    except (ImportError, OSError) as exc:
        raise StoreError(f"Modèle de reconnaissance des noms « {model} » non installé : installez le paquet "
                         f"correspondant ou réglez GDR_PRIVACY__NER_MODEL=none ({exc}).") from None


def pseudonymiser(settings: Settings) -> Pseudonymiser | None:
    """A fresh pseudonymiser for one submission (``None`` when ``privacy.pseudonymise`` is off)."""
    return Pseudonymiser(names=name_finder(settings)) if settings.privacy.pseudonymise else None


def pseudonymise_item(settings: Settings, item: IntakeItem, pseudo: Pseudonymiser | None = None) -> Pseudonymised:
    """The item with its personal data replaced (a no-op when ``privacy.pseudonymise`` is off).

    ``pseudo``: a pseudonymiser shared with the rest of the submission (the chat message that carried
    the dossier), so a value gets the same placeholder everywhere; the returned map is then its whole map.
    """
    if not settings.privacy.pseudonymise:
        return Pseudonymised(item, {})
    if pseudo is None:
        pseudo = Pseudonymiser(names=name_finder(settings))
    dossier = item.dossier
    text, remap = pseudo.with_offsets(dossier.text)
    fields = dossier.fields.model_copy(update={
        name: pseudo(value) for name in FREE_TEXT_FIELDS if isinstance(value := getattr(dossier.fields, name), str)})
    new = dossier.model_copy(update={"title": pseudo(dossier.title), "text": text, "fields": fields})
    pages = [{**p, "start": remap(p["start"]), "end": remap(p["end"])} for p in item.pages]
    assert pseudo.mapping is not None
    return Pseudonymised(replace(item, dossier=new, pages=pages), dict(pseudo.mapping))


def _fernet(settings: Settings) -> Fernet:
    from cryptography.fernet import Fernet

    from assistant.services.auth import private_key_file

    secret = settings.privacy.mapping_key
    raw = secret.get_secret_value() if secret is not None else private_key_file(
        settings.auth_dir / KEY_FILE, "Clé de pseudonymisation")
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw.encode("utf-8")).digest()))


def store_mapping(settings: Settings, session: Session, *, assessment_id: int, dossier_id: str,
                  mapping: dict[str, str]) -> None:
    """Keep the encrypted map of one assessment (nothing when the dossier held no personal data)."""
    import json

    from assistant.db.models import PseudonymMapRow

    if not mapping:
        return
    counts: dict[str, int] = {}
    for placeholder in mapping:
        stem = placeholder[1:].rsplit("-", 1)[0]
        counts[stem] = counts.get(stem, 0) + 1
    token = _fernet(settings).encrypt(json.dumps(mapping, ensure_ascii=False).encode("utf-8")).decode("ascii")
    session.add(PseudonymMapRow(assessment_id=assessment_id, dossier_id=dossier_id, counts=counts, token=token))
    session.flush()


def read_mapping(settings: Settings, session: Session, *, assessment_id: int,
                 viewer: HasLogin | Actor | None) -> dict[str, Any]:
    """The decrypted map of one assessment (``{"assessment_id", "dossier_id", "pseudonyms"}``), audited."""
    import json

    import sqlalchemy as sa
    from cryptography.fernet import InvalidToken

    from assistant.db.models import PseudonymMapRow
    from assistant.services import audit

    row = session.execute(sa.select(PseudonymMapRow).where(
        PseudonymMapRow.assessment_id == assessment_id)).scalar_one_or_none()  # type: ignore[arg-type]
    if row is None:
        raise NotFound(f"Aucune correspondance de pseudonymes pour l'évaluation {assessment_id}.",
                       code="pseudonyms_not_found")
    try:
        mapping = json.loads(_fernet(settings).decrypt(row.token.encode("ascii")))
    except InvalidToken:
        raise StoreError("Correspondance illisible : la clé de pseudonymisation a changé depuis "
                         "l'enregistrement.") from None
    audit.record(session, "pseudonyms_view", actor=viewer, dossier_id=row.dossier_id,
                 payload={"assessment_id": assessment_id, "counts": row.counts})
    return {"assessment_id": assessment_id, "dossier_id": row.dossier_id, "pseudonyms": mapping}
