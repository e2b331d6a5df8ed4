"""Base de données publique des médicaments (BDPM, ANSM): one ``Document`` per product (CIS).

Files (UTF-8, tab-separated, no header), column layouts as documented on the BDPM download page:

- ``CIS_bdpm.txt``: CIS, name, pharmaceutical form, routes (``;``-separated), AMM status,
  procedure type, commercialisation state, AMM date (dd/mm/yyyy), BdM status (Alerte /
  Warning disponibilité), EU authorisation number, holder(s) (``;``-separated),
  *surveillance renforcée* (Oui/Non). This is the file that defines the products.
- ``CIS_COMPO_bdpm.txt``: CIS, element designation, substance code, substance name, dosage,
  dosage reference, nature (SA = substance active, FT = fraction thérapeutique), link number.
- ``CIS_CPD_bdpm.txt``: CIS, prescription or delivery condition.
- ``CIS_GENER_bdpm.txt``: generic group id, group label, CIS, type (0 princeps, 1 générique,
  2 générique par complémentarité posologique, 4 générique substituable), sort number.
- ``CIS_CIP_Dispo_Spec.txt``: CIS, CIP13, status code (1 rupture de stock, 2 tension
  d'approvisionnement, 3 arrêt de commercialisation, 4 remise à disposition), status label,
  start date, update date, back-to-availability date, ANSM page.
- ``CIS_MITM.txt``: CIS, ATC code, name, BDPM page (medicines of major therapeutic interest).

Encoding: UTF-8 (files of the BDPM before 2023 were Windows-1252: a line that is not valid UTF-8 is
read as Windows-1252, so either vintage loads with its accents).

Accounting: the :class:`LoadReport` counts the product rows of ``CIS_bdpm.txt`` and, as skipped
rows with the file name in the reason, the unusable lines of the companion files.
Besides documents, :func:`load_bdpm_index` gives a pure lookup (by substance, name, CIS) for
the classifier's database crossing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from corpora.errors import InputError
from corpora.loaders.base import LoadReport
from corpora.loaders.tabular import clean, iter_tsv
from corpora.model import Document
from corpora.normalise import bar_join, normalise_name, normalise_substance, parse_date

SOURCE = "bdpm"
# UTF-8 today; older BDPM files were Windows-1252: each line falls back to it.
ENCODING = ("utf-8", "cp1252")
PRODUCTS_FILE = "CIS_bdpm.txt"
COMPO_FILE = "CIS_COMPO_bdpm.txt"
CPD_FILE = "CIS_CPD_bdpm.txt"
GENER_FILE = "CIS_GENER_bdpm.txt"
DISPO_FILE = "CIS_CIP_Dispo_Spec.txt"
MITM_FILE = "CIS_MITM.txt"

GENERIC_TYPES = {
    0: "princeps",
    1: "générique",
    2: "générique par complémentarité posologique",
    4: "générique substituable",
}
# Availability status codes, most severe first.
SHORTAGE_CODES = {
    1: "Rupture de stock",
    2: "Tension d'approvisionnement",
    3: "Arrêt de commercialisation",
    4: "Remise à disposition",
}
_SHORTAGE_ACTIVE = (1, 2)

SKIP_MALFORMED = "ligne malformée (moins de 11 colonnes)"
SKIP_BAD_CIS = "code CIS invalide"
SKIP_DUPLICATE = "CIS en double"


@dataclass(frozen=True)
class BdpmSubstance:
    name: str
    key: str
    dosage: str | None = None
    nature: str | None = None  # SA (substance active) or FT (fraction thérapeutique)


@dataclass(frozen=True)
class BdpmProduct:
    """Facts about one BDPM product (CIS), joined from every companion file."""

    cis: str
    name: str
    form: str | None = None
    routes: tuple[str, ...] = ()
    status: str | None = None
    procedure: str | None = None
    commercialisation: str | None = None
    amm_date: date | None = None
    bdm_status: str | None = None
    eu_number: str | None = None
    holders: tuple[str, ...] = ()
    surveillance_renforcee: bool | None = None
    substances: tuple[BdpmSubstance, ...] = ()
    prescription_conditions: tuple[str, ...] = ()
    generic_group: str | None = None
    generic_type: int | None = None
    shortage_code: int | None = None
    shortage_since: date | None = None
    shortage_url: str | None = None
    atc: str | None = None

    @property
    def substance_keys(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.substances:
            if s.key:
                seen.setdefault(s.key, None)
        return tuple(seen)

    @property
    def substance_names(self) -> tuple[str, ...]:
        """Display names: the therapeutic fraction when given, else the substance, without repeats."""
        by_key: dict[str, str] = {}
        for s in sorted(self.substances, key=lambda s: s.nature != "FT"):
            by_key.setdefault(s.key, s.name)
        return tuple(by_key[k] for k in self.substance_keys)

    @property
    def generic(self) -> bool:
        return self.generic_type in (1, 2, 4)

    @property
    def shortage(self) -> bool:
        return self.shortage_code in _SHORTAGE_ACTIVE

    @property
    def shortage_status(self) -> str | None:
        return SHORTAGE_CODES.get(self.shortage_code) if self.shortage_code else None

    def facts(self) -> dict[str, Any]:
        """Plain JSON-able facts for the classifier's database crossing and for citations."""
        return {
            "cis": self.cis,
            "name": self.name,
            "status": self.status,
            "procedure": self.procedure,
            "commercialisation": self.commercialisation,
            "amm_date": self.amm_date.isoformat() if self.amm_date else None,
            "surveillance_renforcee": self.surveillance_renforcee,
            "substances": list(self.substance_keys),
            "prescription_conditions": list(self.prescription_conditions),
            "shortage": self.shortage,
            "shortage_status": self.shortage_status,
            "atc": self.atc,
            "generic": self.generic,
            "bdm_status": self.bdm_status,
            "url": bdpm_url(self.cis),
        }


