"""Readable documents and helpers shared by the retrieval tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from corpora.model import Document
from retrieval.config import RetrievalConfig
from retrieval.indexing import BuildReport, build_index


def case(native: str, text: str, received: str, vaccines: str = "|DTAP|", symptoms: str = "|Pyrexia|",
         title: str | None = None, **outcome: bool) -> Document:
    """A VAERS-like English case."""
    return Document(
        id=f"vaers:{native}", source="vaers", kind="case", title=title or f"Report {native}", text=text,
        metadata={"type": "pv", "vaccine_types": vaccines, "symptoms": symptoms, "language": "en",
                  "serious": any(outcome.get(k) for k in ("died", "hospitalised", "life_threatening"))},
        language="en", received_at=date.fromisoformat(received), outcome=dict(outcome) or None,
    )


DOCS: list[Document] = [
    case("1001", "Patient developed myocarditis three days after smallpox vaccination. Chest pain, troponin "
         "elevated. Hospitalized.", "2003-02-01", "|SMALLPOX|", "|Myocarditis|Chest pain|", hospitalised=True),
    case("1002", "Fever 39C and febrile seizure the evening after DTaP vaccine. Recovered.", "2003-03-05",
         "|DTAP|", "|Pyrexia|Convulsion|", hospitalised=False, recovered=True),
    case("1003", "Fever 39C and febrile seizure the evening after DTaP vaccine. Recovered.", "2003-03-06",
         "|DTAP|", "|Pyrexia|Convulsion|", recovered=True),
    case("1004", "Local redness and swelling at injection site after hepatitis B vaccine.", "2003-04-01",
         "|HEP|", "|Injection site erythema|Injection site swelling|"),
    case("1005", "Infant with persistent crying and fever after DTaP and Hib vaccines.", "2004-06-01",
         "|DTAP|HIB|", "|Crying|Pyrexia|"),
    case("1006", "Pericarditis and chest pain two weeks after smallpox vaccine in a soldier.", "2003-05-01",
         "|SMALLPOX|", "|Pericarditis|Chest pain|"),
    Document(id="sample:pv-900", source="sample", kind="case", title="Myocardite après vaccination",
             text="Homme de 24 ans, douleur thoracique et myocardite quatre jours après la vaccination. "
             "Hospitalisation de cinq jours, évolution favorable.", metadata={"type": "pv"}, language="fr",
             received_at=date(2003, 1, 15), outcome={"hospitalised": True, "risk_level": "élevé"}),
    Document(id="referentiel:PV-DECES", source="referentiel", kind="guideline", title="Décès (ICH E2A)",
             text="Un cas ayant entraîné le décès est grave au sens de l'ICH E2A. Il doit être déclaré "
             "sans délai. " * 3, metadata={"type": "pv"}, language="fr"),
    Document(id="ema-epar:EMEA/H/C/000387", source="ema-epar", kind="case", title="Vfend",
             text="Vfend — voriconazole. Therapeutic area: Aspergillosis. Indication: invasive aspergillosis.",
             metadata={"type": "amm", "substances": "|voriconazole|", "atc_codes": "|J02AC03|"},
             language="en", received_at=date(2002, 3, 19), outcome={"authorisation_status": "Authorised"}),
]


def build(config: RetrievalConfig, docs: Sequence[Document], **kw: object) -> BuildReport:
    return build_index(config, docs, progress=False, **kw)  # type: ignore[arg-type]
