"""The project's seeded test set for pseudonymisation, and its scoring (recall and precision per type).

Sentences are written by the project from French and English templates (narratives, letters, forms);
names, dates, phone numbers, NIRs (valid keys, or invalid keys written after « NIR »), addresses,
e-mails and record numbers are drawn with a fixed seed from lists written here, so the set is the same
on every machine and holds no real person. Each slot's span is recorded as the sentence is built.
A found span counts for a gold span of the same type when they overlap.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from corpora.pseudonymise import KINDS, Span, find_entities

FIRST = ["Jeanne", "Marie", "Louis", "Hélène", "Karim", "Fatou", "Nguyen", "Chloé", "Étienne", "Aïcha", "Pierre",
         "Sophie", "Mohamed", "Camille", "Lucas", "Inès", "Jean-Pierre", "Anne-Sophie", "John", "Emily", "Oliver",
         "Grace", "William", "Sarah", "Yannick", "Léa", "Mathieu", "Zoé", "Rachid", "Élodie", "Thomas", "Margaux"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Lefèvre", "Garcia", "Benali", "Diallo", "Nguyen", "Rousseau", "Fournier", "Girard", "Bonnet", "Mercier",
        "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Le Gall", "Da Silva", "Kowalski", "Haddad", "Traoré",
        "Morel", "Lambert", "Fontaine", "Chevalier", "Perrin", "Roussel"]
TITLES_FR = ["Mme", "M.", "Madame", "Monsieur", "Mlle", "Dr", "Pr"]
TITLES_EN = ["Mrs", "Mr", "Ms", "Dr", "Mrs.", "Mr."]
STREETS = ["rue des Lilas", "avenue Jean Jaurès", "boulevard Voltaire", "place de la République", "allée des Tilleuls",
           "chemin du Moulin", "impasse des Roses", "route de Lyon"]
STREETS_EN = ["High Street", "Baker Street", "Church Road", "Station Road", "Oak Lane"]
TOWNS = [("75011", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("31000", "Toulouse"), ("44000", "Nantes"),
         ("59000", "Lille"), ("67000", "Strasbourg"), ("33000", "Bordeaux")]
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
CLINICAL_FR = ["a présenté une hépatite cytolytique sous amoxicilline", "a été hospitalisée pour une anaphylaxie",
               "a fait un malaise après la deuxième dose", "présente une éruption bulleuse sous lamotrigine",
               "est décédé d'une hémorragie digestive sous apixaban"]
CLINICAL_EN = ["developed hepatitis after amoxicillin", "was admitted for anaphylaxis",
               "had a seizure two days after vaccination", "died of gastrointestinal bleeding on apixaban"]

TEMPLATES_FR = [
    "{title} {name}, née le {dob_fr}, tél. {phone}, NIR {nir}, {clinical}.",
    "Patiente {name} (date de naissance : {dob_num}) {clinical} ; joignable au {phone}.",
    "{title} {name}, né le {dob_fr}, demeurant {address}, {clinical}.",
    "Le médecin traitant, {title} {name}, signale que le patient {clinical}. Contact : {email}.",
    "Dossier n° {record} : {title} {name}, DDN {dob_num}, n° de sécurité sociale {nir}.",
    "Signalement de {title} {name} ({phone}) concernant {title2} {name2}, qui {clinical}.",
    "IPP {record}. {title} {name}, née le {dob_num}, {clinical}. Adresse : {address}.",
    "Le patient {name} {clinical}. Courriel de la famille : {email}, téléphone {phone}.",
    "{title} {name} {clinical}. Son épouse, {title2} {name2}, peut être jointe au {phone}.",
    "Numéro de sécurité sociale : {nir}. Patient {name}, né le {dob_fr}.",
]
TEMPLATES_EN = [
    "{title_en} {name}, born {dob_en}, phone {phone_en}, {clinical_en}.",
    "Patient {name} (DOB {dob_num}) {clinical_en}; record number {record}.",
    "{title_en} {name}, date of birth {dob_en}, living at {address_en}, {clinical_en}.",
    "Reported by {title_en} {name} ({email}) for {title_en2} {name2}, who {clinical_en}.",
    "MRN {record}. {title_en} {name} {clinical_en}. Contact number: {phone_en}.",
    "The patient, {name}, born on {dob_num}, {clinical_en}. Social security number {nir}.",
]


@dataclass
class Sentence:
    text: str
    gold: list[Span] = field(default_factory=list)
    language: str = "fr"


def _nir(rng: random.Random, valid: bool) -> str:
    body = f"{rng.choice('12')}{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}" \
           f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    key = 97 - int(body) % 97
    if not valid:
        key = (key + rng.randint(1, 90)) % 97 or 1
    digits = f"{body}{key:02d}"
    return " ".join([digits[0], digits[1:3], digits[3:5], digits[5:7], digits[7:10], digits[10:13], digits[13:]])


def _slots(rng: random.Random) -> dict[str, tuple[str, str | None]]:
    """slot → (value, kind of personal data or None)."""
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1930, 2015)
    pc, town = rng.choice(TOWNS)
    phone_fr = rng.choice([
        f"0{rng.randint(1, 7)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        f"0{rng.randint(1, 7)}.{rng.randint(10, 99)}.{rng.randint(10, 99)}.{rng.randint(10, 99)}.{rng.randint(10, 99)}",
        f"+33 {rng.randint(1, 7)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}",
        f"0{rng.randint(6, 7)}{rng.randint(10000000, 99999999)}"])
    phone_en = rng.choice([f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                           f"+1 (212) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}", phone_fr])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    first2, last2 = rng.choice(FIRST), rng.choice(LAST)
    name = rng.choice([f"{first} {last}", f"{first} {last.upper()}", f"{last.upper()} {first}"])
    return {
        "title": (rng.choice(TITLES_FR), None), "title2": (rng.choice(TITLES_FR), None),
        "title_en": (rng.choice(TITLES_EN), None), "title_en2": (rng.choice(TITLES_EN), None),
        "name": (name, "name"), "name2": (f"{first2} {last2}", "name"),
        "dob_fr": (f"{day} {MONTHS_FR[month - 1]} {year}", "birth_date"),
        "dob_num": (rng.choice([f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}",
                                f"{day:02d}.{month:02d}.{year}"]), "birth_date"),
        "dob_en": (rng.choice([f"{MONTHS_EN[month - 1]} {day}, {year}", f"{day} {MONTHS_EN[month - 1]} {year}",
                               f"{month:02d}/{day:02d}/{year}"]), "birth_date"),
        "phone": (phone_fr, "phone"), "phone_en": (phone_en, "phone"),
        "nir": (_nir(rng, valid=rng.random() < 0.8), "nir"),
        "email": (f"{first.lower()}.{last.lower().replace(' ', '')}@exemple.fr".replace("é", "e")
                  .replace("è", "e").replace("ï", "i").replace("ç", "c"), "email"),
        "address": (f"{rng.randint(1, 120)} {rng.choice(STREETS)}, {pc} {town}", "address"),
        "address_en": (f"{rng.randint(1, 120)} {rng.choice(STREETS_EN)}, London", "address"),
        "record": (rng.choice([f"{rng.randint(2015, 2025)}-{rng.randint(10000, 99999)}",
                               f"{rng.randint(10000000, 99999999)}", f"PV{rng.randint(100000, 999999)}"]),
                   "record_id"),
        "clinical": (rng.choice(CLINICAL_FR), None), "clinical_en": (rng.choice(CLINICAL_EN), None),
    }


def build_set(seed: int = 13, size: int = 240) -> list[Sentence]:
    """``size`` sentences (two French for one English), each with its gold spans."""
    rng = random.Random(seed)
    sentences = []
    for i in range(size):
        english = i % 3 == 2
        template = rng.choice(TEMPLATES_EN if english else TEMPLATES_FR)
        slots = _slots(rng)
        text, gold, last = "", [], 0
        for m in re.finditer(r"\{(\w+)\}", template):
            text += template[last:m.start()]
            value, kind = slots[m.group(1)]
            if kind is not None:
                gold.append(Span(len(text), len(text) + len(value), kind))
            text += value
            last = m.end()
        text += template[last:]
        sentences.append(Sentence(text, gold, "en" if english else "fr"))
    return sentences


@dataclass
class Score:
    gold: int = 0
    found: int = 0
    true_gold: int = 0  # gold spans overlapped by a found span of the same type
    true_found: int = 0  # found spans overlapping a gold span of the same type

    @property
    def recall(self) -> float:
        return self.true_gold / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.true_found / self.found if self.found else 1.0


def evaluate(sentences: list[Sentence], finder: Callable[[str], list[Span]] | None = None) -> dict[str, Score]:
    """Recall and precision per entity type (keys of :data:`KINDS`)."""
    finder = finder or find_entities
    scores = {kind: Score() for kind in KINDS}
    for sentence in sentences:
        found = finder(sentence.text)
        for g in sentence.gold:
            scores[g.kind].gold += 1
            scores[g.kind].true_gold += any(f.kind == g.kind and f.start < g.end and g.start < f.end for f in found)
        for f in found:
            scores[f.kind].found += 1
            scores[f.kind].true_found += any(g.kind == f.kind and f.start < g.end and g.start < f.end
                                             for g in sentence.gold)
    return scores


def table(scores: dict[str, Score]) -> str:
    lines = ["| type | exemples | rappel | précision |", "|---|---|---|---|"]
    for kind, s in scores.items():
        lines.append(f"| {kind} | {s.gold} | {s.recall:.3f} | {s.precision:.3f} |")
    return "\n".join(lines)
