"""The Chainlit UI in a real headless Chromium against ``gdr serve``, with axe-core on each screen.

One end-to-end flow (about a minute on two free cores): log in as an evaluator, paste a dossier,
see the risk card and a précédent, open a précédent and a citation in the side panel, ask a
follow-up question, change the level with a reason (stored decision checked in the database),
see the queue; then a trainer logs in and runs one trainer-mode case to its score. axe-core
(bundled by ``axe-selenium-python``, nothing downloaded) runs on each screen: zero serious or
critical violations. Screenshots go to ``GDR_UI_SCREENSHOTS`` (default: the test's tmp folder).
Every request the page makes must stay on the server (offline).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_server import CHROMEDRIVER, CHROMIUM, DEATH, GDR, _env, _serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "une phrase de passe longue"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def ui_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample ingested and indexed (fake embedder) by the real CLI, with an evaluator and a trainer."""
    data_dir = tmp_path_factory.mktemp("ui_browser") / "var"
    env = _env(data_dir)
    steps = [["ingest"], ["index", "build"], ["users", "create", "eva", "--role", "evaluateur"],
             ["users", "create", "forma", "--role", "formateur"]]
    for args in steps:
        done = subprocess.run([str(GDR), *args], env={**env, "GDR_PASSWORD": PASSWORD}, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    return data_dir


class Page:
    """A Chromium page on the chat, with the waits and the checks every screen needs."""

    def __init__(self, driver: Any, shots: Path) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.shots = shots
        # the page re-renders while it is read: a stale element means "look again"
        self.wait = WebDriverWait(driver, 90, poll_frequency=0.3, ignored_exceptions=(StaleElementReferenceException,))
        self.violations: dict[str, list[str]] = {}

    def body(self) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def until_text(self, text: str) -> None:
        self.wait.until(lambda _d: text in self.body(), message=f"texte attendu : {text!r}")

    def count(self, text: str) -> int:
        return self.body().count(text)

    def button(self, label: str, last: bool = True) -> Any:
        from selenium.webdriver.common.by import By

        def find(_d: Any) -> Any:
            found = [b for b in self.driver.find_elements(By.TAG_NAME, "button")
                     if b.is_displayed() and b.is_enabled()
                     and label in (b.text or b.get_attribute("aria-label") or "")]
            return (found[-1] if last else found[0]) if found else None

        return self.wait.until(find, message=f"bouton attendu : {label!r}")

    def click(self, label: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException

        def press(_d: Any) -> bool:
            try:
                element = self.button(label)
                self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
                element.click()
                return True
            except StaleElementReferenceException:
                return False

        self.wait.until(press, message=f"bouton non cliquable : {label!r}")

    def link(self, text: str) -> Any:
        from selenium.webdriver.common.by import By

        def find(_d: Any) -> Any:
            found = [a for a in self.driver.find_elements(By.CSS_SELECTOR, "a, [role=link], button, span")
                     if a.is_displayed() and (a.text or "").strip().lower() == text.lower()]
            return found[-1] if found else None

        return self.wait.until(find, message=f"lien attendu : {text!r}")

    def click_link(self, text: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException

        def press(_d: Any) -> bool:
            try:
                self.link(text).click()
                return True
            except StaleElementReferenceException:
                return False

        self.wait.until(press, message=f"lien non cliquable : {text!r}")

    def send(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        # the previous task is over (the stop button gives way to the send button), then type
        self.wait.until(lambda d: not d.find_elements(By.ID, "stop-button") and d.find_elements(By.ID, "chat-submit"),
                        message="la tâche précédente ne se termine pas")
        box = self.wait.until(lambda d: d.find_element(By.ID, "chat-input"))
        box.click()
        for n, line in enumerate(text.split("\n")):
            if n:
                box.send_keys(Keys.SHIFT, Keys.ENTER)
            box.send_keys(line)
        box.send_keys(Keys.ENTER)

    def check(self, screen: str) -> None:
        """Screenshot, then axe-core: no serious or critical violation on this screen."""
        from axe_selenium_python import Axe

        time.sleep(0.5)  # let the last render settle
        self.driver.save_screenshot(str(self.shots / f"{screen}.png"))
        Axe(self.driver).inject()  # the axe-core bundled by axe-selenium-python (no download)
        # Results come back as JSON text: the raw result object is too deep for the WebDriver bridge.
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice']}})"
            ".then(r => done(JSON.stringify(r.violations))).catch(e => done(JSON.stringify([{id: 'axe-error', "
            "impact: 'critical', help: String(e), nodes: []}])));")
        violations = json.loads(found)
        (self.shots / f"{screen}.axe.json").write_text(json.dumps(violations, indent=1, ensure_ascii=False),
                                                       encoding="utf-8")
        bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
               for v in violations if v.get("impact") in BLOCKING]
        self.violations[screen] = bad


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Any]]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("Chromium absent (/usr/bin/chromium ou /usr/bin/chromedriver) : test navigateur ignoré ; "
                    "installez les paquets Debian chromium et chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium non installé : test navigateur ignoré")
    pytest.importorskip("axe_selenium_python", reason="axe-selenium-python non installé (dépendance de dev)")
    from selenium.webdriver.chrome.service import Service

    drivers: list[Any] = []

    def new() -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        profile = tmp_path_factory.mktemp("profile")
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1280,1400", "--lang=fr-FR", f"--user-data-dir={profile}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        drivers.append(driver)
        return driver

    yield new
    for driver in drivers:
        driver.quit()


