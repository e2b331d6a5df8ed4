"""A small index of fact documents made by the real loaders' document functions (fake embedder)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from corpora.loaders.ansm import Interaction, interaction_to_document
from corpora.loaders.bdpm import BdpmProduct, BdpmSubstance, product_to_document
from corpora.loaders.has import HasOpinion, opinion_to_document
from corpora.model import Document
from corpora.normalise import normalise_substance


def _product(cis: str, name: str, substance: str, **kw: Any) -> Document:
    sub = BdpmSubstance(name=substance, key=normalise_substance(substance), dosage="80 mg", nature="SA")
    product = BdpmProduct(cis=cis, name=name, status="Autorisation active", procedure="Procédure nationale",
                          commercialisation="Commercialisée", substances=(sub,), **kw)
    return product_to_document(product)


def _opinion(kind: str, cis: str, code: str, day: date, level: str, motif: str, product: str) -> Document:
    op = HasOpinion(kind=kind, native_id=f"{cis}/{code}/{day:%Y%m%d}", cis=cis, dossier=code,  # type: ignore[arg-type]
                    motif=motif, date=day, level=level,
                    text=f"Le service rendu est {level.lower()} dans cette indication.")
    return opinion_to_document(op, product)


def _interaction(native: str, main: str, plus: str, *levels: str) -> Document:
    return interaction_to_document(Interaction(
        native_id=native, main=main, plus=plus, main_key=normalise_substance(main), plus_key=normalise_substance(plus),
        note=None, levels=tuple((lv, "Surveillance clinique.") for lv in levels), mechanism="Risque hémorragique."))


def fact_documents() -> list[Document]:
    """BDPM products, HAS opinions, thesaurus entries and EMA procedures about a few products."""
    return [
        _product("60000001", "SPASFON, comprimé enrobé", "PHLOROGLUCINOL", surveillance_renforcee=False),
        _product("60000002", "SPASFON LYOC 80 mg, lyophilisat oral", "PHLOROGLUCINOL", surveillance_renforcee=False),
        _product("60000003", "COUMADINE 5 mg, comprimé sécable", "WARFARINE SODIQUE", surveillance_renforcee=False),
        _product("60000004", "NOVAXINE 10 mg, comprimé pelliculé", "DÉNOSAMAB", surveillance_renforcee=True,
                 shortage_code=1),
        _product("60000005", "EXACYL 500 mg, comprimé pelliculé", "ACIDE TRANEXAMIQUE"),
        # five presentations of one brand, and a brand whose first word is a pharmaceutical form
        *(_product(f"6000001{i}", name, "PARACÉTAMOL") for i, name in enumerate((
            "DOLIPRANE 1000 mg, comprimé", "DOLIPRANE 500 mg, comprimé", "DOLIPRANE 150 mg, suppositoire",
            "DOLIPRANE 300 mg, suppositoire", "DOLIPRANE 2,4 %, suspension buvable"))),
        _product("60000020", "SUPPOSITOIRE A LA GLYCERINE ADULTES, suppositoire", "GLYCÉROL"),
        _opinion("smr", "60000001", "CT-100", date(2017, 9, 27), "Insuffisant", "Renouvellement d'inscription (CT)",
                 "SPASFON, comprimé enrobé"),
        _opinion("smr", "60000002", "CT-200", date(2018, 12, 5), "Faible", "Inscription (CT)",
                 "SPASFON LYOC 80 mg, lyophilisat oral"),
        _opinion("asmr", "60000004", "CT-300", date(2020, 3, 1), "IV", "Inscription (CT)",
                 "NOVAXINE 10 mg, comprimé pelliculé"),
        _opinion("smr", "60000004", "CT-300", date(2020, 3, 1), "Important", "Inscription (CT)",
                 "NOVAXINE 10 mg, comprimé pelliculé"),
        _interaction("0000000000000001", "WARFARINE", "MICONAZOLE", "contre-indication"),
        _interaction("0000000000000002", "PHLOROGLUCINOL", "MORPHINE", "a prendre en compte"),
        Document(id="ema-dhpc:PSUSA/00003006/202503/2025-12-11", source="ema-dhpc", kind="dhpc",
                 title="DHPC: Tranexamic acid",
                 text="Direct healthcare professional communication: Tranexamic acid. Active substances: tranexamic "
                 "acid. Type: Adverse event. Regulatory outcome: Variation. Disseminated: 2025-12-11.",
                 metadata={"substances": "|tranexamic acid|", "language": "en", "regulatory_outcome": "Variation",
                           "year": 2025, "received_at": "2025-12-11"},
                 language="en", received_at=date(2025, 12, 11), outcome={"regulatory_outcome": "Variation"}),
        Document(id="ema-referral:EMEA/H/A-31/0001", source="ema-referral", kind="referral", title="Referral: Prolia",
                 text="EMA referral: Prolia. Substances: denosumab. Type: Article 31 referrals. Safety referral: yes. "
                 "Status: European Commission final decision. CHMP/CVMP opinion: 2021-05-20.",
                 metadata={"substances": "|denosumab|", "language": "en", "referral_type": "Article 31 referrals",
                           "status": "European Commission final decision", "safety_referral": True, "year": 2021,
                           "received_at": "2021-05-20"},
                 language="en", received_at=date(2021, 5, 20),
                                                 outcome={"status": "European Commission final decision"}),
    ]


def all_documents() -> list[Document]:
    from assistant.services.retrieval import referentiel_documents
    from corpora.loaders.sample import iter_sample_records, sample_record_to_document

    return [*fact_documents(), *referentiel_documents(),
            *(sample_record_to_document(r) for r in iter_sample_records())]


def build_chat_index(data_dir: Path) -> None:
    from retrieval.config import RetrievalConfig
    from retrieval.indexing import build_index

    build_index(RetrievalConfig(data_dir=data_dir, embedder="fake"), all_documents(), progress=False)
