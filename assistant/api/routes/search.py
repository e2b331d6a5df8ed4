"""``GET /search``: hybrid search over the index, each hit in the ``Hit`` shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from assistant.api.deps import ResourcesDep, SessionDep, SettingsDep
from assistant.api.security import require
from assistant.services import retrieval as service
from assistant.services.users import CurrentUser
from corpora.model import Document, Hit

#: Document kinds that hold one person's or one sponsor's case: reading one is audited.
AUDITED_KINDS = frozenset({"case", "trial"})

router = APIRouter(tags=["recherche"])

EMPTY_QUERY = "La requête est vide : donnez quelques mots à rechercher (paramètre q)."


def _values(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    return values or None


def filters_from(source: str | None, kind: str | None, type: str | None) -> dict[str, Any]:
    """Search filters from the query parameters; unknown values are refused in French (400), as by the CLI."""
    filters = {key: values for key, raw in (("source", source), ("kind", kind), ("type", type))
               if (values := _values(raw))}
    return service.check_filter_values(filters)


@router.get("/search", response_model=list[Hit],
            summary="Rechercher des passages cités (précédents, avis, référentiel)",
            dependencies=[Depends(require("search"))])
def search(
    settings: SettingsDep,
    resources: ResourcesDep,
    q: Annotated[str | None, Query(description="texte recherché (français ou anglais)")] = None,
    k: Annotated[int, Query(ge=1, le=100, description="nombre de passages")] = 10,
    source: Annotated[str | None, Query(description="source(s) séparées par des virgules (ex. vaers,ema-dhpc)")] = None,
    kind: Annotated[str | None, Query(description="nature(s) : case, opinion, referral, dhpc…")] = None,
    type: Annotated[str | None, Query(description="type de dossier : pv, amm ou aec")] = None,
    method: Annotated[str | None, Query(description="hybrid, dense ou lexical (défaut : réglage)")] = None,
) -> list[Hit]:
    if q is None or not q.strip():
        raise HTTPException(status_code=422, detail=EMPTY_QUERY)
    from retrieval.search import check_query

    query = check_query(q)  # 413 beyond the library's maximum length
    return service.search(settings, query, k=k, filters=filters_from(source, kind, type) or None,
                          method=method or None, resources=resources)


@router.get("/documents/{document_id:path}", response_model=Document,
            summary="Document indexé (texte stocké auquel renvoient les décalages des passages cités)",
            description="Un cas individuel (signalement, dossier) consulté ainsi est inscrit au journal d'audit, "
                        "comme GET /dossiers/{id}.")
def get_document(document_id: str, settings: SettingsDep, resources: ResourcesDep, session: SessionDep,
                 user: Annotated[CurrentUser, Depends(require("search"))]) -> Document:
    """The stored document a ``Hit`` points to: ``excerpt == text[start:end]``. Ids percent-encoded."""
    document = service.get_document(settings, document_id, resources=resources)
    if document.kind in AUDITED_KINDS:  # one person's case: its reading is traced like a dossier view
        from assistant.services import audit

        audit.record(session, "dossier_view", actor=user, dossier_id=document.id,
                     payload={"what": "document", "outcome": document.outcome is not None})
        session.commit()
    return document
