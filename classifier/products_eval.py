"""Evaluation of product recognition on French narratives (``gdr eval products``).

Each line of a set (narratives the project wrote: ``classifier/data/french_products_eval.jsonl``, the
development split used while building the recognition, and ``french_products_test.jsonl``, written once
the method was frozen and read once for the README) holds
a French narrative and the products it names, each with one of its substances as the BDPM writes it.
Two shares, over the context :func:`classifier.context.gather_context` computes for each narrative:

* **recognised**: share of named products for which the context cites a fact about one of the product's
  substances (found in BDPM through the brand or the substance, accents and salts normalised);
* **on-product facts**: share of context facts whose substance belongs to a product the narrative names
  (its expected substance, or any substance of the BDPM brand it names) and, for a fact about one BDPM
  product (shortage, status, prescription conditions…), whose product is the brand the narrative names
  (any product when the narrative names the substance only). Goal 1.0: no unrelated product.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from classifier.knowledge_base import KnowledgeBase, match_key
from corpora.normalise import fr_decimal

EVAL_SET = Path(__file__).parent / "data" / "french_products_eval.jsonl"  # dev: used while building the method
TEST_SET = Path(__file__).parent / "data" / "french_products_test.jsonl"  # written after, read once for the README
SPLITS = {"dev": EVAL_SET, "test": TEST_SET}


@dataclass
class ProductEval:
    narratives: int = 0
    products: int = 0
    recognised: int = 0
    facts: int = 0
    facts_on_product: int = 0
    missed: list[str] = field(default_factory=list)
    off_product: list[str] = field(default_factory=list)

    @property
    def recognised_share(self) -> float:
        return self.recognised / self.products if self.products else 0.0

    @property
    def on_product_share(self) -> float:
        return self.facts_on_product / self.facts if self.facts else 1.0

    def to_json(self) -> dict[str, Any]:
        return {"narratives": self.narratives, "products": self.products, "recognised": self.recognised,
                "recognised_share": round(self.recognised_share, 4), "facts": self.facts,
                "facts_on_product": self.facts_on_product, "on_product_share": round(self.on_product_share, 4),
                "missed": self.missed, "off_product": self.off_product}


def read_set(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate_products(rows: Iterable[dict[str, Any]], kb: KnowledgeBase) -> ProductEval:
    """Both shares over ``rows`` (see the module docstring); ``kb`` must hold BDPM."""
    from classifier.context import gather_context
    from classifier.products import brand_phrase, fact_product, resolve_brand
    from corpora.model import Dossier

    out = ProductEval()
    for row in rows:
        out.narratives += 1
        dossier = Dossier(id=f"sample:{row['id']}", type="pv", title=row["id"], text=row["text"], language="fr",
                          source="sample", received_at=date.today())
        ctx = gather_context(dossier, kb)
        fact_keys = [match_key(f.substance or "") for f in ctx.facts]
        allowed: set[str] = set()
        for p in row["products"]:
            own = {match_key(p["substance"])} | {match_key(s) for s in resolve_brand(p["name"], kb.products)}
            allowed |= own
            out.products += 1
            if match_key(p["substance"]) in fact_keys:
                out.recognised += 1
            else:
                out.missed.append(f"{row['id']}: {p['name']}")
        brands = {brand_phrase(p["name"]) for p in row["products"] if resolve_brand(p["name"], kb.products)}
        direct = {match_key(p["name"]) for p in row["products"] if not resolve_brand(p["name"], kb.products)}
        for f, key in zip(ctx.facts, fact_keys, strict=True):
            out.facts += 1
            product = fact_product(f)  # a fact about one BDPM product must be about the brand named
            if key in allowed and (product is None or key in direct or not brands or product in brands):
                out.facts_on_product += 1
            else:
                out.off_product.append(f"{row['id']}: {f.code} {f.substance}")
    return out


def summary_fr(result: ProductEval) -> str:
    return (f"Récits français : {result.narratives} ; produits nommés : {result.products} ; reconnus dans la "
            f"BDPM et croisés : {result.recognised} ({fr_decimal(result.recognised_share, 3)}, objectif ≥ 0,95)\n"
            f"Faits de contexte : {result.facts} ; concernant un produit du dossier : {result.facts_on_product} "
            f"({fr_decimal(result.on_product_share, 3)}, objectif 1,0)"
            + "".join(f"\n  non reconnu : {m}" for m in result.missed)
            + "".join(f"\n  fait hors produit : {m}" for m in result.off_product[:20]))
