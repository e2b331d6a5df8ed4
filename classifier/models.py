"""Risk models following the scikit-learn estimator contract, and their name registry.

* ``criteria``: no machine learning; the level comes from the fired criteria only.
* ``pv-tfidf-lr``: pharmacovigilance. Sparse features (TF-IDF of the normalised
  narrative + structured / extraction / criteria tokens, see :mod:`classifier.features`),
  three logistic-regression heads on the ICH E2A ladder (``modéré+``, ``grave`` =
  élevé or critique, ``critique`` = death or life-threatening), each calibrated by
  Platt scaling on a validation year the heads never saw, with operating thresholds
  chosen on that same validation year (recall of ``grave`` ≥ 0.97, of ``critique`` ≥ 0.90).
* ``pv-blend`` (shipped by ``gdr run``): ``pv-tfidf-lr`` whose ``grave`` head averages, in log-odds, the
  logistic regression with a LightGBM model on the same sparse features (chosen on validation).
* ``amm-lr``: marketing authorisation; one calibrated head predicting EMA additional
  monitoring from submission-time inputs.

``__init__`` only stores parameters, ``fit`` returns ``self``, learned attributes end
with ``_``. Heavy imports (scikit-learn, scipy) happen inside methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from classifier.features import FeatureRow, oov_ratio
from corpora.normalise import fr_decimal

REVIEW_REASON = "à revoir par un évaluateur"


def _identity(tokens: Any) -> Any:
    return tokens


@dataclass
class ModelOutput:
    """What a model says about one dossier."""

    risk_score: float
    level: int
    reasons: list[str] = field(default_factory=list)
    contributions: list[dict[str, Any]] = field(default_factory=list)
    probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def needs_review(self) -> bool:
        return bool(self.reasons)


_REGISTRY: dict[str, Callable[..., Any]] = {}


def register(name: str) -> Callable[[type], type]:
    """Register a model class under ``name``; a duplicate name is an error."""

    def deco(cls: type) -> type:
        if name in _REGISTRY:
            raise ValueError(f"risk model {name!r} is already registered")
        _REGISTRY[name] = cls
        cls.registry_name = name  # type: ignore[attr-defined]
        return cls

    return deco


def registered_models() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def create_model(name: str, **params: Any) -> Any:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        from corpora.errors import InputError

        raise InputError(
            f"Modèle de risque inconnu : {name!r} (disponibles : {', '.join(registered_models())})."
        ) from None
    return factory(**params)


@register("criteria")
class CriteriaOnlyModel:
    """No learned model: the level is the floor of the fired criteria (see :mod:`classifier.assess`)."""

    dossier_type = "*"
    version = "criteria-only (aucun modèle entraîné)"

    def __init__(self) -> None:
        pass

    def fit(self, X: Any = None, y: Any = None) -> CriteriaOnlyModel:
        return self

    def score_rows(self, rows: Sequence[FeatureRow], languages: Sequence[str | None] = ()) -> list[None]:
        return [None for _ in rows]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


class _SparseLinear:
    """Shared machinery: text TF-IDF + token TF-IDF, stacked, logistic heads, Platt calibration.

    PV defaults (C = 2, word 1–3-grams) were chosen on the validation year 2002 among
    {C 4 / 1–2-grams: ROC-AUC 0.9597, C 2 / 1–2: 0.9614, C 2 / 1–3: 0.9618}; test years untouched.
    """

    HEADS: tuple[str, ...] = ()
    dossier_type = ""
    version = "non entraîné"

    def __init__(
        self,
        C: float = 2.0,
        word_ngrams: tuple[int, int] = (1, 3),
        min_df: int = 3,
        max_features: int | None = 300_000,
        char_ngrams: tuple[int, int] | None = None,
        token_weight: float = 1.0,
        class_weight: str | None = None,
        review_margin: float = 0.15,
        max_oov: float = 0.5,
    ) -> None:
        self.C = C
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.char_ngrams = char_ngrams
        self.token_weight = token_weight
        self.class_weight = class_weight
        self.review_margin = review_margin
        self.max_oov = max_oov

    # --- vectorising -------------------------------------------------------------------------
    def _fit_vectorisers(self, rows: Sequence[FeatureRow]) -> Any:
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.word_vec_ = TfidfVectorizer(
            ngram_range=tuple(self.word_ngrams), min_df=self.min_df, max_features=self.max_features,
            sublinear_tf=True, token_pattern=r"(?u)\b[a-z][a-z0-9]+\b", dtype=np.float32,
        )
        self.tok_vec_ = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True, dtype=np.float32)
        texts = [r.text for r in rows]
        blocks = [self.word_vec_.fit_transform(texts)]
        if self.char_ngrams:
            self.char_vec_ = TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self.char_ngrams), min_df=5, max_features=200_000,
                sublinear_tf=True, dtype=np.float32,
            )
            blocks.append(self.char_vec_.fit_transform(texts))
        blocks.append(self.tok_vec_.fit_transform([r.tokens for r in rows]) * self.token_weight)
        extra = self._extra(rows)
        if extra is not None:
            blocks.append(extra)
        self.vocabulary_words_ = frozenset(w for w in self.word_vec_.vocabulary_ if " " not in w)
        names = list(self.word_vec_.get_feature_names_out())
        if self.char_ngrams:
            names += [f"char:{n}" for n in self.char_vec_.get_feature_names_out()]
        names += list(self.tok_vec_.get_feature_names_out())
        if extra is not None:
            names += list(self.extra_names_)
        self.feature_names_ = np.asarray(names, dtype=object)
        return sparse.hstack(blocks, format="csr")

    def transform(self, rows: Sequence[FeatureRow]) -> Any:
        from scipy import sparse

        texts = [r.text for r in rows]
        blocks = [self.word_vec_.transform(texts)]
        if self.char_ngrams:
            blocks.append(self.char_vec_.transform(texts))
        blocks.append(self.tok_vec_.transform([r.tokens for r in rows]) * self.token_weight)
        extra = self._extra(rows)
        if extra is not None:
            blocks.append(extra)
        return sparse.hstack(blocks, format="csr")

    extra_names_: tuple[str, ...] = ()

    def _extra(self, rows: Sequence[FeatureRow]) -> Any:
        """Dense extra columns (none by default)."""
        return None

    # --- heads -------------------------------------------------------------------------------
    def _targets(self, y: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def fit(self, X: Sequence[FeatureRow], y: Sequence[int]) -> Any:
        matrix = self._fit_vectorisers(X)
        self._fit_matrix(matrix, np.asarray(y))
        return self

    def _fit_matrix(self, matrix: Any, y_arr: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        self.heads_ = {}
        for head, target in self._targets(y_arr).items():
            clf = LogisticRegression(C=self.C, solver="liblinear", class_weight=self.class_weight, max_iter=200)
            clf.fit(matrix, target)
            self.heads_[head] = clf
        self.calibrators_: dict[str, tuple[float, float]] = {h: (1.0, 0.0) for h in self.heads_}
        self.thresholds_: dict[str, float] = {h: 0.5 for h in self.heads_}
        self.n_train_ = len(y_arr)

    def raw_heads(self, X: Sequence[FeatureRow] | Any) -> dict[str, np.ndarray]:
        rows = list(X)
        return self._head_probs(self.transform(rows), rows)

    def _head_probs(self, matrix: Any, rows: Sequence[FeatureRow]) -> dict[str, np.ndarray]:
        return {h: clf.predict_proba(matrix)[:, 1] for h, clf in self.heads_.items()}

    def _apply_calibration(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for h, p in raw.items():
            a, b = self.calibrators_[h]
            out[h] = 1.0 / (1.0 + np.exp(-(a * _logit(p) + b)))
        return out

    def calibrated_heads(self, X: Sequence[FeatureRow] | Any) -> dict[str, np.ndarray]:
        return self._apply_calibration(self.raw_heads(X))

    def calibrate(self, X_val: Sequence[FeatureRow], y_val: Sequence[int],
                  recalls: dict[str, float] | None = None, floors: Sequence[int] | None = None) -> Any:
        """Platt-scale each head on validation data and choose its operating threshold there.

        ``recalls`` maps a head to the recall its level must reach on the validation data. With
        ``floors`` (rank of the criteria floor of each validation dossier, 0..3) the recall is that of
        the final level ``max(model, floor)``: the head only has to find the cases the criteria miss,
        so its threshold is as high as that allows (fewer false alarms at the same recall).
        """
        from sklearn.linear_model import LogisticRegression

        y_arr = np.asarray(y_val)
        raw = self.raw_heads(list(X_val))
        targets = self._targets(y_arr)
        recalls = recalls or {}
        self.calibrators_ = {}
        for h, p in raw.items():
            t = targets[h]
            if t.min() == t.max():
                self.calibrators_[h] = (1.0, 0.0)
                continue
            lr = LogisticRegression(C=1e4)
            lr.fit(_logit(p).reshape(-1, 1), t)
            self.calibrators_[h] = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
        cal = self._apply_calibration(raw)
        self.thresholds_ = {}
        floor_arr = None if floors is None else np.asarray(floors, dtype=int)
        for h, p in cal.items():
            goal = recalls.get(h)
            if not goal:
                self.thresholds_[h] = 0.5
            elif floor_arr is None:
                self.thresholds_[h] = threshold_for_recall(p, targets[h], goal)
            else:
                covered = floor_arr >= self.HEAD_RANK.get(h, 99)
                self.thresholds_[h] = threshold_for_recall_beyond(p, targets[h], goal, covered)
        self.n_validation_ = len(y_arr)
        return self

    HEAD_RANK: ClassVar[dict[str, int]] = {}

    def predict_proba(self, X: Sequence[FeatureRow]) -> np.ndarray:
        """Calibrated probability of the main head (``grave`` for PV), as ``[[1-p, p], …]``."""
        p = self.calibrated_heads(list(X))[self.HEADS[0]]
        return np.column_stack([1 - p, p])

    def predict(self, X: Sequence[FeatureRow]) -> np.ndarray:
        return self.levels_from(self.calibrated_heads(list(X)))

    def levels_from(self, probs: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    # --- explanations and review -------------------------------------------------------------
    def contributions(self, matrix_row: Any, k: int = 8, head: str | None = None) -> list[dict[str, Any]]:
        """Top positive and negative terms ``coef × value`` of one dossier for the main head."""
        clf = self.heads_[head or self.HEADS[0]]
        row = matrix_row.tocsr()
        idx = row.indices
        if len(idx) == 0:
            return []
        contrib = row.data * clf.coef_[0, idx]
        order = np.argsort(-np.abs(contrib))[:k]
        return [
            {"feature": str(self.feature_names_[idx[i]]), "contribution": round(float(contrib[i]), 4)}
            for i in order
        ]

    def review_reasons(self, p: float, threshold: float, row: FeatureRow, language: str | None) -> list[str]:
        reasons = []
        if threshold > 0 and abs(p - threshold) <= self.review_margin * max(threshold, 0.05):
            reasons.append(f"probabilité proche du seuil de décision ({fr_decimal(p, 3)} pour un seuil de "
                           f"{fr_decimal(threshold, 3)})")
        ratio = oov_ratio(row.text, self.vocabulary_words_)
        if ratio > self.max_oov:
            reasons.append(f"texte peu semblable aux données d'entraînement ({fr_decimal(100 * ratio, 0)} % de "
                           "mots inconnus)")
        if language == "fr" and getattr(self, "training_language_", "en") == "en":
            # the PV model learns from VAERS reports, the AMM model from EPAR tables: both are English
            reasons.append("texte français évalué par un modèle entraîné sur des textes en anglais")
        return reasons

    def score_rows(self, rows: Sequence[FeatureRow], languages: Sequence[str | None] = (),
                   explain: int = 8) -> list[ModelOutput]:
        rows = list(rows)
        if not rows:
            return []
        matrix = self.transform(rows)
        probs = self._apply_calibration(self._head_probs(matrix, rows))
        levels = self.levels_from(probs)
        main = self.HEADS[0]
        langs = list(languages) or [None] * len(rows)
        outs = []
        for i, row in enumerate(rows):
            p = float(probs[main][i])
            reasons = self.review_reasons(p, self.thresholds_[main], row, langs[i])
            outs.append(ModelOutput(
                risk_score=min(1.0, max(0.0, p)),
                level=int(levels[i]),
                reasons=reasons,
                contributions=self.contributions(matrix[i], explain) if explain else [],
                probabilities={h: float(v[i]) for h, v in probs.items()},
            ))
        return outs


def threshold_for_recall(scores: np.ndarray, target: np.ndarray, recall: float) -> float:
    """Highest threshold whose recall of positives on ``(scores, target)`` is ≥ ``recall``."""
    pos = np.sort(scores[target.astype(bool)])
    if len(pos) == 0:
        return 0.5
    k = math.floor((1.0 - recall) * len(pos))  # positives we may miss
    return float(pos[k]) if k < len(pos) else float(pos[-1])


def threshold_for_recall_beyond(scores: np.ndarray, target: np.ndarray, recall: float,
                                covered: np.ndarray) -> float:
    """Highest threshold such that positives ``covered`` already, plus those scoring ≥ it, reach ``recall``.

    1.0 (above every calibrated probability but one exactly 1) when the covered positives suffice.
    """
    positive = target.astype(bool)
    n_pos = int(positive.sum())
    if n_pos == 0:
        return 0.5
    n_cov = int((positive & covered).sum())
    rest = positive & ~covered
    needed = math.ceil(recall * n_pos - 1e-9) - n_cov
    if needed <= 0 or not rest.any():
        return 1.0
    pos = np.sort(scores[rest])[::-1]  # best first
    return float(pos[min(needed, len(pos)) - 1])


@register("pv-tfidf-lr")
class PvRiskModel(_SparseLinear):
    """Pharmacovigilance risk model on the ICH E2A ladder (see module docstring)."""

    HEADS = ("grave", "critique", "modere")
    HEAD_RANK: ClassVar[dict[str, int]] = {"modere": 1, "grave": 2, "critique": 3}
    # The model places a dossier at critique only when its calibrated probability of death or
    # life-threatening outcome (the critique head, never the seriousness head) reaches this, whatever
    # the recall target: below it, critique comes from the criteria (evidence of death / danger to life).
    CRITIQUE_MIN_PROBABILITY: ClassVar[float] = 0.2
    dossier_type = "pv"
    training_language_ = "en"

    def calibrate(self, X_val: Sequence[FeatureRow], y_val: Sequence[int],
                  recalls: dict[str, float] | None = None, floors: Sequence[int] | None = None) -> Any:
        super().calibrate(X_val, y_val, recalls, floors)
        self.thresholds_["critique"] = max(self.thresholds_["critique"], self.CRITIQUE_MIN_PROBABILITY)
        return self

    def _targets(self, y: np.ndarray) -> dict[str, np.ndarray]:
        return {"grave": (y >= 2).astype(int), "critique": (y == 3).astype(int), "modere": (y >= 1).astype(int)}

    def levels_from(self, probs: dict[str, np.ndarray]) -> np.ndarray:
        t = self.thresholds_
        level = np.zeros(len(probs["grave"]), dtype=int)
        level[probs["modere"] >= t["modere"]] = 1
        level[probs["grave"] >= t["grave"]] = 2
        level[probs["critique"] >= t["critique"]] = 3
        return level


@register("amm-lr")
class AmmRiskModel(_SparseLinear):
    """AMM: probability that EMA places the product under additional monitoring."""

    HEADS = ("surveillance",)
    dossier_type = "amm"
    training_language_ = "en"

    def __init__(self, C: float = 1.0, word_ngrams: tuple[int, int] = (1, 2), min_df: int = 2,
                 max_features: int | None = 50_000, char_ngrams: tuple[int, int] | None = None,
                 token_weight: float = 2.0, class_weight: str | None = None, review_margin: float = 0.15,
                 max_oov: float = 0.6) -> None:
        super().__init__(C=C, word_ngrams=word_ngrams, min_df=min_df, max_features=max_features,
                         char_ngrams=char_ngrams, token_weight=token_weight, class_weight=class_weight,
                         review_margin=review_margin, max_oov=max_oov)

    extra_names_ = ("annee_numerique",)

    def _extra(self, rows: Sequence[FeatureRow]) -> Any:
        """Year of receipt as one numeric column, (year - 2010) / 10, so later years extrapolate."""
        from scipy import sparse

        col = np.zeros((len(rows), 1), dtype=np.float32)
        for i, r in enumerate(rows):
            for t in r.tokens:
                if t.startswith("yearnum="):
                    col[i, 0] = (float(t[8:]) - 2010.0) / 10.0
        return sparse.csr_matrix(col)

    def _targets(self, y: np.ndarray) -> dict[str, np.ndarray]:
        return {"surveillance": (y >= 1).astype(int)}

    def levels_from(self, probs: dict[str, np.ndarray]) -> np.ndarray:
        # additional monitoring ⇒ at least "modéré"; a very high probability ⇒ "élevé".
        p = probs["surveillance"]
        level = np.zeros(len(p), dtype=int)
        level[p >= self.thresholds_["surveillance"]] = 1
        level[p >= max(0.8, self.thresholds_["surveillance"])] = 2
        return level


_DENSE_SKIP = ("sym=", "medi:", "curr:", "othe:")


@register("pv-stack")
class PvStackedModel(PvRiskModel):
    """PV model in two stages: the linear heads' out-of-fold log-odds, stacked with the structured,
    extraction and criteria tokens as binary columns, feed one gradient-boosted tree model per head
    (scikit-learn ``HistGradientBoostingClassifier``), which can learn interactions (age × event,
    negated × affirmed findings, floors). Calibration and thresholds as for ``pv-tfidf-lr``.
    Explanations stay the linear heads' contributions."""

    def __init__(self, C: float = 2.0, word_ngrams: tuple[int, int] = (1, 3), min_df: int = 3,
                 max_features: int | None = 300_000, char_ngrams: tuple[int, int] | None = None,
                 token_weight: float = 1.0, class_weight: str | None = None, review_margin: float = 0.15,
                 max_oov: float = 0.5, folds: int = 3, dense_min_df: int = 30, hgb_iter: int = 300,
                 hgb_lr: float = 0.08, hgb_leaves: int = 31) -> None:
        super().__init__(C=C, word_ngrams=word_ngrams, min_df=min_df, max_features=max_features,
                         char_ngrams=char_ngrams, token_weight=token_weight, class_weight=class_weight,
                         review_margin=review_margin, max_oov=max_oov)
        self.folds = folds
        self.dense_min_df = dense_min_df
        self.hgb_iter = hgb_iter
        self.hgb_lr = hgb_lr
        self.hgb_leaves = hgb_leaves

    def _dense(self, rows: Sequence[FeatureRow], lr_logits: dict[str, np.ndarray]) -> np.ndarray:
        index = self.dense_index_
        cols = np.zeros((len(rows), len(index) + len(self.HEADS)), dtype=np.float32)
        for j, h in enumerate(self.HEADS):
            cols[:, j] = lr_logits[h]
        base = len(self.HEADS)
        for i, r in enumerate(rows):
            for t in r.tokens:
                k = index.get(t)
                if k is not None:
                    cols[i, base + k] += 1.0
        return cols

    def fit(self, X: Sequence[FeatureRow], y: Sequence[int]) -> PvStackedModel:
        from concurrent.futures import ThreadPoolExecutor

        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression

        rows = list(X)
        matrix = self._fit_vectorisers(rows)
        y_arr = np.asarray(y)
        targets = self._targets(y_arr)
        counts: dict[str, int] = {}
        for r in rows:
            for t in set(r.tokens):
                if not t.startswith(_DENSE_SKIP):
                    counts[t] = counts.get(t, 0) + 1
        kept = sorted(t for t, c in counts.items() if c >= self.dense_min_df)
        self.dense_index_ = {t: i for i, t in enumerate(kept)}
        n = len(rows)
        bounds = np.linspace(0, n, self.folds + 1).astype(int)

        def lr(fit_idx: np.ndarray, head: str) -> Any:
            clf = LogisticRegression(C=self.C, solver="liblinear", class_weight=self.class_weight, max_iter=200)
            return clf.fit(matrix[fit_idx], targets[head][fit_idx])

        jobs = []
        for f in range(self.folds):
            hold = np.arange(bounds[f], bounds[f + 1])
            fit_idx = np.setdiff1d(np.arange(n), hold)
            for h in self.HEADS:
                jobs.append((f, h, hold, fit_idx))
        oof = {h: np.zeros(n) for h in self.HEADS}
        with ThreadPoolExecutor(max_workers=2) as pool:
            fitted = list(pool.map(lambda j: (j, lr(j[3], j[1])), jobs))
            full = dict(zip(self.HEADS, pool.map(lambda h: lr(np.arange(n), h), self.HEADS), strict=True))
        for (_f, h, hold, _fit), clf in fitted:
            oof[h][hold] = clf.decision_function(matrix[hold])
        self.heads_ = full
        dense = self._dense(rows, oof)
        self.boosters_ = {}
        for h in self.HEADS:
            gb = HistGradientBoostingClassifier(max_iter=self.hgb_iter, learning_rate=self.hgb_lr,
                                                max_leaf_nodes=self.hgb_leaves, early_stopping=False,
                                                l2_regularization=1.0, random_state=0)
            self.boosters_[h] = gb.fit(dense, targets[h])
        self.calibrators_ = {h: (1.0, 0.0) for h in self.HEADS}
        self.thresholds_ = {h: 0.5 for h in self.HEADS}
        self.n_train_ = n
        return self

    def _stacked(self, matrix: Any, rows: Sequence[FeatureRow]) -> dict[str, np.ndarray]:
        logits = {h: clf.decision_function(matrix) for h, clf in self.heads_.items()}
        dense = self._dense(rows, logits)
        return {h: gb.predict_proba(dense)[:, 1] for h, gb in self.boosters_.items()}

    def raw_heads(self, X: Sequence[FeatureRow] | Any) -> dict[str, np.ndarray]:
        rows = list(X)
        return self._stacked(self.transform(rows), rows)

    def _head_probs(self, matrix: Any, rows: Sequence[FeatureRow]) -> dict[str, np.ndarray]:
        return self._stacked(matrix, rows)


