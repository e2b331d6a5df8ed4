"""``GET /users``, ``POST /users``, ``PATCH /users/{login}``: account management (permission ``users``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from assistant.api.deps import SessionDep
from assistant.api.security import AuthDep, UserDep, require
from assistant.services.users import UserPublic

router = APIRouter(prefix="/users", tags=["comptes"], dependencies=[Depends(require("users"))])


class UserCreate(BaseModel):
    login: str = Field(..., description="identifiant (minuscules, chiffres, « . _ @ - »)")
    password: str = Field(..., description="mot de passe (longueur minimale : réglage auth.min_password_length)")
    role: str = Field(..., description="evaluateur, expert, formateur ou admin")


class UserUpdate(BaseModel):
    role: str | None = None
    disabled: bool | None = None
    password: str | None = None


@router.get("", response_model=list[UserPublic], summary="Liste des comptes")
def list_users(session: SessionDep, auth: AuthDep) -> list[UserPublic]:
    return auth.accounts.list_users(session=session)


@router.post("", response_model=UserPublic, status_code=201, summary="Créer un compte")
def create_user(body: UserCreate, session: SessionDep, auth: AuthDep, caller: UserDep) -> UserPublic:
    user = auth.accounts.create(session=session, login=body.login, password=body.password, role=body.role,
                                actor=caller)
    session.commit()
    return user


@router.patch("/{login}", response_model=UserPublic, summary="Changer le rôle, désactiver ou réactiver, "
              "changer le mot de passe d'un compte")
def update_user(
    body: UserUpdate, session: SessionDep, auth: AuthDep, caller: UserDep,
    login: Annotated[str, Path(description="identifiant du compte")],
) -> UserPublic:
    accounts = auth.accounts
    user = accounts.get(session=session, login=login)
    # Every value is checked before anything is written: a refused change stores nothing.
    if body.role is not None:
        accounts.matrix.check_role(body.role)
    if body.password is not None:
        accounts.check_password(body.password, login=user.login)
    if body.role is not None:
        user = accounts.set_role(session=session, login=login, role=body.role, actor=caller)
    if body.disabled is not None:
        user = accounts.set_disabled(session=session, login=login, disabled=body.disabled, actor=caller)
    if body.password is not None:
        user = accounts.set_password(session=session, login=login, password=body.password, actor=caller)
    session.commit()
    return user
