"""AMM features known at submission: one function for training and serving."""

from __future__ import annotations

from datetime import date

import numpy as np

from classifier.amm_features import AmmFeatureSpec, amm_feature_row, first_seen_years, submission_tokens
from classifier.assess import analyse, assess_batch, features_for
from classifier.training import amm_rows
from corpora.loaders.ema_epar import submission_proxy
from corpora.model import Dossier, DossierFields, Record


def epar(number: str, received: str, substances: list[str], indication: str = "Treatment of cancer",
         **flags: object) -> Dossier:
    return Dossier(id=f"ema-epar:EMEA/H/C/{number}", type="amm", title=f"Product {number}", text=indication,
                   language="en", source="ema-epar", received_at=received,
                   fields=DossierFields(substances=substances, indication=indication, atc_codes=["L01XC03"],
                                        therapeutic_area="Breast Neoplasms", **flags))  # type: ignore[arg-type]


def test_submission_tokens_use_inputs_known_at_submission() -> None:
    d = epar("1", "2015-03-01", ["Foo hydrochloride"], orphan=True, generic=False)
    toks = submission_tokens(d, AmmFeatureSpec({"foo": 2010}))
    assert "orphan=1" in toks and "generic=0" in toks and "atc1=L" in toks and "atc5=L01XC" in toks
    assert "new_substance=0" in toks and "substance_known=3-5" in toks
    assert "year>=2015" in toks and "year>=2016" not in toks and "yearnum=2015.17" in toks
    assert "generic=0@2013" in toks and "orphan=1@2013" in toks  # kind × 3-year period (2013–2015)
    assert "new_substance=1" in submission_tokens(d, AmmFeatureSpec({"foo": 2015}))
    assert not any(t.startswith("year") for t in submission_tokens(d, AmmFeatureSpec({}, year=False)))


def test_the_authorised_indication_is_read_only_when_the_spec_says_so() -> None:
    d = epar("2", "2016-01-01", ["Bar"], indication="Treatment of adults with HER2-positive metastatic tumours")
    with_text = amm_feature_row(d, spec=AmmFeatureSpec(indication=True))
    without = amm_feature_row(d, spec=AmmFeatureSpec(indication=False))
    assert "metastat" in with_text.text and "metastat" not in without.text
    assert "bar" in without.text and "breast" in without.text


def test_submission_proxy_is_never_the_authorisation_date() -> None:
    assert submission_proxy(date(2013, 7, 24), date(2017, 3, 22)) == date(2012, 7, 24)  # opinion − 365 days
    assert submission_proxy(None, date(2020, 5, 18)) == date(2019, 3, 13)  # decision − 432 days
    assert submission_proxy(None, None) is None


def test_training_and_serving_build_the_same_amm_features() -> None:
    from classifier.models import AmmRiskModel

    dossiers = [epar(str(i), f"{2005 + i % 15}-0{1 + i % 9}-01", [f"sub{i % 7}"], orphan=bool(i % 3 == 0),
                     generic=bool(i % 4 == 0)) for i in range(40)]
    records = [Record(d, {"additional_monitoring": (i % 3 == 0) or i > 30}) for i, d in enumerate(dossiers)]
    spec = AmmFeatureSpec(first_seen_years(dossiers), indication=False)
    trained = amm_rows(records, spec)
    served = [features_for(d, analyse(d), amm_spec=spec) for d in dossiers]
    assert trained == served
    assert all("new_substance=" in " ".join(r.tokens) for r in served)
    model = AmmRiskModel(C=1.0, min_df=1).fit(trained, [int(bool(r.outcome["additional_monitoring"]))
                                                       for r in records])
    model.calibrate(trained, [int(bool(r.outcome["additional_monitoring"])) for r in records],
                    recalls={"surveillance": 0.95})
    model.amm_spec_ = spec
    # the probabilities gdr triage serves (assess_batch) are those of the training rows
    expected = model.predict_proba(trained)[:, 1]
    served_p = [a.explanation.probabilites["surveillance"] for a in assess_batch(dossiers, {"amm": model})]
    assert np.allclose(served_p, expected, atol=6e-5)  # served probabilities are rounded to 4 decimals