def bdpm_url(cis: str) -> str:
    return f"https://base-donnees-publique.medicaments.gouv.fr/extrait.php?specid={cis}"


@dataclass
class _Companions:
    substances: dict[str, list[BdpmSubstance]] = field(default_factory=lambda: defaultdict(list))
    conditions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    generic: dict[str, tuple[str, int]] = field(default_factory=dict)
    shortage: dict[str, tuple[int, date | None, str | None]] = field(default_factory=dict)
    atc: dict[str, str] = field(default_factory=dict)


def _is_cis(value: str) -> bool:
    return len(value) == 8 and value.isdigit()


def _load_companions(bdpm_dir: Path, report: LoadReport) -> _Companions:
    comp = _Companions()

    path = bdpm_dir / COMPO_FILE
    if path.is_file():
        report.add_file(path)
        for _n, f in iter_tsv(path, ENCODING):
            name = clean(f[3]) if len(f) > 3 else None
            if len(f) < 8 or not _is_cis(f[0].strip()) or not name:
                report.skip(f"{COMPO_FILE} : ligne inutilisable")
                continue
            key = normalise_substance(name)
            comp.substances[f[0].strip()].append(
                BdpmSubstance(name=name, key=key, dosage=clean(f[4]), nature=clean(f[6]))
            )

    path = bdpm_dir / CPD_FILE
    if path.is_file():
        report.add_file(path)
        for _n, f in iter_tsv(path, ENCODING):
            cond = clean(f[1]) if len(f) > 1 else None
            if not _is_cis(f[0].strip()) or not cond:
                report.skip(f"{CPD_FILE} : ligne sans condition de prescription")
                continue
            if cond not in comp.conditions[f[0].strip()]:
                comp.conditions[f[0].strip()].append(cond)

    path = bdpm_dir / GENER_FILE
    if path.is_file():
        report.add_file(path)
        for _n, f in iter_tsv(path, ENCODING):
            if len(f) < 4 or not _is_cis(f[2].strip()) or not f[3].strip().isdigit():
                report.skip(f"{GENER_FILE} : ligne inutilisable")
                continue
            comp.generic[f[2].strip()] = (clean(f[1]) or f[0].strip(), int(f[3]))

    path = bdpm_dir / DISPO_FILE
    if path.is_file():
        report.add_file(path)
        for _n, f in iter_tsv(path, ENCODING):
            if len(f) < 4 or not _is_cis(f[0].strip()) or not f[2].strip().isdigit():
                report.skip(f"{DISPO_FILE} : ligne inutilisable")
                continue
            code = int(f[2])
            since = parse_date(f[4]) if len(f) > 4 else None
            url = clean(f[7]) if len(f) > 7 else None
            cis = f[0].strip()
            previous = comp.shortage.get(cis)
            if previous is None or code < previous[0]:
                comp.shortage[cis] = (code, since, url)

    path = bdpm_dir / MITM_FILE
    if path.is_file():
        report.add_file(path)
        for _n, f in iter_tsv(path, ENCODING):
            atc = clean(f[1]) if len(f) > 1 else None
            if not _is_cis(f[0].strip()) or not atc:
                report.skip(f"{MITM_FILE} : ligne inutilisable")
                continue
            comp.atc.setdefault(f[0].strip(), atc)
    return comp


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(x for x in (clean(p) for p in (value or "").split(";")) if x)


