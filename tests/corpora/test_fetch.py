"""Corpora download (corpora.fetch): the official catalogue, a loopback HTTP mirror, resumption, verification."""

from __future__ import annotations

import contextlib
import filecmp
from collections.abc import Callable
from pathlib import Path

import pytest

from corpora.errors import InputError, OfflineError, UnknownSource
from corpora.fetch import FileSpec, fetch_corpora, load_file_specs, select_specs, verify_file

Serve = Callable[[Path], contextlib.AbstractContextManager[str]]


def test_sources_yaml_lists_every_folder() -> None:
    specs = load_file_specs()
    groups = {s.group for s in specs}
    assert groups == {"vaers", "bdpm", "has", "ema", "ansm_interactions", "ctgov_stopped"}
    vaers = [s.path for s in specs if s.group == "vaers"]
    assert vaers[0] == "vaers/1990VAERSData.zip" and vaers[-1] == "vaers/2004VAERSData.zip" and len(vaers) == 15
    assert all(s.url.startswith("https://") for s in specs)
    assert [s.path for s in select_specs(specs, ["has-smr"])] == [
        "has/CIS_HAS_SMR_bdpm.txt", "has/CIS_HAS_ASMR_bdpm.txt", "has/HAS_LiensPageCT_bdpm.txt"]
    with pytest.raises(UnknownSource, match="Source inconnue : faers"):
        select_specs(specs, ["faers"])


def test_download_from_http_mirror_atomic_and_idempotent(mirror: tuple[Path, list[FileSpec]], serve: Serve,
                                                         tmp_path: Path) -> None:
    root, specs = mirror
    dest = tmp_path / "dest"
    lines: list[str] = []
    with serve(root) as url:
        report = fetch_corpora(dest, mirror=url, specs=specs, progress=lines.append, timeout=5)
        assert report.counts() == {"downloaded": 3}
        for spec in specs:
            assert filecmp.cmp(root / spec.path, dest / spec.path, shallow=False)
        assert not list(dest.rglob("*.part"))
        again = fetch_corpora(dest, mirror=url + "/", specs=specs, timeout=5)
    assert again.counts() == {"present": 3}
    assert any("téléchargé et vérifié" in line for line in lines)


def test_resume_partial_download(mirror: tuple[Path, list[FileSpec]], serve: Serve, http_ranges: list[str],
                                 tmp_path: Path) -> None:
    root, specs = mirror
    spec = specs[1]
    dest = tmp_path / "dest"
    data = (root / spec.path).read_bytes()
    part = dest / (spec.path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:1000])
    with serve(root) as url:
        report = fetch_corpora(dest, mirror=url, specs=[spec], timeout=5)
    assert report.counts() == {"downloaded": 1}
    assert http_ranges == ["bytes=1000-"]
    assert (dest / spec.path).read_bytes() == data and not part.exists()


def test_failures_are_reported_and_nothing_half_written(mirror: tuple[Path, list[FileSpec]], serve: Serve,
                                                        tmp_path: Path) -> None:
    root, specs = mirror
    zip_path = root / specs[0].path
    zip_path.write_bytes(zip_path.read_bytes()[:300])  # truncated archive on the server
    (root / specs[1].path).unlink()  # 404
    dest = tmp_path / "dest"
    with serve(root) as url:
        report = fetch_corpora(dest, mirror=url, specs=specs, timeout=5)
    by_path = {r.path: r for r in report.results}
    assert by_path[specs[0].path].status == "failed" and "vérification" in str(by_path[specs[0].path].error)
    assert by_path[specs[1].path].status == "failed" and "HTTP 404" in str(by_path[specs[1].path].error)
    assert by_path[specs[2].path].status == "downloaded"
    assert not (dest / specs[0].path).exists() and not (dest / specs[1].path).exists()
    assert not list(dest.rglob("*.part"))


def test_folder_mirror_and_verification(mirror: tuple[Path, list[FileSpec]], tmp_path: Path) -> None:
    root, specs = mirror
    report = fetch_corpora(tmp_path / "dest", mirror=str(root), specs=specs)
    assert report.counts() == {"copied": 3}
    with pytest.raises(InputError, match="miroir lui-même"):
        fetch_corpora(root, mirror=str(root), specs=specs)
    with pytest.raises(InputError, match="Miroir introuvable"):
        fetch_corpora(tmp_path / "d2", mirror=str(tmp_path / "absent"), specs=specs)
    html = tmp_path / "page.tsv"
    html.write_text("<html><body>Accès refusé</body></html>\n", encoding="utf-8")
    assert verify_file(html, specs[2]) is not None
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    assert verify_file(empty, specs[0]) == "fichier vide"
    # a destination under a plain file: the system's reason in French, not its English strerror
    blocker = tmp_path / "fichier"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as info:
        fetch_corpora(blocker / "dest", mirror=str(root), specs=specs)
    assert info.value.message.endswith("un élément du chemin n'est pas un dossier"), info.value.message


def test_offline_without_mirror(mirror: tuple[Path, list[FileSpec]], tmp_path: Path) -> None:
    _root, specs = mirror
    with pytest.raises(OfflineError) as info:
        fetch_corpora(tmp_path / "dest", specs=specs, timeout=2)
    assert "Pas d'accès réseau" in info.value.message and "--mirror" in info.value.message
    assert not list((tmp_path / "dest").rglob("*.part"))


@pytest.mark.corpora
def test_real_fetch_from_loopback_mirror(corpora_dir: Path, serve: Serve, tmp_path: Path) -> None:
    """The official catalogue (sources.yaml, with its SHA-256) against ../shared/corpora served over HTTP."""
    dest = tmp_path / "corpora"
    with serve(corpora_dir) as url:
        report = fetch_corpora(dest, mirror=url, only=["ansm", "ctgov"], timeout=10)
    assert report.counts() == {"downloaded": 4}, report.failed
    for result in report.results:
        assert filecmp.cmp(corpora_dir / result.path, dest / result.path, shallow=False)
    copied = fetch_corpora(dest, mirror=str(corpora_dir), only=["has", "vaers"])
    assert not copied.failed and copied.counts()["copied"] == 3 + 15