def _requested_hosts(driver: Any) -> set[str]:
    from urllib.parse import urlsplit

    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http://", "https://", "ws://", "wss://")):
                hosts.add(urlsplit(url).hostname or "")
    return hosts


def _login(page: Page, base: str, login: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page.driver.get(f"{base}/chat/")
    page.wait.until(lambda d: "/login" in d.current_url, message="redirection vers la connexion")  # client-side
    user = page.wait.until(lambda d: d.find_element(By.ID, "email"))
    page.check("connexion")
    # keyboard only: type the login, Tab to the password, Enter to submit
    user.click()
    user.send_keys(login, Keys.TAB)
    active = page.driver.switch_to.active_element
    assert active.get_attribute("id") == "password", "Tab doit mener au mot de passe"
    active.send_keys(PASSWORD, Keys.ENTER)
    page.until_text("Bienvenue dans GDR Santé")
    page.until_text(f"Connecté en tant que {login}")


def _stored(data_dir: Path) -> tuple[list[Any], list[Any]]:
    """The decisions and the feedback stored in the test server's database (read through the services)."""
    from sqlalchemy.orm import Session

    from assistant.db.engine import make_engine
    from assistant.services.decisions import list_decisions
    from assistant.services.feedback import list_feedback
    from assistant.settings import get_settings

    settings = get_settings(data_dir=data_dir, database_url=None, corpora_dir=None)
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            return list_decisions(session), list_feedback(session)
    finally:
        engine.dispose()


def test_evaluator_and_trainer_flows(ui_data: Path, browser: Callable[[], Any], tmp_path: Path) -> None:
    shots = Path(os.environ.get("GDR_UI_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    from selenium.webdriver.common.by import By

    with _serve(ui_data, tmp_path) as base:
        # ---------------------------------------------------------------- evaluator
        page = Page(browser(), shots)
        _login(page, base, "eva")
        assert "rôle : évaluateur" in page.body()
        page.check("accueil")

        page.send(DEATH)
        page.until_text("Niveau de risque : critique")
        page.until_text("Précédent 1")
        page.until_text("Critères déclenchés")  # the card (custom element) is rendered
        text = page.body()
        assert "Critères déclenchés" in text and "PV-DECES" in text and "Précédents" in text
        assert "jours restants" in text and "Traceback" not in text
        page.check("fiche-de-risque")

        page.click_link("Précédent 1")
        page.until_text("Issue enregistrée")
        page.check("precedent-panneau")

        page.send("pourquoi critique ?")
        page.until_text("Sources citées")
        page.click_link("[1]")
        page.until_text("passage cité en gras")
        page.check("question-citation")

        page.click("Réponse utile")  # Chainlit's thumb, stored through the feedback service
        comment = page.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[role=dialog] textarea"))
        comment.send_keys("Réponse claire et sourcée.")
        page.check("retour-utile")
        page.click("Envoyer le commentaire")
        page.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[role=dialog]"), message="dialogue fermé")

        page.send("/file")
        page.until_text("File d'attente : 1 dossier(s) en attente")
        page.check("file-d-attente")
        page.click("Ouvrir la fiche 1")
        page.wait.until(lambda _d: page.count("Critères déclenchés") >= 2, message="fiche ouverte depuis la file")

        page.click("Modifier le niveau ou le mode")
        page.click("Niveau élevé")
        page.click("Mode associé au niveau")
        page.until_text("Motif de la modification")
        page.send("Décès sans lien établi avec le produit selon le CRPV.")
        page.until_text("Décision enregistrée : niveau élevé")
        page.check("decision")
        page.send("/recherche hémorragie source:sample --csv")
        page.until_text("Résultats pour « hémorragie »")
        page.until_text("recherche.csv")
        page.check("recherche")
        page.click("Nouveautés")
        page.until_text("Toutes les évolutions visibles par les utilisateurs")
        hosts = _requested_hosts(page.driver)

        # ---------------------------------------------------------------- trainer
        trainer = Page(browser(), shots)
        _login(trainer, base, "forma")
        trainer.send("/formation")
        trainer.click("pharmacovigilance")
        trainer.click("facile")
        trainer.until_text("Cas n° 1")
        assert "Issue enregistrée" not in trainer.body()  # never before the answer
        trainer.check("formation-cas")
        trainer.click("Niveau critique")
        trainer.until_text("Votre mode de traitement")
        trainer.click("Traitement")
        trainer.until_text("Votre motif")
        trainer.send("Décès du patient : critère de gravité ICH E2A.")
        trainer.until_text("Score :")
        assert "Issue enregistrée" in trainer.body() and "Proposition de l'outil" in trainer.body()
        trainer.check("formation-score")
        trainer.click("Terminer la session")
        trainer.until_text("Bilan de la session")
        hosts |= _requested_hosts(trainer.driver)

    decisions, feedback = _stored(ui_data)
    assert [(f.kind, f.comment, f.author, f.screen) for f in feedback] == [
        ("utile", "Réponse claire et sourcée.", "eva", "questions")]
    assert [(d.proposed_level, d.risk_level, d.reason, d.decided_by) for d in decisions] == [
        ("critique", "élevé", "Décès sans lien établi avec le produit selon le CRPV.", "eva")]
    assert hosts <= {"127.0.0.1", "localhost"}, f"requêtes hors du serveur : {hosts}"
    bad = {screen: found for screen, found in {**page.violations, **trainer.violations}.items() if found}
    assert not bad, f"violations axe-core graves ou critiques : {json.dumps(bad, ensure_ascii=False, indent=1)}"