def _yes_no(value: str | None) -> bool | None:
    v = (value or "").strip().lower()
    return True if v == "oui" else False if v == "non" else None


def iter_bdpm_products(bdpm_dir: Path, report: LoadReport | None = None) -> Iterator[BdpmProduct]:
    """Stream the products of ``CIS_bdpm.txt`` joined with the companion files present."""
    bdpm_dir = Path(bdpm_dir)
    products_path = bdpm_dir / PRODUCTS_FILE
    if not products_path.is_file():
        raise InputError(f"Fichier BDPM introuvable : {products_path}")
    report = report if report is not None else LoadReport(source=SOURCE)
    comp = _load_companions(bdpm_dir, report)
    report.add_file(products_path)
    seen: set[str] = set()
    for _n, f in iter_tsv(products_path, ENCODING):
        if len(f) < 11:
            report.skip(SKIP_MALFORMED)
            continue
        cis = f[0].strip()
        name = clean(f[1])
        if not _is_cis(cis) or not name:
            report.skip(SKIP_BAD_CIS)
            continue
        if cis in seen:
            report.skip(SKIP_DUPLICATE)
            continue
        seen.add(cis)
        group = comp.generic.get(cis)
        short = comp.shortage.get(cis)
        product = BdpmProduct(
            cis=cis,
            name=name,
            form=clean(f[2]),
            routes=_split(f[3]),
            status=clean(f[4]),
            procedure=clean(f[5]),
            commercialisation=clean(f[6]),
            amm_date=parse_date(f[7]),
            bdm_status=clean(f[8]),
            eu_number=clean(f[9]),
            holders=_split(f[10]),
            surveillance_renforcee=_yes_no(f[11]) if len(f) > 11 else None,
            substances=tuple(comp.substances.get(cis, ())),
            prescription_conditions=tuple(comp.conditions.get(cis, ())),
            generic_group=group[0] if group else None,
            generic_type=group[1] if group else None,
            shortage_code=short[0] if short else None,
            shortage_since=short[1] if short else None,
            shortage_url=short[2] if short else None,
            atc=comp.atc.get(cis),
        )
        report.ok()
        yield product
    report.finish()


def _fr_date(d: date | None) -> str | None:
    return d.strftime("%d/%m/%Y") if d else None


def product_text(p: BdpmProduct) -> str:
    """A readable French description of a product, for retrieval and citation."""
    parts: list[str] = [f"{p.name}."]
    if p.form:
        parts.append(f"Forme pharmaceutique : {p.form}.")
    if p.routes:
        parts.append(f"Voie(s) d'administration : {', '.join(p.routes)}.")
    if p.status:
        status = f"Statut de l'AMM : {p.status}"
        if p.procedure:
            status += f" ({p.procedure})"
        if p.amm_date:
            status += f", date d'AMM : {_fr_date(p.amm_date)}"
        parts.append(status + ".")
    if p.commercialisation:
        parts.append(f"État de commercialisation : {p.commercialisation}.")
    if p.holders:
        parts.append(f"Titulaire(s) : {', '.join(p.holders)}.")
    if p.substances:
        names: dict[str, str] = {}
        for s in p.substances:
            label = s.name + (f" ({s.dosage})" if s.dosage else "")
            names.setdefault(s.key, label)
        parts.append(f"Substance(s) active(s) : {', '.join(names.values())}.")
    if p.atc:
        parts.append(f"Code ATC : {p.atc}.")
    if p.prescription_conditions:
        parts.append("Conditions de prescription et de délivrance : " + " ; ".join(p.prescription_conditions) + ".")
    if p.generic_type is not None:
        kind = GENERIC_TYPES.get(p.generic_type, f"type {p.generic_type}")
        parts.append(f"Groupe générique : {p.generic_group} ({kind}).")
    if p.shortage_code:
        line = f"Disponibilité : {p.shortage_status}"
        if p.shortage_since:
            line += f" depuis le {_fr_date(p.shortage_since)}"
        parts.append(line + ".")
    if p.bdm_status:
        parts.append(f"Statut BdM : {p.bdm_status}.")
    if p.surveillance_renforcee is not None:
        parts.append(f"Surveillance renforcée : {'oui' if p.surveillance_renforcee else 'non'}.")
    return "\n".join(parts)


