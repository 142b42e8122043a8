"""Send a CAP 1.2 alert to a district as the city platform would: signed (Standard Webhooks), for demos and drills.

    python -m gateway.tools.cityalert --url http://127.0.0.1:8000 --secret whsec_...            # a yellow rainstorm Alert
    python -m gateway.tools.cityalert ... --level red --area 411099001000 --exercise             # an exercise to one street
    python -m gateway.tools.cityalert ... --update CITY-ID --level orange                        # an Update of CITY-ID
    python -m gateway.tools.cityalert ... --cancel CITY-ID                                       # its Cancel
    python -m gateway.tools.cityalert ... --file alert.xml                                       # any CAP document as it is

The district's secret is YINGJI_UPSTREAM_SECRET. The alert is built with lxml and checked against the same OASIS
schema the district validates with before it is sent; the answer (the district's warning id, or its problem+json)
is printed.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from lxml import etree

from domain.policy import SHANGHAI
from gateway.citylink.cap import CAP_MEDIA_TYPE, CAP_NS, GEOCODE_NAME, SEVERITY, validate
from gateway.citylink.webhooks import parse_secrets, sign
from domain.warnings import WarningLevel

SENDER = "xuchang-city-platform"


def build(identifier: str, msg_type: str, references: list[str], level: str, headline: str, areas: list[str], exercise: bool,
          hours: float) -> bytes:
    now = datetime.now(timezone.utc)
    local = lambda t: t.astimezone(SHANGHAI).isoformat(timespec="seconds")  # noqa: E731
    ns = f"{{{CAP_NS}}}"
    root = etree.Element(ns + "alert", nsmap={None: CAP_NS})

    def sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        el = etree.SubElement(parent, ns + name)
        el.text = text
        return el

    for name, text in [("identifier", identifier), ("sender", SENDER), ("sent", local(now)), ("status", "Exercise" if exercise else "Actual"),
                       ("msgType", msg_type), ("scope", "Public")]:
        sub(root, name, text)
    if references:
        sub(root, "references", " ".join(f"{SENDER},{r},{local(now)}" for r in references))
    info = sub(root, "info")  # a container: no text
    for name, text in [("language", "zh-CN"), ("category", "Met"), ("event", "暴雨"), ("urgency", "Expected"),
                       ("severity", SEVERITY[WarningLevel(level)]), ("certainty", "Likely"), ("onset", local(now)),
                       ("expires", local(now + timedelta(hours=hours))), ("senderName", "许昌市气象台"), ("headline", headline),
                       ("description", "预计未来6小时将出现强降雨，局地伴有雷暴大风。"), ("instruction", "做好防汛准备，转移低洼地带群众。")]:
        sub(info, name, text)
    for code in areas:
        area = etree.SubElement(info, ns + "area")
        sub(area, "areaDesc", code)
        geo = etree.SubElement(area, ns + "geocode")
        sub(geo, "valueName", GEOCODE_NAME)
        sub(geo, "value", code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the district gateway, e.g. http://127.0.0.1:8000")
    p.add_argument("--secret", required=True, help="the district's YINGJI_UPSTREAM_SECRET (whsec_...)")
    p.add_argument("--file", type=Path, help="send this CAP document as it is")
    p.add_argument("--identifier", default=None, help="the message's identifier (a new one by default)")
    p.add_argument("--update", metavar="CITY_ID", help="an Update referencing this earlier identifier")
    p.add_argument("--cancel", metavar="CITY_ID", help="a Cancel referencing this earlier identifier")
    p.add_argument("--level", default="yellow", choices=[str(x) for x in WarningLevel])
    p.add_argument("--headline", default="许昌市暴雨预警")
    p.add_argument("--area", action="append", default=[], help="a 12-digit division code (repeat); none: the whole district")
    p.add_argument("--exercise", action="store_true", help="status Exercise (演练)")
    p.add_argument("--hours", type=float, default=6.0, help="hours until it expires")
    args = p.parse_args(argv)
    if args.file:
        body = args.file.read_bytes()
    else:
        ref = args.update or args.cancel
        msg_type = "Update" if args.update else "Cancel" if args.cancel else "Alert"
        identifier = args.identifier or f"CITY-{datetime.now(SHANGHAI):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        body = build(identifier, msg_type, [ref] if ref else [], args.level, args.headline, args.area, args.exercise, args.hours)
        validate(body)
        print(f"identifier: {identifier}", file=sys.stderr)
    headers = {"content-type": CAP_MEDIA_TYPE, **sign(parse_secrets(args.secret), f"cap-{uuid.uuid4().hex}", body)}
    r = httpx.post(args.url.rstrip("/") + "/api/v1/upstream/warnings", content=body, headers=headers, timeout=30)
    print(r.status_code, r.text)
    return 0 if r.status_code < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
