"""Chainlit UI of GDR Santé (French), mounted by the API under ``/chat`` (``gdr serve``).

The UI uses the application's services, with its settings and resources (open index, models):
``create_app`` puts the conversation service in the ASGI lifespan state, which reaches every
connection of the mounted chat (websocket sessions read it from their scope; HTTP calls such as
the login form and the feedback buttons get it through :class:`_ServiceScope`). Nothing is rebuilt
from the environment and nothing is built at import time. Data is reached only through
:mod:`ui.handlers` (``assistant.services``); what is shown is built by the pure functions of
:mod:`ui.cards` and :mod:`ui.render`.

Screens: login (accounts of the assistant, role shown), triage (risk card, précédents and
guideline passages in the side panel), follow-up questions (each ``[n]`` opens its passage),
decision (accept or change with a reason), expert search (filters, CSV), queue, trainer mode,
« Signaler un problème / Suggérer » and « Nouveautés » on every screen.
"""

from __future__ import annotations

import contextlib
import contextvars
from datetime import date
from pathlib import Path
from typing import Any

import chainlit as cl
import chainlit.server as chainlit_server
from chainlit.server import app as chainlit_app

from assistant.services.chat.service import ChatService
from corpora.errors import GdrError
from ui import cards, handlers, render
from ui.datalayer import AnswerContext, GdrDataLayer
from ui.handlers import Account

_HTTP_SERVICE: contextvars.ContextVar[ChatService | None] = contextvars.ContextVar("gdr_chat_service", default=None)
ASK_TIMEOUT_S = 900


