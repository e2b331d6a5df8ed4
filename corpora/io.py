"""Small I/O helpers shared by loaders and commands: atomic writes, JSON lists, JSON Lines."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from corpora.errors import CorruptFile, EncodingProblem, InputError
from corpora.normalise import lone_surrogate

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON input (real dossiers use fewer than 5)."""
JSON_TOO_DEEP = f"imbrication trop profonde (plus de {MAX_JSON_DEPTH} niveaux de listes ou d'objets)"
JSON_NUMBER_TOO_LONG = "nombre trop long"
JSON_LONE_SURROGATE = "caractère \\uD800–\\uDFFF isolé (moitié d'une paire UTF-16, ce n'est pas du texte)"


_JSON_REASONS = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendu",
    "Unterminated string starting at": "chaîne non terminée",
    "Extra data": "données en trop après la fin du JSON",
    "Invalid control character at": "caractère de contrôle dans une chaîne",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Invalid \\uXXXX escape": "séquence \\uXXXX invalide",
}


def json_reason(exc: json.JSONDecodeError | str) -> str:
    """The French reason of a JSON decoding error, or of its message (the parser's own are English)."""
    msg = exc if isinstance(exc, str) else exc.msg
    return _JSON_REASONS.get(msg, msg if msg in (JSON_TOO_DEEP, JSON_NUMBER_TOO_LONG, JSON_LONE_SURROGATE)
                             else "syntaxe JSON invalide")


_OS_REASONS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EEXIST: "un fichier du même nom existe déjà sur le chemin",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
    errno.ENOSPC: "plus d'espace disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}


def os_reason(exc: OSError) -> str:
    """The French reason of a file-system error (``strerror`` is the system's English)."""
    return _OS_REASONS.get(exc.errno or -1) or exc.strerror or str(exc)


def loads_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses deep nesting as a :class:`json.JSONDecodeError` (French message).

    Deeply nested JSON would otherwise raise :class:`RecursionError` in the parser (or later, in
    whatever walks the value): the callers already turn decode errors into one French line. A string
    holding a lone surrogate (``"\\ud800"`` without its pair) is refused the same way: it is no text,
    and would fail later, when hashed, stored or printed.
    """
    doc = text if isinstance(text, str) else ""
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(JSON_TOO_DEEP, doc, 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # e.g. an integer of more than 4300 digits (int_max_str_digits)
        raise json.JSONDecodeError(JSON_NUMBER_TOO_LONG, doc, 0) from None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            if isinstance(node, str) and lone_surrogate(node):
                raise json.JSONDecodeError(JSON_LONE_SURROGATE, doc, _surrogate_position(doc))
            continue
        if depth > max_depth:
            raise json.JSONDecodeError(JSON_TOO_DEEP, doc, 0)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | str))
    return value


_SURROGATE_IN_JSON = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                                r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})"
                                r"\\u[dD][c-fC-F][0-9a-fA-F]{2}|[\ud800-\udfff]")


def _surrogate_position(doc: str) -> int:
    """Where the first lone surrogate (escaped or raw) is in the JSON text, for the line and column."""
    m = _SURROGATE_IN_JSON.search(doc)
    return m.start() if m else 0


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any exception the temporary file is removed: nothing half-written is left.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600 files: give the result the usual mode (existing file's, else 0666 & ~umask).
        try:
            mode_bits = target.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode_bits = 0o666 & ~umask
        os.chmod(tmp, mode_bits)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_json_list(path: str | Path) -> list[Any]:
    """The items of a published JSON file holding one list (alone, or as the only list of an object).

    UTF-8 with or without BOM; unreadable, badly encoded or malformed files raise French errors.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"Impossible de lire {p} : {exc.strerror or exc}") from exc
    try:
        data = loads_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise EncodingProblem(f"{p} n'est pas encodé en UTF-8 (octet invalide en position {exc.start}).") from exc
    except json.JSONDecodeError as exc:
        raise CorruptFile(f"{p} : JSON invalide ({json_reason(exc)}, ligne {exc.lineno}, "
                          f"colonne {exc.colno}).") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
    if not isinstance(data, list):
        raise CorruptFile(f"{p} : liste d'éléments attendue dans ce fichier JSON.")
    return data


def read_texts(path: Path) -> dict[str, Any]:
    """A YAML file of texts (a mapping of keys to texts or nested mappings); ValueError otherwise."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} : dictionnaire de textes attendu.")
    return data


def dotted_text(texts: dict[str, Any], key: str, **values: Any) -> str:
    """The text at a dotted ``key`` (``"triage.title"``) of ``texts``, formatted with ``values``."""
    node: Any = texts
    for part in key.split("."):
        node = node[part]
    return str(node).format(**values) if values else str(node)


def dump_json_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path: str | Path, rows: Iterable[Any]) -> int:
    """Atomically write ``rows`` as JSON Lines; return the number of lines."""
    n = 0
    with atomic_writer(path) as fh:
        for row in rows:
            fh.write(dump_json_line(row))
            fh.write("\n")
            n += 1
    return n


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_number, object, error)`` for each non-blank line of a JSON Lines file.

    A malformed line yields ``(n, None, message)`` so the caller can report it and go on.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"Fichier introuvable : {p}")
    try:
        fh = p.open(encoding="utf-8-sig")  # a byte-order mark is allowed, as at intake
    except OSError as exc:
        raise InputError(f"Impossible d'ouvrir {p} : {exc.strerror}") from exc
    with fh:
        try:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = loads_json(line)
                except json.JSONDecodeError as exc:
                    yield n, None, f"JSON invalide ({json_reason(exc)}, colonne {exc.colno})"
                    continue
                if not isinstance(obj, dict):
                    yield n, None, "la ligne n'est pas un objet JSON"
                    continue
                yield n, obj, None
        except UnicodeDecodeError as exc:
            raise CorruptFile(f"{p} n'est pas encodé en UTF-8 (octet invalide en position {exc.start}).") from exc
