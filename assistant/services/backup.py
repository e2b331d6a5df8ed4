"""``gdr backup DIR`` / ``gdr restore DIR``: the database, the stores, the models and the keys, checked.

A backup is a folder: ``database.sqlite3`` (SQLite's online backup API, consistent even while the
app writes), ``data/`` (the data dir's ``index``, ``models``, ``auth``, ``reports`` and ``eval``: every
SQLite file inside is copied with the same API, the rest byte for byte; the embeddings cache is left
out, it is rebuilt on demand) and ``manifest.json`` (SHA-256 and size of every file, schema revision,
date). It is written to a temporary folder renamed at the end: an interrupted backup leaves no
folder that looks complete. The keys (token signing, pseudonym maps) are in it: keep it as private
as the data dir.

Restore checks every checksum first, then copies into an empty (or absent) data dir through a
temporary folder renamed at the end, so a failed restore leaves the target as it was. PostgreSQL
databases are saved with their own tools (``pg_dump`` / ``pg_restore``): refused here with that hint.
Framework-free.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.settings import Settings
from classifier.artefacts import sha256_file
from corpora.errors import CorruptFile, InputError

MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
DATA = "data"
KEPT = ("index", "models", "auth", "reports", "eval")  # under the data dir; cache/ is rebuilt on demand
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    path: Path
    files: int
    bytes: int
    revision: str | None


def _sqlite_path(settings: Settings) -> Path:
    from sqlalchemy.engine import make_url

    from assistant.db.engine import database_url

    url = make_url(database_url(settings))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise InputError("Sauvegarde intégrée réservée à SQLite : pour PostgreSQL, utilisez « pg_dump » (et "
                         "« pg_restore »), puis « gdr backup » sauvegarde le reste avec --sans-base.")
    return Path(url.database).expanduser()


def _copy_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False




def _revision(database: Path) -> str | None:
    try:
        con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            row = con.execute("select version_num from alembic_version").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def backup(settings: Settings, target: Path, *, with_database: bool = True) -> BackupReport:
    """Write a backup of ``settings``' data into the new folder ``target`` (see module docstring)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise InputError(f"Dossier de sauvegarde non vide : {target} (choisissez un dossier neuf).")
    database = _sqlite_path(settings) if with_database else None
    if database is not None and not database.exists():
        raise InputError(f"Base de données introuvable : {database} (rien à sauvegarder).")
    tmp = target.with_name(f".{target.name}.partiel")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if database is not None:
            _copy_sqlite(database, tmp / DATABASE)
        data_dir = settings.data_dir
        for name in KEPT:
            folder = data_dir / name
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                out = tmp / DATA / path.relative_to(data_dir)
                out.parent.mkdir(parents=True, exist_ok=True)
                if _is_sqlite(path) and not path.name.endswith(("-wal", "-shm", "-journal")):
                    _copy_sqlite(path, out)
                elif not path.name.endswith(("-wal", "-shm", "-journal")):
                    shutil.copy2(path, out)
        files = {str(p.relative_to(tmp)): {"sha256": sha256_file(p), "size": p.stat().st_size}
                 for p in sorted(tmp.rglob("*")) if p.is_file()}
        revision = _revision(tmp / DATABASE) if database is not None else None
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "revision": revision,
                    "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o700)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BackupReport(target, len(files), sum(int(str(f["size"])) for f in files.values()), revision)


def check(source: Path) -> dict[str, object]:
    """The manifest of a backup whose files are all present and intact; a French error otherwise."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CorruptFile(f"Sauvegarde illisible : {source / MANIFEST} absent ou invalide.") from None
    if manifest.get("format") != FORMAT:
        raise CorruptFile(f"Format de sauvegarde inconnu ({manifest.get('format')}) dans {source}.")
    for name, info in manifest["files"].items():
        path = source / name
        if not path.is_file() or sha256_file(path) != info["sha256"]:
            raise CorruptFile(f"Sauvegarde altérée : « {name} » manque ou ne correspond plus à son empreinte.")
    return dict(manifest)


def restore(settings: Settings, source: Path) -> BackupReport:
    """Restore a checked backup into the (empty or absent) data dir of ``settings``."""
    manifest = check(source)
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()):
        raise InputError(f"Dossier de données non vide : {data_dir}. Restaurez dans un dossier vide "
                         "(GDR_DATA_DIR) pour ne rien écraser.")
    files: dict[str, dict[str, object]] = manifest["files"]  # type: ignore[assignment]
    database = _sqlite_path(settings) if DATABASE in files else None
    if database is not None and database.exists():
        raise InputError(f"Base de données déjà présente : {database}. Restaurez vers une base vide.")
    tmp = data_dir.with_name(f".{data_dir.name}.restauration")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name in files:
            if name.startswith(DATA + "/"):
                out = tmp / Path(name).relative_to(DATA)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(source) / name, out)
        auth = tmp / "auth"
        if auth.is_dir():
            os.chmod(auth, 0o700)
            for key in auth.iterdir():
                os.chmod(key, 0o600)
        if data_dir.exists():
            data_dir.rmdir()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, data_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        part = database.with_name(f".{database.name}.restauration")
        shutil.copy2(Path(source) / DATABASE, part)
        os.replace(part, database)
    return BackupReport(data_dir, len(files), sum(int(f["size"]) for f in files.values()),  # type: ignore[call-overload]
                        manifest.get("revision"))  # type: ignore[arg-type]