class _ServiceScope:
    """ASGI middleware: the app's conversation service (lifespan state) for Chainlit's HTTP handlers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        service = (scope.get("state") or {}).get("chat")
        token = _HTTP_SERVICE.set(service if isinstance(service, ChatService) else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _HTTP_SERVICE.reset(token)


with contextlib.suppress(RuntimeError):  # a second app in one process (tests): the first one's is in place
    chainlit_app.add_middleware(_ServiceScope)

_chainlit_html = getattr(chainlit_server.get_html_template, "__wrapped__", chainlit_server.get_html_template)


def _offline_html_template(root_path: str) -> str:
    return render.offline_html(_chainlit_html(root_path))


_offline_html_template.__wrapped__ = _chainlit_html  # type: ignore[attr-defined]
chainlit_server.get_html_template = _offline_html_template  # offline and lang="fr" (see render.offline_html)


def _service() -> ChatService | None:
    """The conversation service of the app that mounted the chat (None when run outside ``gdr serve``)."""
    try:
        scope = cl.context.session.environ.get("asgi.scope") or {}
    except Exception:
        scope = {}
    service = (scope.get("state") or {}).get("chat")
    if isinstance(service, ChatService):
        return service
    return _HTTP_SERVICE.get()


_LAYER = GdrDataLayer(_service)


@cl.data_layer
def _data_layer() -> GdrDataLayer:
    return _LAYER


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    """Chainlit's login form, checked against the assistant's accounts (Argon2id, audited)."""
    service = _service()
    if service is None:
        return None
    account = await cl.make_async(handlers.authenticate)(service, username, password)
    if account is None:
        return None
    return cl.User(identifier=account.login, display_name=account.login, metadata={"role": account.role})


# --------------------------------------------------------------------------- session helpers

def _account() -> Account | None:
    value = cl.user_session.get("account")
    return value if isinstance(value, Account) else None


def _role_fr(role: str) -> str:
    roles: dict[str, str] = render.messages()["roles"]
    return roles.get(role, role)


def _screen(name: str) -> None:
    cl.user_session.set("screen", name)


def _common_actions() -> list[cl.Action]:
    return [cl.Action(name="report", payload={}, label=render.text("actions.report"),
                      tooltip=render.text("actions.report")),
            cl.Action(name="news", payload={}, label=render.text("actions.news"), tooltip=render.text("actions.news"))]


async def _say(content: str, *, actions: list[cl.Action] | None = None, elements: list[Any] | None = None,
               dossier_id: str | None = None, remember: bool = True) -> cl.Message:
    """Send an answer with the common actions; thumbs on it are stored with who got it and where."""
    message = cl.Message(content=content, actions=[*(actions or []), *_common_actions()], elements=elements or [])
    await message.send()
    account = _account()
    if remember and account is not None:
        answer = AnswerContext(account, str(cl.user_session.get("screen") or "discussion"), dossier_id,
                               {"extrait": content[:500]})
        # Chainlit puts the thumbs on the message, or on the run (the handler's step) that produced it
        run = cl.context.current_run
        for key in {message.id, message.parent_id, run.id if run is not None else None} - {None}:
            _LAYER.remember(str(key), answer)
    return message


async def _refresh_account() -> Account | None:
    """The account as it is now (role changes apply at once)."""
    service, user = _service(), cl.user_session.get("user")
    if service is None or user is None:
        return None
    account = await cl.make_async(handlers.account)(service, user.identifier)
    cl.user_session.set("account", account)
    return account


async def _allowed(permission: str, what: str) -> Account | None:
    account = await _refresh_account()
    if account is None or not account.may(permission):
        role = _role_fr(account.role) if account else "?"
        await _say(render.text("not_allowed", role=role, what=what), remember=False)
        return None
    return account


def _today(service: ChatService) -> date:
    from assistant.services.queue import today_in

    return today_in(service.settings.oversight.timezone)


async def _ask_choice(content: str, options: list[tuple[str, str]]) -> str | None:
    """One of ``options`` (value, label) chosen with buttons, None on timeout."""
    actions = [cl.Action(name="choice", payload={"value": value}, label=label, tooltip=label)
               for value, label in options]
    answer = await cl.AskActionMessage(content=content, actions=actions, timeout=ASK_TIMEOUT_S).send()
    if not answer:
        return None
    payload = answer.get("payload") or {}
    return str(payload.get("value")) if payload.get("value") is not None else None


async def _ask_text(content: str) -> str | None:
    answer = await cl.AskUserMessage(content=content, timeout=ASK_TIMEOUT_S).send()
    if not answer:
        return None
    return str(answer.get("output") or "").strip()


def _action(name: str) -> Any:
    """``cl.action_callback`` that tells the page the work is over when the callback ends.

    Chainlit runs action callbacks in the HTTP request, and a question asked from one
    (``AskActionMessage``, ``AskUserMessage``) restarts the "task running" state that only the end of
    a message handler would stop: without this, the page keeps its stop button and refuses input.
    """

    def wrap(func: Any) -> Any:
        async def run(action: cl.Action) -> None:
            try:
                await func(action)
            finally:
                await cl.context.emitter.task_end()

        run.__name__ = func.__name__
        run.__doc__ = func.__doc__
        return cl.action_callback(name)(run)

    return wrap


# --------------------------------------------------------------------------- start

@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("chat", {})  # the conversation id of this session
    cl.user_session.set("dossiers", {})  # dossier id -> (result JSON, text, assessment id)
    _screen("accueil")
    if _service() is None:
        await cl.Message(content=render.text("not_mounted")).send()
        return
    account = await _refresh_account()
    lines = [render.text("welcome")]
    if account is not None:
        can = [render.text(f"can.{p}") for p in ("triage", "chat", "search", "decide", "queue", "training",
                                                  "feedback") if account.may(p)]
        lines.append(render.text("connected", login=account.login, role=_role_fr(account.role), can=" ; ".join(can)))
    await _say("\n\n".join(lines), remember=False)


# --------------------------------------------------------------------------- messages

@cl.on_message
async def on_message(message: cl.Message) -> None:
    service = _service()
    if service is None:
        await cl.Message(content=render.text("not_mounted")).send()
        return
    uploads = [handlers.Upload(name=el.name or Path(el.path).name, path=Path(el.path), mime=el.mime)
               for el in message.elements or [] if el.path]
    request = render.parse_request(message.content, has_files=bool(uploads))
    try:
        if request.kind == "news":
            await show_news()
        elif request.kind == "report":
            await report_flow()
        elif request.kind == "queue":
            await show_queue(service)
        elif request.kind == "training":
            await training_flow(service)
        elif request.kind == "search":
            await search_screen(service, request.text)
        elif request.kind == "triage":
            await converse(service, message.content, uploads)
        else:  # help, empty or unknown command: instant answer
            await _say(handlers.answer(service, message.content, uploads, cl.user_session.get("chat")))
    except GdrError as exc:
        await _say(render.render_error(exc.message), remember=False)


async def converse(service: ChatService, content: str, uploads: list[handlers.Upload]) -> None:
    """A dossier (risk card) or a question (cited answer), through the conversation service."""
    account = await _refresh_account()
    if account is None:
        return
    session: dict[str, Any] = cl.user_session.get("chat") or {}
    if not account.may("triage") and handlers.would_triage(content, bool(uploads),
                                                            bool(session.get("conversation_id"))):
        await _say(render.text("not_allowed", role=_role_fr(account.role), what=render.text("can.triage")),
                   remember=False)
        return
    if len(uploads) > 1:  # long work: one visible step per file
        for n, upload in enumerate(uploads, 1):
            name = render.text("step_file", n=n, total=len(uploads), name=upload.name)
            async with cl.Step(name=name, type="tool") as step:
                outcome = await cl.make_async(handlers.converse)(service, content if n == 1 else "", [upload],
                                                                 session, account)
                step.output = outcome.error or render.text("step_done", count=len(outcome.triaged))
            cl.user_session.set("chat", session)
            await _show(service, account, outcome)
        return
    working = "working_triage" if uploads else "working_answer"
    progress = cl.Message(content=render.text(working))
    await progress.send()
    outcome = await cl.make_async(handlers.converse)(service, content, uploads, session, account)
    cl.user_session.set("chat", session)
    await progress.remove()
    await _show(service, account, outcome)


async def _show(service: ChatService, account: Account, outcome: handlers.Conversed) -> None:
    if outcome.error:
        await _say(outcome.error, remember=False)
        return
    for triaged in outcome.triaged:
        await send_card(service, account, triaged.result, triaged.text, triaged.assessment_id)
    if not outcome.triaged:
        _screen("questions")
        await send_cited_answer(service, outcome.reply)


async def send_card(service: ChatService, account: Account, result: Any, dossier_text: str,
                    assessment_id: int | None) -> None:
    """The risk card of a dossier, its side texts (dossier, précédents, guidelines) and the decision buttons."""
    _screen("fiche de risque")
    dossiers: dict[str, Any] = cl.user_session.get("dossiers") or {}
    dossiers[result.id] = {"assessment_id": assessment_id, "type": result.type, "level": result.risk_level,
                           "mode": result.processing_mode.code}
    cl.user_session.set("dossiers", dossiers)
    cl.user_session.set("current_dossier", result.id)
    today = _today(service)
    props = cards.risk_card(result, dossier_text, today, assessment_id=assessment_id,
                            can_decide=account.may("decide"))
    elements: list[Any] = [cl.CustomElement(name="RiskCard", props=props, display="inline"),
                           cl.Text(name=render.text("card.dossier_name"),
                                   content=cards.dossier_markdown(result, dossier_text), display="side")]
    for hits, name in ((result.precedents, cards.precedent_name), (result.guidelines, cards.guideline_name)):
        for n, hit in enumerate(hits, 1):
            full = await cl.make_async(handlers.document_text)(service, hit.document_id)
            elements.append(cl.Text(name=name(n), display="side", content=cards.passage_markdown(
                full if full is not None else hit.excerpt, hit if full is not None else hit.model_copy(
                    update={"start": 0, "end": len(hit.excerpt)}), f"{name(n)} — {hit.title or hit.document_id}")))
    actions = []
    if account.may("decide") and assessment_id is not None:
        payload = {"dossier_id": result.id, "assessment_id": assessment_id}
        actions = [cl.Action(name="decide_accept", payload=payload, label=render.text("actions.accept"),
                             tooltip=render.text("actions.accept")),
                   cl.Action(name="decide_change", payload=payload, label=render.text("actions.change"),
                             tooltip=render.text("actions.change"))]
    await _say(cards.card_summary(result, today), actions=actions, elements=elements, dossier_id=result.id)


async def send_cited_answer(service: ChatService, reply: dict[str, Any]) -> None:
    """A cited answer: every ``[n]`` is the name of a side text holding the passage, the cited span in bold."""
    from corpora.model import Hit

    elements: list[Any] = []
    lines = [cards.cited_answer(reply)]
    citations = [Hit.model_validate(h) for h in reply.get("citations") or []]
    if citations and reply.get("sentences"):
        lines += ["", render.text("sources_title")]
        for n, hit in enumerate(citations, 1):
            name = cards.citation_name(n)
            full = await cl.make_async(handlers.document_text)(service, hit.document_id)
            if full is None or full[hit.start:hit.end] != hit.excerpt:
                full, hit = hit.excerpt, hit.model_copy(update={"start": 0, "end": len(hit.excerpt)})
            elements.append(cl.Text(name=name, display="side",
                                    content=cards.passage_markdown(full, hit, f"{name} {hit.title}")))
            lines.append(f"- {name} **{hit.title or hit.document_id}** (`{hit.document_id}`)")
    current = cl.user_session.get("current_dossier")
    await _say("\n".join(lines), elements=elements, dossier_id=current if isinstance(current, str) else None)


# --------------------------------------------------------------------------- decision

@_action("decide_accept")
async def decide_accept(action: cl.Action) -> None:
    await _decide(action.payload, change=False)


@_action("decide_change")
async def decide_change(action: cl.Action) -> None:
    await _decide(action.payload, change=True)


async def _decide(payload: dict[str, Any], change: bool) -> None:
    service = _service()
    account = await _allowed("decide", render.text("can.decide"))
    if service is None or account is None:
        return
    _screen("décision")
    dossier_id = str(payload.get("dossier_id") or "")
    known = (cl.user_session.get("dossiers") or {}).get(dossier_id)
    if not known:
        await _say(render.text("decision.no_dossier"), remember=False)
        return
    level, mode, reason = known["level"], None, None
    if change:
        from corpora.model import RISK_LEVELS

        chosen = await _ask_choice(render.text("decision.choose_level", level=known["level"]),
                                   [(lv, render.text("actions.level", level=lv)) for lv in RISK_LEVELS])
        if chosen is None:
            await _say(render.text("decision.timeout"), remember=False)
            return
        level = chosen
        modes = handlers.policy_modes(known["type"])
        default = next((code for lv, code, _ in modes if lv == level), "")
        options = [("", render.text("actions.keep_mode"))]
        options += [(code, label) for code, label in dict((c, lb) for _, c, lb in modes).items()]
        picked = await _ask_choice(render.text("decision.choose_mode", level=level, mode=default), options)
        if picked is None:
            await _say(render.text("decision.timeout"), remember=False)
            return
        mode = picked or None
        differs = level != known["level"] or (mode or default) != known["mode"]
        if differs:
            change_text = f"{known['level']} → {level}" if level != known["level"] else f"{known['mode']} → {mode}"
            reason = await _ask_text(render.text("decision.ask_reason", change=change_text))
            if not reason:
                await _say(render.text("decision.reason_missing"), remember=False)
                return
    try:
        decision = await cl.make_async(handlers.decide)(service, account, dossier_id, level, mode, reason,
                                                          known.get("assessment_id"))
    except GdrError as exc:
        await _say(render.render_error(exc.message), remember=False)
        return
    changed = render.text("decision.changed", reason=decision.reason) if decision.changed else ""
    await _say(render.text("decision.recorded", level=decision.risk_level, mode=decision.processing_mode,
                           changed=changed), dossier_id=dossier_id)


# --------------------------------------------------------------------------- queue

async def show_queue(service: ChatService) -> None:
    if await _allowed("queue", render.text("can.queue")) is None:
        return
    _screen("file d'attente")
    queue = await cl.make_async(handlers.pending)(service)
    actions = [cl.Action(name="queue_open", payload={"assessment_id": item.assessment_id},
                         label=render.text("actions.open", n=n), tooltip=f"{item.dossier_id} — {item.title[:60]}")
               for n, item in enumerate(queue.items[:10], 1)]
    body = cards.queue_markdown(queue) + ("\n\n" + render.text("queue.open_hint") if actions else "")
    await _say(body, actions=actions)


@_action("queue_open")
async def queue_open(action: cl.Action) -> None:
    service = _service()
    account = await _allowed("read_dossier", render.text("can.queue"))
    if service is None or account is None:
        return
    try:
        result, text = await cl.make_async(handlers.stored_assessment)(
            service, int(action.payload["assessment_id"]), account)
    except GdrError as exc:
        await _say(render.render_error(exc.message), remember=False)
        return
    await send_card(service, account, result, text, int(action.payload["assessment_id"]))


# --------------------------------------------------------------------------- search

async def search_screen(service: ChatService, body: str) -> None:
    if await _allowed("search", render.text("can.search")) is None:
        return
    _screen("recherche")
    request, hits = await cl.make_async(handlers.expert_search)(service, body)
    elements: list[Any] = []
    for n, hit in enumerate(hits, 1):
        full = await cl.make_async(handlers.document_text)(service, hit.document_id)
        if full is None or full[hit.start:hit.end] != hit.excerpt:
            full, hit = hit.excerpt, hit.model_copy(update={"start": 0, "end": len(hit.excerpt)})
        elements.append(cl.Text(name=cards.citation_name(n), display="side",
                                content=cards.passage_markdown(full, hit, f"{cards.citation_name(n)} {hit.title}")))
    content = cards.search_markdown(request, hits)
    if request.export and hits:
        name = render.text("search.csv_name")
        elements.append(cl.File(name=name, content=cards.search_csv(hits).encode("utf-8"), mime="text/csv",
                                display="inline"))
        content += "\n\n" + render.text("search.csv_ready", count=len(hits), name=name)
    await _say(content, elements=elements)


# --------------------------------------------------------------------------- testers' loop

async def show_news() -> None:
    _screen("nouveautés")
    try:
        body = handlers.changelog()
    except GdrError as exc:
        body = render.render_error(exc.message)
    await _say(render.text("news_title") + "\n\n" + body.split("\n", 1)[-1], remember=False)


@_action("news")
async def news_action(_action: cl.Action) -> None:
    await show_news()


@_action("report")
async def report_action(_action: cl.Action) -> None:
    await report_flow()


async def report_flow() -> None:
    service = _service()
    screen = str(cl.user_session.get("screen") or "discussion")
    account = await _allowed("feedback", render.text("can.feedback"))
    if service is None or account is None:
        return
    kind = await _ask_choice(render.text("feedback.choose"), [("probleme", render.text("actions.report_problem")),
                                                              ("suggestion", render.text("actions.suggest"))])
    if kind is None:
        return
    comment = await _ask_text(render.text("feedback.ask"))
    if not comment:
        return
    current = cl.user_session.get("current_dossier")
    try:
        stored = await cl.make_async(handlers.submit_feedback)(
            service, account, kind, comment, screen=screen, dossier_id=current if isinstance(current, str) else None,
            context={"écran": screen, "conversation": (cl.user_session.get("chat") or {}).get("conversation_id")})
    except GdrError as exc:
        await _say(render.render_error(exc.message), remember=False)
        return
    await _say(render.text("feedback.thanks", id=stored), remember=False)


# --------------------------------------------------------------------------- trainer mode

async def training_flow(service: ChatService) -> None:
    if await _allowed("training", render.text("can.training")) is None:
        return
    _screen("formation")
    kind = await _ask_choice(render.text("trainer.choose_type"),
                             [(k, label) for k, label in render.messages()["triage"]["types"].items()])
    if kind is None:
        return
    difficulty = await _ask_choice(render.text("trainer.choose_difficulty"),
                                   [("facile", "facile"), ("difficile", "difficile"), ("toutes", "indifférente")])
    if difficulty is None:
        return
    cl.user_session.set("training", {"type": kind, "difficulty": difficulty, "scores": [], "seen": []})
    await training_case(service)


async def training_case(service: ChatService) -> None:
    from corpora.model import RISK_LEVELS

    state = cl.user_session.get("training") or {}
    try:
        case = await cl.make_async(handlers.draw_training_case)(service, state["type"], state["difficulty"],
                                                                  state["seen"])
    except GdrError as exc:
        await _say(render.render_error(exc.message), remember=False)
        return
    state["seen"].append(case.dossier.id)
    await _say(cards.trainer_case_markdown(case, len(state["seen"])), remember=False)
    level = await _ask_choice(render.text("trainer.ask_level"),
                              [(lv, render.text("actions.level", level=lv)) for lv in RISK_LEVELS])
    modes = handlers.policy_modes(case.dossier.type)
    mode = await _ask_choice(render.text("trainer.ask_mode"),
                             list(dict((code, label) for _, code, label in modes).items())) if level else None
    reason = await _ask_text(render.text("trainer.ask_reason")) if mode else None
    if not (level and mode and reason):
        await _say(render.text("trainer.timeout"), remember=False)
        return
    from assistant.services.training import score_answer

    try:
        score = score_answer(case, level=level, mode=mode, reason=reason)
    except GdrError as exc:
        await _say(render.render_error(exc.message), remember=False)
        return
    state["scores"].append(score)
    cl.user_session.set("training", state)
    tool = await cl.make_async(handlers.tool_proposal)(service, case.dossier)
    actions = [cl.Action(name="training_next", payload={}, label=render.text("actions.next_case"),
                         tooltip=render.text("actions.next_case")),
               cl.Action(name="training_end", payload={}, label=render.text("actions.end_training"),
                         tooltip=render.text("actions.end_training"))]
    await _say(cards.trainer_reveal_markdown(case, score, tool), actions=actions, dossier_id=case.dossier.id)


@_action("training_next")
async def training_next(_action: cl.Action) -> None:
    service = _service()
    if service is not None and cl.user_session.get("training"):
        await training_case(service)


@_action("training_end")
async def training_end(_action: cl.Action) -> None:
    from assistant.services.training import summarise

    state = cl.user_session.get("training") or {}
    await _say(cards.trainer_summary_markdown(summarise(state.get("scores") or [])), remember=False)
    cl.user_session.set("training", None)