def product_to_document(p: BdpmProduct) -> Document:
    """A product as a retrieval ``Document`` (kind ``product``), metadata as Chroma scalars."""
    meta: dict[str, Any] = {
        "cis": p.cis,
        "status": p.status,
        "procedure": p.procedure,
        "commercialisation": p.commercialisation,
        "form": p.form,
        "routes": bar_join(p.routes),
        "holders": bar_join(p.holders),
        "substances": bar_join(p.substance_keys),
        "substance_names": bar_join(p.substance_names),
        "atc": p.atc,
        "prescription_conditions": bar_join(p.prescription_conditions),
        "generic": p.generic,
        "generic_group": p.generic_group,
        "shortage": p.shortage,
        "shortage_status": p.shortage_status,
        "bdm_status": p.bdm_status,
        "surveillance_renforcee": p.surveillance_renforcee,
        "url": bdpm_url(p.cis),
        "language": "fr",
    }
    if p.amm_date:
        meta["year"] = p.amm_date.year
        meta["received_at"] = p.amm_date.isoformat()
    return Document(
        id=f"{SOURCE}:{p.cis}",
        source=SOURCE,
        kind="product",
        title=p.name,
        text=product_text(p),
        metadata={k: v for k, v in meta.items() if v is not None and v != ""},
        language="fr",
        received_at=p.amm_date,
        outcome=None,
    )


def iter_bdpm_documents(bdpm_dir: Path, report: LoadReport | None = None,
                        limit: int | None = None) -> Iterator[Document]:
    """One ``Document`` per BDPM product; ``limit`` stops after that many."""
    yield from map(product_to_document, islice(iter_bdpm_products(bdpm_dir, report), limit))


class BdpmIndex:
    """Pure in-memory lookup of BDPM products (by CIS, substance, product name)."""

    def __init__(self, products: dict[str, BdpmProduct]) -> None:
        self.products = products
        self._by_substance: dict[str, list[str]] = defaultdict(list)
        self._names: list[tuple[str, str]] = []
        for cis, p in products.items():
            for key in p.substance_keys:
                self._by_substance[key].append(cis)
            self._names.append((normalise_name(p.name), cis))
        self._names.sort()

    def __len__(self) -> int:
        return len(self.products)

    def get(self, cis: str) -> BdpmProduct | None:
        return self.products.get(str(cis).strip())

    def products_for_substance(self, name: str) -> list[BdpmProduct]:
        """Products containing the substance (any spelling: salt, accents, case are normalised)."""
        key = normalise_substance(name)
        return [self.products[c] for c in self._by_substance.get(key, [])]

    def products_by_name(self, name: str) -> list[BdpmProduct]:
        """Products whose name is ``name`` or starts with it as whole words (``"doliprane"``)."""
        query = normalise_name(name)
        if not query:
            return []
        found = []
        for norm, cis in self._names:
            if norm == query or (norm.startswith(query) and not norm[len(query)].isalnum()):
                found.append(self.products[cis])
        return found

    def products_for_atc(self, code: str) -> list[BdpmProduct]:
        """Products whose ATC code (known for medicines of major therapeutic interest) starts with ``code``."""
        prefix = code.strip().upper()
        if not prefix:
            return []
        return [p for p in self.products.values() if p.atc and p.atc.upper().startswith(prefix)]

    def substance_keys(self) -> list[str]:
        return sorted(self._by_substance)


def load_bdpm_index(bdpm_dir: Path, report: LoadReport | None = None) -> BdpmIndex:
    """Read the BDPM folder once into a :class:`BdpmIndex`."""
    return BdpmIndex({p.cis: p for p in iter_bdpm_products(bdpm_dir, report)})


def load_product_names(bdpm_dir: Path) -> dict[str, str]:
    """CIS → product name, read from ``CIS_bdpm.txt`` alone (fast; for titles of HAS opinions)."""
    names: dict[str, str] = {}
    for _n, f in iter_tsv(Path(bdpm_dir) / PRODUCTS_FILE, ENCODING):
        if len(f) > 1 and _is_cis(f[0].strip()):
            name = clean(f[1])
            if name:
                names.setdefault(f[0].strip(), name)
    return names