@register("pv-blend")
class PvBlendModel(PvRiskModel):
    """PV heads of ``pv-tfidf-lr``; each head of ``boost_heads`` averages, in log-odds, its logistic
    regression with a LightGBM gradient-boosted tree model fitted on the same sparse features (columns
    present in at least ``boost_min_df`` training reports), which can learn interactions the linear head
    cannot. Calibration and thresholds as for ``pv-tfidf-lr`` (on the blended probability).
    Explanations stay the linear heads' contributions.

    Chosen on the validation year 2002 (ROC-AUC of ``grave``, models fitted on 1996–2001): linear 0.9658,
    LightGBM alone 0.9676, this blend 0.9693 (300 rounds at learning rate 0.1; 600 at 0.05: 0.9698 for
    twice the fitting time). Only ``grave`` is boosted by default: it carries the ranking targets, and
    each boosted head adds about 1.5 min of fitting on two cores."""

    def __init__(self, C: float = 2.0, word_ngrams: tuple[int, int] = (1, 3), min_df: int = 3,
                 max_features: int | None = 300_000, char_ngrams: tuple[int, int] | None = None,
                 token_weight: float = 1.0, class_weight: str | None = None, review_margin: float = 0.15,
                 max_oov: float = 0.5, boost_heads: tuple[str, ...] = ("grave",), boost_rounds: int = 300,
                 boost_learning_rate: float = 0.1, boost_leaves: int = 63, boost_colsample: float = 0.3,
                 boost_min_df: int = 20, boost_threads: int = 2) -> None:
        super().__init__(C=C, word_ngrams=word_ngrams, min_df=min_df, max_features=max_features,
                         char_ngrams=char_ngrams, token_weight=token_weight, class_weight=class_weight,
                         review_margin=review_margin, max_oov=max_oov)
        self.boost_heads = boost_heads
        self.boost_rounds = boost_rounds
        self.boost_learning_rate = boost_learning_rate
        self.boost_leaves = boost_leaves
        self.boost_colsample = boost_colsample
        self.boost_min_df = boost_min_df
        self.boost_threads = boost_threads

    def _fit_matrix(self, matrix: Any, y_arr: np.ndarray) -> None:
        import lightgbm as lgb

        super()._fit_matrix(matrix, y_arr)
        df = np.asarray((matrix > 0).sum(axis=0)).ravel()
        self.boost_columns_ = np.flatnonzero(df >= self.boost_min_df)
        sub = matrix[:, self.boost_columns_].astype(np.float32)
        targets = self._targets(y_arr)
        self.boosters_: dict[str, Any] = {}
        for h in self.boost_heads:
            t = targets[h]
            if t.min() == t.max():
                continue
            gb = lgb.LGBMClassifier(
                n_estimators=self.boost_rounds, learning_rate=self.boost_learning_rate,
                num_leaves=self.boost_leaves, colsample_bytree=self.boost_colsample, min_child_samples=20,
                reg_lambda=1.0, n_jobs=self.boost_threads, random_state=0, deterministic=True,
                force_col_wise=True, verbose=-1,
            )
            gb.fit(sub, t)
            gb.set_params(n_jobs=1)  # serving scores a few rows at a time, often in worker processes
            self.boosters_[h] = gb

    def _head_probs(self, matrix: Any, rows: Sequence[FeatureRow]) -> dict[str, np.ndarray]:
        probs = super()._head_probs(matrix, rows)
        boosters = getattr(self, "boosters_", {})
        if boosters:
            sub = matrix[:, self.boost_columns_].astype(np.float32)
            for h, gb in boosters.items():
                blended = 0.5 * _logit(probs[h]) + 0.5 * _logit(gb.predict_proba(sub)[:, 1])
                probs[h] = 1.0 / (1.0 + np.exp(-blended))
        return probs
