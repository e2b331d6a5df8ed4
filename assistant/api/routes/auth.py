"""``POST /auth/token`` (OAuth2 password flow) and ``GET /auth/me``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from assistant.api.deps import SessionDep
from assistant.api.security import AuthDep, require
from assistant.services.auth import Token
from assistant.services.users import CurrentUser
from corpora.errors import AuthenticationError

router = APIRouter(prefix="/auth", tags=["authentification"])


@router.post("/token", response_model=Token, summary="Obtenir un jeton d'accès (identifiant et mot de passe)",
             responses={401: {"description": "Identifiant ou mot de passe incorrect, ou compte désactivé"}})
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, auth: AuthDep) -> Token:
    """Champs de formulaire OAuth2 standard ``username`` et ``password``.

    Réponse : ``{"access_token", "token_type": "bearer", "expires_in"}`` ; envoyez ensuite
    l'en-tête ``Authorization: Bearer <access_token>``.
    """
    try:
        user = auth.accounts.authenticate(session=session, login=form.username, password=form.password)
    except AuthenticationError as exc:
        session.rollback()
        auth.accounts.record_failed_login(session=session, login=form.username, code=exc.code)
        session.commit()  # the refusal is audited; nothing else was written
        raise
    session.commit()  # last login and its audit event (and a re-hashed password when the cost changed)
    return auth.issuer.issue(user.login, role=user.role)


@router.get("/me", response_model=CurrentUser, summary="Mon compte : identifiant, rôle et permissions")
def me(user: Annotated[CurrentUser, Depends(require("profile"))]) -> CurrentUser:
    return user
