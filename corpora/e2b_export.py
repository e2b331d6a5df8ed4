"""Dossiers → ICH E2B(R3) ICSRs (HL7 v3 ``PORR_IN049016UV`` in an ``MCCI_IN200100UV01`` batch), and back.

``gdr corpora convert vaers … --to e2b --out FILE.xml`` writes one batch message with one ICSR per
report. The element paths (relative to ``investigationEvent``; ``aea`` =
``component/adverseEventAssessment``, ``role`` = ``aea/subject1/primaryRole``) are the ones
:func:`corpora.e2b.parse_e2b` reads, so VAERS → E2B → Dossier gives the direct conversion back:

==================================  ==========================================================================
Dossier                             E2B(R3) data element and path
==================================  ==========================================================================
``id`` (``vaers:N``)                C.1.1 ``id[@root=…3.1]@extension`` = ``US-VAERS-N`` (read back as ``intake:…``)
``received_at``                     C.1.4 ``effectiveTime/low@value`` and C.1.5 ``availabilityTime@value``
``text``, ``language``              H.1 ``text`` (``@language``)
``fields.report_type``              C.1.9.1.r.2 ``subjectOf1/controlActEvent/id@extension``
``fields.region``                   C.2.r.2.5 ``outboundRelationship/relatedInvestigation/subjectOf2/controlActEvent/``
                                    ``author/assignedEntity/addr/state``
``fields.patient_sex``              D.5 ``role/player1/administrativeGenderCode@code`` (1 = M, 2 = F)
``fields.patient_age``              D.2.2 ``role/subjectOf2/observation[code=3]/value@value`` (``@unit`` a)
``fields.medical_history``          D.7.2 ``role/subjectOf2/organizer[code=1]/component/observation[code=18]/value``
``fields.current_illness``          D.7.1.r.5 comment of a continuing (D.7.1.r.3) episode:
                                    ``organizer[code=1]/component/observation/inboundRelationship/observation``
                                    ``[code=10]/value`` beside ``[code=13]`` = true
``fields.prior_vaccinations``       D.8.r.1 ``role/subjectOf2/organizer[code=2]/component/substanceAdministration/``
                                    ``consumable/instanceOfKind/kindOfProduct/name``
``fields.lab_data``                 F.r.3.4 ``role/subjectOf2/organizer[code=3]/component/observation/value`` (ED)
``fields.symptoms``                 E.i.1.1a ``role/subjectOf2/observation[code=29]/value/originalText``
``fields.onset_date``               E.i.4 ``observation[code=29]/effectiveTime/low@value`` (first reaction)
``fields.country``                  E.i.9 ``observation[code=29]/location/locatedEntity/locatedPlace/code@code``
``fields.products[]``               G.k ``role/subjectOf2/organizer[code=4]/component/substanceAdministration``:
  ``.name``                         G.k.2.2 ``consumable/instanceOfKind/kindOfProduct/name``
  ``.vaccine_type``                 G.k.2.1.1b ``kindOfProduct/code@code`` (code system :data:`VAERS_VAX_TYPE`)
  ``.substances``                   G.k.2.3.r.1 ``kindOfProduct/ingredient/ingredientSubstance/name``
  ``.manufacturer``                 G.k.3.3 ``kindOfProduct/asManufacturedProduct/subjectOf/approval/holder/role/``
                                    ``playingOrganization/name``
  ``.lot``                          G.k.4.r.7 ``consumable/instanceOfKind/productInstanceInstance/lotNumberText``
  ``.dose``                         G.k.4.r.8 ``substanceAdministration/text``
  ``.route``                        G.k.4.r.10.1 ``routeCode/originalText``
  ``.role``                         G.k.1 ``aea/component/causalityAssessment[code=20]/value@code`` (1 suspect)
``fields.vaccination_date``         G.k.4.r.4 ``substanceAdministration/effectiveTime/low@value``
``fields.onset_days``               G.k.9.i.3.1 ``substanceAdministration/outboundRelationship1[@typeCode=SAS]/``
                                    ``pauseQuantity@value`` (``@unit`` d)
``fields.other_medications``        G.k with G.k.1 = 2 (concomitant), its G.k.2.2 name
outcome (recorded, not an input)    E.i.3.2a-f ``observation[code=29]/outboundRelationship2/observation[code=34|21|33|``
                                    ``35|12|26]/value@value`` (BL; ``nullFlavor="NI"`` when not recorded); E.i.7
                                    ``observation[code=27]/value@code`` (1 recovered, 3 not recovered);
                                    D.9.1 ``role/player1/deceasedTime@value``
==================================  ==========================================================================

Not exported (no E2B(R3) element): VAERS ``V_ADMINBY``/``V_FUNDBY`` (``administered_by``,
``funded_by``) and the injection site (``products[].site``); ``vaccine_types`` and ``manufacturers``
are recomputed from the products.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

from corpora.e2b import SERIOUSNESS_CODES
from corpora.model import Dossier, Record

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OBS = "2.16.840.1.113883.3.989.2.1.1.19"
GROUP = "2.16.840.1.113883.3.989.2.1.1.20"
ROLE = "2.16.840.1.113883.3.989.2.1.1.13"
MEDDRA = "2.16.840.1.113883.6.163"
REPORT_ID = "2.16.840.1.113883.3.989.2.1.3.1"
VAERS_VAX_TYPE = "2.16.840.1.113883.3.989.5.1.2.2.1.99"  # project-local: VAERS VAX_TYPE codes as MPID system
# The VAERS outcome keys E2B(R3) can carry (E.i.3.2), with their codes, in E2B order.
_SERIOUS = tuple((key, code) for code, (key, _) in SERIOUSNESS_CODES.items() if key)
NOT_EXPORTED = ("administered_by", "funded_by")

ET.register_namespace("", HL7)
ET.register_namespace("xsi", XSI)


def _q(tag: str) -> str:
    return f"{{{HL7}}}{tag}"


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag), {k.replace("__", ":"): v for k, v in attrs.items()})


def _xsi(el: ET.Element, kind: str) -> ET.Element:
    el.set(f"{{{XSI}}}type", kind)
    return el


def _ts(value: date | None) -> str | None:
    return value.strftime("%Y%m%d") if value else None


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    el = _sub(parent, tag)
    el.text = value
    return el


def safety_report_id(dossier: Dossier) -> str:
    """C.1.1 of a dossier: ``US-VAERS-214577`` for ``vaers:214577``, else the native id."""
    source, _, native = dossier.id.partition(":")
    if source == "vaers":
        return f"US-VAERS-{native}"
    return native or dossier.id


def icsr(record: Record) -> ET.Element:
    """One ``PORR_IN049016UV`` message for ``record`` (dossier and, when recorded, its outcome)."""
    d, f = record.dossier, record.dossier.fields
    outcome = record.outcome or {}
    message = ET.Element(_q("PORR_IN049016UV"), {"ITSVersion": "XML_1.0"})
    _sub(message, "id", root="2.16.840.1.113883.3.989.2.1.3.1", extension=f"MSG-{safety_report_id(d)}")
    _sub(message, "interactionId", root="2.16.840.1.113883.1.6", extension="PORR_IN049016UV")
    act = _sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    event = _sub(_sub(act, "subject", typeCode="SUBJ"), "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _sub(event, "id", root=REPORT_ID, extension=safety_report_id(d))
    _sub(event, "code", code="PAT_ADV_EVNT", codeSystem="2.16.840.1.113883.5.4")
    narrative = _text(event, "text", d.text)
    narrative.set("mediaType", "text/plain")
    narrative.set("language", d.language)
    _sub(event, "statusCode", code="active")
    if d.received_at:
        _sub(_sub(event, "effectiveTime"), "low", value=_ts(d.received_at) or "")
        _sub(event, "availabilityTime", value=_ts(d.received_at) or "")

    aea = _sub(_sub(event, "component", typeCode="COMP"), "adverseEventAssessment", classCode="INVSTG",
               moodCode="EVN")
    role = _sub(_sub(aea, "subject1", typeCode="SBJ"), "primaryRole", classCode="INVSBJ")
    player = _sub(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    _sub(player, "name", nullFlavor="MSK")
    if f.patient_sex:
        _sub(player, "administrativeGenderCode", code={"M": "1", "F": "2"}[f.patient_sex], codeSystem="1.0.5218")
    if outcome.get("date_died"):
        _sub(player, "deceasedTime", value=str(outcome["date_died"]).replace("-", ""))
    if f.patient_age is not None:
        obs = _observation(role, "3")
        _xsi(_sub(obs, "value", value=_number(f.patient_age), unit="a"), "PQ")
    if f.medical_history or f.current_illness:
        organizer = _organizer(role, "1")
        if f.medical_history:
            obs = _sub(_sub(organizer, "component", typeCode="COMP"), "observation", classCode="OBS", moodCode="EVN")
            _sub(obs, "code", code="18", codeSystem=OBS)
            _xsi(_text(obs, "value", f.medical_history), "ED")
        if f.current_illness:
            obs = _sub(_sub(organizer, "component", typeCode="COMP"), "observation", classCode="OBS", moodCode="EVN")
            _sub(obs, "code", nullFlavor="UNK", codeSystem=MEDDRA)
            for code, kind, value in (("13", "BL", "true"), ("10", "ED", f.current_illness)):
                rel = _sub(_sub(obs, "inboundRelationship", typeCode="REFR"), "observation", classCode="OBS",
                           moodCode="EVN")
                _sub(rel, "code", code=code, codeSystem=OBS)
                if kind == "BL":
                    _xsi(_sub(rel, "value", value=value), "BL")
                else:
                    _xsi(_text(rel, "value", value), "ED")
    if f.prior_vaccinations:
        organizer = _organizer(role, "2")
        admin = _sub(_sub(organizer, "component", typeCode="COMP"), "substanceAdministration", classCode="SBADM",
                     moodCode="EVN")
        past = _sub(_sub(_sub(admin, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST"),
                    "kindOfProduct", classCode="MMAT", determinerCode="KIND")
        _text(past, "name", f.prior_vaccinations)
    if f.lab_data:
        organizer = _organizer(role, "3")
        obs = _sub(_sub(organizer, "component", typeCode="COMP"), "observation", classCode="OBS", moodCode="EVN")
        _sub(obs, "code", nullFlavor="UNK")
        _xsi(_text(obs, "value", f.lab_data), "ED")
    _reactions(role, d, outcome)
    _drugs(role, aea, d)
    if f.report_type:
        _sub(_sub(_sub(event, "subjectOf1", typeCode="SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN"),
             "id", root="2.16.840.1.113883.3.989.2.1.3.2", extension=f.report_type)
    if f.region:
        entity = _sub(_sub(_sub(_sub(_sub(_sub(event, "outboundRelationship", typeCode="SPRT"), "relatedInvestigation",
                                          classCode="INVSTG", moodCode="EVN"), "subjectOf2", typeCode="SUBJ"),
                                "controlActEvent", classCode="CACT", moodCode="EVN"), "author", typeCode="AUT"),
                      "assignedEntity", classCode="ASSIGNED")
        _text(_sub(entity, "addr"), "state", f.region)
    return message


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _observation(role: ET.Element, code: str) -> ET.Element:
    obs = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "observation", classCode="OBS", moodCode="EVN")
    _sub(obs, "code", code=code, codeSystem=OBS)
    return obs


def _organizer(role: ET.Element, code: str) -> ET.Element:
    organizer = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN")
    _sub(organizer, "code", code=code, codeSystem=GROUP)
    return organizer


def _reactions(role: ET.Element, d: Dossier, outcome: dict[str, Any]) -> None:
    f = d.fields
    terms = list(f.symptoms or [])
    if not terms and (f.onset_date or f.country or any(outcome.get(k) is not None for k, _ in _SERIOUS)):
        terms = [""]  # a reaction without a coded term still carries onset, country and seriousness
    for i, term in enumerate(terms):
        obs = _observation(role, "29")
        _sub(obs, "id", root=f"reaction-{i + 1}")
        if i == 0 and f.onset_date:
            _sub(_sub(obs, "effectiveTime"), "low", value=_ts(f.onset_date) or "")
        value = _xsi(_sub(obs, "value", codeSystem=MEDDRA) if term else _sub(obs, "value", nullFlavor="UNK"), "CE")
        if term:
            _text(value, "originalText", term)
        if f.country:
            place = _sub(_sub(_sub(obs, "location", typeCode="LOC"), "locatedEntity", classCode="LOCE"),
                         "locatedPlace", classCode="COUNTRY", determinerCode="INSTANCE")
            _sub(place, "code", code=f.country, codeSystem="1.0.3166.1.2.2")
        for key, code in _SERIOUS:
            flag = outcome.get(key)
            if key == "hospitalised" and outcome.get("prolonged_hospitalisation") is True:
                flag = True
            rel = _sub(_sub(obs, "outboundRelationship2", typeCode="PERT"), "observation", classCode="OBS",
                       moodCode="EVN")
            _sub(rel, "code", code=code, codeSystem=OBS)
            if isinstance(flag, bool):
                _xsi(_sub(rel, "value", value="true" if flag else "false"), "BL")
            else:
                _xsi(_sub(rel, "value", nullFlavor="NI"), "BL")
        recovered = outcome.get("recovered")
        if isinstance(recovered, bool):
            rel = _sub(_sub(obs, "outboundRelationship2", typeCode="PERT"), "observation", classCode="OBS",
                       moodCode="EVN")
            _sub(rel, "code", code="27", codeSystem=OBS)
            _xsi(_sub(rel, "value", code="1" if recovered else "3", codeSystem="2.16.840.1.113883.3.989.2.1.1.11"),
                 "CE")


def _drugs(role: ET.Element, aea: ET.Element, d: Dossier) -> None:
    f = d.fields
    drugs: list[tuple[Any, str]] = [(p, "1" if p.role != "concomitant" else "2") for p in f.products or []]
    if f.other_medications:
        drugs.append((None, "2"))
    if not drugs:
        return
    organizer = _organizer(role, "4")
    for i, (product, role_code) in enumerate(drugs, 1):
        admin = _sub(_sub(organizer, "component", typeCode="COMP"), "substanceAdministration", classCode="SBADM",
                     moodCode="EVN")
        _sub(admin, "id", root=f"drug-{i}")
        if product is not None and product.dose:
            _text(admin, "text", product.dose)
        if product is not None and f.vaccination_date:
            _xsi(_sub(_sub(admin, "effectiveTime"), "low", value=_ts(f.vaccination_date) or ""), "TS")
        if product is not None and product.route:
            _text(_sub(admin, "routeCode"), "originalText", product.route)
        inst = _sub(_sub(admin, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST")
        if product is not None and product.lot:
            _text(_sub(inst, "productInstanceInstance", classCode="MMAT", determinerCode="INSTANCE"),
                  "lotNumberText", product.lot)
        kind = _sub(inst, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
        if product is None:
            _text(kind, "name", f.other_medications or "")
        else:
            if product.vaccine_type:
                _sub(kind, "code", code=product.vaccine_type, codeSystem=VAERS_VAX_TYPE)
            if product.name:
                _text(kind, "name", product.name)
            if product.manufacturer:
                holder = _sub(_sub(_sub(_sub(kind, "asManufacturedProduct", classCode="MANU"), "subjectOf",
                                        typeCode="SBJ"), "approval", classCode="CNTRCT", moodCode="EVN"),
                              "holder", typeCode="HLD")
                org = _sub(_sub(holder, "role", classCode="HLD"), "playingOrganization", classCode="ORG",
                           determinerCode="INSTANCE")
                _text(org, "name", product.manufacturer)
            for substance in product.substances or []:
                ing = _sub(_sub(kind, "ingredient", classCode="ACTI"), "ingredientSubstance", classCode="MMAT",
                           determinerCode="KIND")
                _text(ing, "name", substance)
            if f.onset_days is not None:
                rel = _sub(admin, "outboundRelationship1", typeCode="SAS")
                _sub(rel, "pauseQuantity", value=_number(f.onset_days), unit="d")
                _sub(_sub(rel, "actReference", classCode="OBS", moodCode="EVN"), "id", root="reaction-1")
        causality = _sub(_sub(aea, "component", typeCode="COMP"), "causalityAssessment", classCode="OBS",
                         moodCode="EVN")
        _sub(causality, "code", code="20", codeSystem=OBS)
        _xsi(_sub(causality, "value", code=role_code, codeSystem=ROLE), "CE")
        _sub(_sub(_sub(causality, "subject2", typeCode="SUBJ"), "productUseReference", classCode="SBADM",
                  moodCode="EVN"), "id", root=f"drug-{i}")


BATCH_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              f'<MCCI_IN200100UV01 xmlns="{HL7}" xmlns:xsi="{XSI}" ITSVersion="XML_1.0">\n'
              '<id root="2.16.840.1.113883.3.989.2.1.3.22" extension="GDR-SANTE-BATCH"/>\n'
              '<interactionId root="2.16.840.1.113883.1.6" extension="MCCI_IN200100UV01"/>\n')
BATCH_TAIL = "</MCCI_IN200100UV01>\n"
_NS_DECL = re.compile(r' xmlns(?::\w+)?="[^"]+"')


def icsr_xml(record: Record) -> str:
    """The ICSR of ``record`` as XML text (namespace declared on the batch element, not here)."""
    text = ET.tostring(icsr(record), encoding="unicode")
    head, sep, rest = text.partition(">")
    return _NS_DECL.sub("", head) + sep + rest


def batch_xml(records: Iterable[Record]) -> Iterator[str]:
    """An ``MCCI_IN200100UV01`` batch, piece by piece (stream it to a file)."""
    yield BATCH_HEAD
    for record in records:
        yield icsr_xml(record) + "\n"
    yield BATCH_TAIL


def read_records(text: str) -> list[Record]:
    """Records from an E2B(R3) file written here: dossiers as intake reads them, outcomes from E.i.3.2/E.i.7/D.9.1.

    Seriousness stays in the outcome (a recorded flag), not in the text: this is corpus reading,
    not intake (where the same elements are reporter-declared inputs).
    """
    from corpora.e2b import _children, _date, _descendants, _first, _local, parse_e2b, parse_xml_root

    items = parse_e2b(text, seriousness_in_text=False)
    root = parse_xml_root(text)
    events = [root] if _local(root.tag) == "investigationEvent" else _descendants(root, "investigationEvent")
    records = []
    codes = {code: key for key, code in _SERIOUS}
    for item, event in zip(items, events, strict=True):
        outcome: dict[str, Any] = {}
        first = next((o for o in _descendants(event, "observation")
                      if (_first(o, "code") is not None and _first(o, "code").get("code") == "29")), None)
        if first is not None:
            for rel in _children(first, "outboundRelationship2"):
                obs = _first(rel, "observation")
                code = _first(obs, "code").get("code") if obs is not None and _first(obs, "code") is not None else None
                value = _first(obs, "value") if obs is not None else None
                if value is None:
                    continue
                if code in codes:
                    raw = value.get("value")
                    outcome[codes[code]] = None if raw is None else raw == "true"
                elif code == "27":
                    outcome["recovered"] = {"1": True, "3": False}.get(value.get("code", ""))
        deceased = _descendants(event, "deceasedTime")
        died = _date(deceased[0].get("value")) if deceased else None
        if died is not None:
            outcome["date_died"] = died.isoformat()
        records.append(Record(item.dossier, outcome))
    return records


# --------------------------------------------------------------------------- reading (hooked into intake)

def drug_history_elements(event: Any) -> list[Any]:
    """The ``substanceAdministration`` elements of D.8.r (past drug history): not products of the case."""
    from corpora.e2b import _descendants, _first

    out: list[Any] = []
    for organizer in _descendants(event, "organizer"):
        code = _first(organizer, "code")
        if code is not None and code.get("code") == "2" and code.get("codeSystem", GROUP) == GROUP:
            out.extend(_descendants(organizer, "substanceAdministration"))
    return out


def extra_fields(event: Any, history: list[Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Dossier fields and per-product details read from the elements of the table above."""
    from corpora.e2b import _children, _date, _descendants, _first, _text

    fields: dict[str, Any] = {}
    reactions = [o for o in _descendants(event, "observation")
                 if _first(o, "code") is not None and _first(o, "code").get("code") == "29"
                 and _first(o, "code").get("codeSystem", OBS) == OBS]
    if reactions:
        low = _first(reactions[0], "effectiveTime", "low")
        fields["onset_date"] = _date(low.get("value")) if low is not None else None
        place = _first(reactions[0], "location", "locatedEntity", "locatedPlace", "code")
        fields["country"] = place.get("code") if place is not None else None
    for organizer in _descendants(event, "organizer"):
        code_el = _first(organizer, "code")
        group = code_el.get("code") if code_el is not None else None
        if group == "1":
            for comp in _children(organizer, "component"):
                obs = _first(comp, "observation")
                if obs is None:
                    continue
                code = _first(obs, "code")
                if code is not None and code.get("code") == "18":
                    fields["medical_history"] = _text(_first(obs, "value"))
                    continue
                comments = {}
                for rel in _children(obs, "inboundRelationship"):
                    inner = _first(rel, "observation")
                    inner_code = _first(inner, "code") if inner is not None else None
                    if inner_code is not None:
                        comments[inner_code.get("code")] = _first(inner, "value")
                continuing = comments.get("13")
                if continuing is not None and continuing.get("value") == "true" and comments.get("10") is not None:
                    fields["current_illness"] = _text(comments["10"])
        elif group == "2":
            names = [_text(_first(a, "consumable", "instanceOfKind", "kindOfProduct", "name"))
                     for a in _descendants(organizer, "substanceAdministration")]
            fields["prior_vaccinations"] = "; ".join(n for n in names if n) or None
        elif group == "3":
            results = [_text(_first(c, "observation", "value")) for c in _children(organizer, "component")]
            fields["lab_data"] = "\n".join(r for r in results if r) or None
    report = _first(event, "subjectOf1", "controlActEvent", "id")
    fields["report_type"] = report.get("extension") if report is not None else None
    states = _descendants(event, "state")
    fields["region"] = _text(states[0]) if states else None

    products: list[dict[str, Any]] = []
    for admin in _descendants(event, "substanceAdministration"):
        kind = _first(admin, "consumable", "instanceOfKind", "kindOfProduct")
        if kind is None or any(admin is h for h in history):
            continue
        code = _first(kind, "code")
        holder = _first(kind, "asManufacturedProduct", "subjectOf", "approval", "holder", "role",
                        "playingOrganization", "name")
        products.append({
            "vaccine_type": code.get("code") if code is not None and code.get("codeSystem") == VAERS_VAX_TYPE else None,
            "manufacturer": _text(holder),
            "lot": _text(_first(admin, "consumable", "instanceOfKind", "productInstanceInstance", "lotNumberText")),
            "dose": _text(_first(admin, "text")),
            "route": _text(_first(admin, "routeCode", "originalText")),
        })
        low = _first(admin, "effectiveTime", "low")
        if low is not None and "vaccination_date" not in fields:
            fields["vaccination_date"] = _date(low.get("value"))
        pause = _first(admin, "outboundRelationship1", "pauseQuantity")
        if pause is not None and "onset_days" not in fields:
            try:
                days = float(pause.get("value", ""))
            except ValueError:
                days = None
            unit = pause.get("unit", "d")
            fields["onset_days"] = days if unit == "d" or days is None else None
    return {k: v for k, v in fields.items() if v is not None}, products
