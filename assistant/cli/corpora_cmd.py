"""``gdr corpora convert|stats|fetch`` (thin layer over the corpora services)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import corpora_app, err, out_json, settings, user_errors
from corpora.catalog import parse_years
from corpora.errors import GdrError, InputError
from corpora.normalise import fr_decimal


@corpora_app.command(
    "convert",
    help="Convertit les fichiers publiés d'une source (vaers, ema, sample) en JSON Lines : une ligne "
    "par dossier {id, type, title, text, received_at, language, source, fields, outcome}, ou en ICSR "
    "ICH E2B(R3) avec --to e2b (un lot XML MCCI_IN200100UV01). "
    "Exemple : gdr corpora convert vaers 2004VAERSData.zip --out vaers-2004.jsonl",
)
@user_errors
def convert_cmd(
    source: Annotated[str, typer.Argument(help="Source : vaers, ema ou sample.", show_default=False)],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Fichiers d'entrée (zip VAERS, dossier ou CSV ; table EPAR .xlsx/.csv).",
                       show_default=False),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="Fichier JSONL à écrire (atomiquement) ; « - » pour la sortie standard.",
                     show_default=False),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="Au plus N dossiers écrits.", show_default=False)
    ] = None,
    to: Annotated[
        str, typer.Option("--to", help="Format écrit : jsonl (défaut) ou e2b (ICSR ICH E2B(R3) en XML).")
    ] = "jsonl",
) -> None:
    from assistant.services.corpora import check_source, convert, summary_fr

    check_source(source)
    if not out:
        raise InputError("Option --out obligatoire : indiquez le fichier à écrire (ou « - »).")
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        report = convert(source, list(paths or []), out, limit=limit,
                         progress=progress.update_to if progress else None, to=to.strip().lower())
    finally:
        if progress is not None:
            progress.close()
    err(summary_fr(report, out))


class _Progress:
    """A tqdm counter on stderr (only on a terminal), fed with the number of lines written."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(unit=" dossiers", desc="Conversion", file=sys.stderr, leave=False)
        self._n = 0

    def update_to(self, n: int) -> None:
        self._bar.update(n - self._n)
        self._n = n

    def close(self) -> None:
        self._bar.close()


def _stats_table(rows: list[Any], corpora_dir: Path, seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)
    table = Table(title=f"Corpus de {corpora_dir}", title_justify="left")
    table.add_column("Source", no_wrap=True)
    table.add_column("Type", no_wrap=True)
    table.add_column("Lus", justify="right", no_wrap=True)
    table.add_column("Écrits", justify="right", no_wrap=True)
    table.add_column("Unité", no_wrap=True)
    table.add_column("Ignorés", justify="right", no_wrap=True)
    table.add_column("Motifs des lignes ignorées")
    table.add_column("Durée (s)", justify="right", no_wrap=True)
    for s in rows:
        reasons = "; ".join(f"{reason} : {n}" for reason, n in sorted(s.skipped.items(), key=lambda kv: -kv[1]))
        if s.error:
            reasons = f"ERREUR : {s.error}" + (f" ; {reasons}" if reasons else "")
        table.add_row(s.source, s.kind, str(s.read), str(s.written), s.unit, str(s.skipped_total),
                      reasons or "—", f"{s.seconds:.1f}")
    console.print(table)
    written = sum(s.written for s in rows)
    skipped = sum(s.skipped_total for s in rows)
    console.print(f"Total : {written} documents écrits, {skipped} lignes ignorées (toutes comptées), "
                  f"en {fr_decimal(seconds)} s.")


@corpora_app.command(
    "stats",
    help="Compte, par source et par type de document, les enregistrements lus, écrits et ignorés "
    "(avec les motifs). Exemple : gdr corpora stats --dir ../shared/corpora",
)
@user_errors
def stats_cmd(
    dir: Annotated[
        Path | None,
        typer.Option("--dir", "-d", help="Dossier des corpus (défaut : GDR_CORPORA_DIR, sinon l'échantillon "
                     "fourni).", show_default=False),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Limiter à cette source (répétable), ex. bdpm, has-smr.",
                     show_default=False),
    ] = None,
    years: Annotated[
        str | None,
        typer.Option("--vaers-years", help="Années VAERS à compter, ex. 1990-1995 ou 2003,2004 (défaut : toutes).",
                     show_default=False),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Une ligne JSON par source sur la sortie standard.")]
    = False,
) -> None:
    import time

    from assistant.services.corpora_admin import corpora_stats, default_corpora_dir

    corpora_dir = dir if dir is not None else default_corpora_dir(settings())
    vaers_years = parse_years(years)
    started = time.perf_counter()
    if json_out:
        rows = corpora_stats(corpora_dir, sources=source or None, vaers_years=vaers_years,
                             on_source=lambda s: out_json(s.as_dict()))
    else:
        if sys.stderr.isatty():
            err(f"Lecture des corpus de {corpora_dir}…")
        rows = corpora_stats(corpora_dir, sources=source or None, vaers_years=vaers_years)
        _stats_table(rows, corpora_dir, time.perf_counter() - started)
    failed = [s for s in rows if s.error]
    if failed:
        raise GdrError(
            f"{len(failed)} source(s) illisible(s) : "
            + " ; ".join(f"{s.source} ({s.error})" for s in failed)
        )


@corpora_app.command(
    "fetch",
    help="Télécharge les sources publiques officielles (VAERS, BDPM, HAS, EMA, thésaurus ANSM, essais "
    "arrêtés ClinicalTrials.gov ; adresses dans corpora/sources.yaml) dans le dossier des corpus, puis les "
    "vérifie. Un miroir (dossier ou URL HTTP servant la même arborescence) remplace les sites officiels. "
    "Exemple : gdr corpora fetch --mirror ../shared/corpora --dest var/corpora",
)
@user_errors
def fetch_cmd(
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", "-m", help="Dossier ou URL de base d'un miroir (même arborescence).",
                     show_default=False),
    ] = None,
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Dossier de destination (défaut : GDR_CORPORA_DIR, sinon "
                     "<dossier de données>/corpora).", show_default=False),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Seulement cette source (répétable) : vaers, bdpm, has, ema, ansm, ctgov…",
                     show_default=False),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Délai d'attente réseau, en secondes.")
    ] = 15.0,
    json_out: Annotated[bool, typer.Option("--json", help="Une ligne JSON par fichier sur la sortie standard.")]
    = False,
) -> None:
    from assistant.services.corpora_admin import default_fetch_dest, fetch
    from corpora.fetch import report_as_dicts

    target = dest if dest is not None else default_fetch_dest(settings())
    err(f"Destination : {target}" + (f" ; miroir : {mirror}" if mirror else " ; sources officielles"))
    report = fetch(target, mirror=mirror, only=only or None, progress=err, timeout=timeout)
    if json_out:
        for row in report_as_dicts(report):
            out_json(row)
    counts = report.counts()
    err("Bilan : " + ", ".join(
        f"{n} {label}" for key, label in (("downloaded", "téléchargé(s)"), ("copied", "copié(s)"),
                                          ("present", "déjà présent(s)"), ("failed", "en échec"))
        if (n := counts.get(key, 0))
    ) + ".")
    if report.failed:
        raise GdrError(
            f"{len(report.failed)} fichier(s) non récupéré(s) : "
            + " ; ".join(f"{r.path} ({r.error})" for r in report.failed[:5])
            + (" ; …" if len(report.failed) > 5 else "")
        )
