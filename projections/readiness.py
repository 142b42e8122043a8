"""Read model `readiness`: per street, cluster, village and community, the facts its scorecard is judged
from, and the scorecard as it stood at the last change (domain.readiness).

The facts are not typed by anyone: this reducer follows the read models that hold them (teams,
warehouses, and the people and plans registers) by calling their own reducers on the same event and
keeping, per unit, the few fields the standard reads. So a team growing from 19 to 20 changes that
unit's readiness document in the same projector commit, and the board hears of it as of any other
change. Replay folds the same reducer, so the scorecard of any past day is the one derived then.

Sign-ins are not in the log (they live beside it, in the accounts store): the stored card marks the
platform item `unknown`; the API and the board's snapshot judge it from the accounts at the moment
asked (`overrides`), and replay leaves it unknown (not evaluated), which the page says in words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from domain.materials import CATALOGUE
from domain.people import PersonStatus
from domain.plans import PlanKind
from domain.readiness import (
    CURRENT_STANDARD, EVALUATORS, OUTSIDE_THE_LOG, standard, STANDARD_KINDS, STREET_KINDS, VILLAGE_KINDS, ItemStatus, PersonFact, PlanFact, Standard, TeamFact,
    UnitFacts, WarehouseFact, scorecard,
)
from domain.units import street_of
from projections.reducer import Changes, Doc, Get, Reducer, event_name, iso

K = "readiness"
KINDS_SCORED = (*STREET_KINDS, *VILLAGE_KINDS)
SECTIONS = ("teams", "warehouses", "people", "plans", "mechanisms", "drills", "trainings")

# fact_of(doc) -> [(unit_code, section, fact)] for one document of a followed read model ([] when it holds none).
FactOf = Callable[[Doc], list[tuple[str, str, Any]]]


def _team_fact(doc: Doc) -> list[tuple[str, str, Any]]:
    return [(doc["unit_code"], "teams", {"name": doc["name"], "kind": doc["kind"], "members": doc["members"]})]


def _warehouse_fact(doc: Doc) -> list[tuple[str, str, Any]]:
    short = []
    minimums = 0
    for code, line in sorted(doc["stock"].items()):
        if line["minimum"]:
            minimums += 1
            available = line["on_hand"] - line["reserved"]  # the same rule as the board's stock_low alert
            if available < line["minimum"]:
                m = CATALOGUE.get(code)
                short.append([m.name_zh if m else code, available, line["minimum"]])
    return [(doc["unit_code"], "warehouses", {"name": doc["name"], "minimums": minimums, "short": short})]


def _person_fact(doc: Doc) -> list[tuple[str, str, Any]]:
    if doc.get("status") != PersonStatus.ACTIVE:  # who has left holds no post
        return []
    return [(doc["unit_code"], "people", {"name": doc["name"], "posts": list(doc["posts"]), "trained_on": list(doc["trained_on"])})]


def _training_fact(doc: Doc) -> list[tuple[str, str, Any]]:
    """A session the unit held; the sessions its people attended come with the people."""
    return [(doc["unit_code"], "trainings", doc["day"])]


def _plan_fact(doc: Doc) -> list[tuple[str, str, Any]]:
    if doc.get("status") != "active":  # a retired plan is not on file
        return []
    if doc["kind"] == PlanKind.MECHANISM:
        return [(doc["unit_code"], "mechanisms", [doc["mechanism"]])]
    filing = doc.get("filing")
    return [(doc["unit_code"], "plans", {
        "title": doc["title"], "kind": doc["kind"], "filed": bool(filing) and filing.get("version") == doc["version"],
        "revised_on": doc["revised_on"], "revise_by": doc.get("revision_due_on"), "last_drill": doc.get("last_drill_on"),
        "drill_by": doc.get("drill_due_on")})]


def _unit_drills_fact(doc: Doc) -> list[tuple[str, str, Any]]:
    return [(doc["unit_code"], "drills", doc["last_drill_on"])] if doc.get("last_drill_on") else []


# The facts each followed read model's documents hold (projections.catalog pairs them with the reducers).
FACTS_OF: dict[str, FactOf] = {"team": _team_fact, "warehouse": _warehouse_fact, "person": _person_fact, "training": _training_fact,
                               "plan": _plan_fact, "unit_drills": _unit_drills_fact}


def _unit_registered(get: Get, e: Any) -> Changes:
    if e.kind not in KINDS_SCORED:
        return {}
    doc = {"id": e.code, "unit_code": e.code, "unit_name": e.name, "unit_kind": e.kind, "street_code": street_of(e.code),
           "status": "active", "facts": {s: {} for s in SECTIONS}, "updated_at": iso(e.timestamp)}
    return {e.code: {**doc, "card": card_of(doc, e.timestamp)}}


def readiness_reducer(followed: Iterable[Reducer]) -> Reducer:
    """The `readiness` read model, following the given read models (their kinds name their facts in FACTS_OF)."""
    routes: dict[str, list[tuple[Reducer, FactOf]]] = {}
    for reducer in followed:
        for name in reducer.handlers:
            routes.setdefault(name, []).append((reducer, FACTS_OF[reducer.kind]))

    def following(get: Get, e: Any, earlier: Mapping[str, Changes]) -> Changes:
        """Move the facts that the followed read models' changed documents hold (their changes from this
        event, as folded just before; run here only where they were not)."""
        out: dict[str, Doc] = {}

        def unit_doc(code: str) -> Doc | None:
            if code in out:
                return out[code]
            doc = get(K, code)
            return None if doc is None else {**doc, "facts": {s: dict(doc["facts"].get(s, {})) for s in SECTIONS}}

        for reducer, fact_of in routes.get(event_name(e), ()):
            changed = earlier[reducer.kind] if reducer.kind in earlier else reducer(get, e)
            for doc_id, new in changed.items():
                old = get(reducer.kind, doc_id)
                key = f"{reducer.kind}:{doc_id}"
                before = {(u, s): f for u, s, f in (fact_of(old) if old else [])}
                after = {(u, s): f for u, s, f in (fact_of(new) if new else [])}
                for (code, section) in before.keys() - after.keys():
                    doc = unit_doc(code)
                    if doc is not None and doc["facts"][section].pop(key, None) is not None:
                        out[code] = doc
                for (code, section), fact in after.items():
                    doc = unit_doc(code)
                    if doc is not None and doc["facts"][section].get(key) != fact:
                        doc["facts"][section][key] = fact
                        out[code] = doc
        return {code: {**doc, "card": card_of(doc, e.timestamp), "updated_at": iso(e.timestamp)} for code, doc in out.items()}

    unit_registered = lambda get, e, earlier: _unit_registered(get, e)  # noqa: E731 - its own fact, nothing followed
    return Reducer(K, {"Unit.Registered": unit_registered, **{name: following for name in routes}},
                   follows=tuple(r.kind for r in followed))


# -- from the document to the domain's facts --------------------------------------------------
def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def facts_of(doc: Doc, last_signin: datetime | None = None, signins_known: bool = False) -> UnitFacts:
    f = doc["facts"]
    return UnitFacts(
        unit_code=doc["unit_code"], unit_kind=doc["unit_kind"], unit_name=doc.get("unit_name", ""),
        teams=tuple(TeamFact(t["name"], t["kind"], t["members"]) for _, t in sorted(f["teams"].items())),
        warehouses=tuple(WarehouseFact(w["name"], w["minimums"], tuple(tuple(s) for s in w["short"]))  # type: ignore[misc]
                         for _, w in sorted(f["warehouses"].items())),
        people=tuple(PersonFact(p["name"], tuple(p["posts"]), tuple(d for d in map(_day, p.get("trained_on", [])) if d))
                     for _, p in sorted(f["people"].items())),
        plans=tuple(PlanFact(p["title"], p["kind"], p["filed"], _day(p.get("revised_on")), _day(p.get("revise_by")),
                             _day(p.get("last_drill")), _day(p.get("drill_by"))) for _, p in sorted(f["plans"].items())),
        mechanisms=tuple(sorted({m for ms in f["mechanisms"].values() for m in ms})),
        drills=tuple(sorted(d for d in map(_day, f["drills"].values()) if d)),
        # the sessions the unit held and those its people attended
        trainings=tuple(sorted({d for d in map(_day, [*f["trainings"].values(), *(x for p in f["people"].values()
                                                                                  for x in p.get("trained_on", []))]) if d})),
        last_signin=last_signin, signins_known=signins_known,
    )


def card_of(doc: Doc, now: datetime) -> dict[str, Any]:
    """The scorecard kept in the document: judged at the change, without the accounts (not in the log)."""
    return scorecard(facts_of(doc), now, CURRENT_STANDARD)


# -- counting what the board shows ---------------------------------------------------------------
def effective(item: dict[str, Any], now: datetime, override: dict[str, Any] | None = None) -> dict[str, Any]:
    """An item as it stands now: the server's fresh verdict where it has one (the platform item), else the
    stored one, turned red once its `until` has passed (ui/board-model.js `readinessItem` does the same)."""
    if override is not None:
        item = {**item, **override}
    if item["status"] == ItemStatus.GREEN and item.get("until") and datetime.fromisoformat(item["until"]) <= now:
        return {**item, "status": ItemStatus.RED.value, "reason": item["lapse"], "until": None}
    return item


def street_counts(docs: Iterable[Doc], now: datetime, overrides: dict[str, dict[str, Any]] | None = None,
                  ) -> dict[str, dict[str, Any]]:
    """Per street: its 1+4 and 六有 items green of total, and its villages complete under 1+3 of total."""
    overrides = overrides or {}
    rows: dict[str, dict[str, Any]] = {}
    for doc in sorted(docs, key=lambda d: d["unit_code"]):
        row = rows.setdefault(doc["street_code"], {s.value: [0, 0] for s in Standard})
        items = [effective(i, now, overrides.get(doc["unit_code"], {}).get(i["id"])) for i in doc["card"]["items"]]
        if doc["unit_kind"] in VILLAGE_KINDS:
            row[Standard.VILLAGE_1_3][1] += 1
            row[Standard.VILLAGE_1_3][0] += bool(items) and all(i["status"] == ItemStatus.GREEN for i in items)
        else:
            for i in items:
                row[i["standard"]][1] += 1
                row[i["standard"]][0] += i["status"] == ItemStatus.GREEN
    return dict(sorted(rows.items()))


def live_overrides(docs: Iterable[Doc], signins: dict[str, datetime], now: datetime) -> dict[str, dict[str, Any]]:
    """The items judged from outside the log (the platform item, from the accounts' sign-ins), per unit, now:
    the board's snapshot carries them beside the documents (`readiness_live`)."""
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc["unit_kind"] not in STREET_KINDS:
            continue
        facts = facts_of(doc, signins.get(doc["unit_code"]), signins_known=True)
        out[doc["unit_code"]] = {item: EVALUATORS[standard().item(item).evaluator](facts, now).as_dict()  # type: ignore[union-attr]
                                 for item in OUTSIDE_THE_LOG}
    return out


def rollup(cards: list[dict[str, Any]]) -> dict[str, Any]:
    """Scorecards per street and for the district: units complete per standard, and items green of total."""
    streets: dict[str, dict[str, Any]] = {}
    district = {"units": 0, "complete": 0, "items": 0, "green": 0,
                **{s.value: {"units": 0, "complete": 0} for s in Standard}}
    for card in cards:
        code = card["unit_code"]
        row = streets.setdefault(street_of(code) or code, {
            "street_code": street_of(code) or code, "units": 0, "complete": 0, "items": 0, "green": 0,
            **{s.value: {"units": 0, "complete": 0, "items": 0, "green": 0} for s in Standard}})
        by_standard: dict[str, list[dict[str, Any]]] = {}
        for i in card["items"]:
            by_standard.setdefault(i["standard"], []).append(i)
        for std, items in by_standard.items():
            ok = all(i["status"] == ItemStatus.GREEN for i in items)
            green_n = sum(i["status"] == ItemStatus.GREEN for i in items)
            for target in (row[std], district[std]):
                target["units"] += 1
                target["complete"] += ok
            row[std]["items"] += len(items)
            row[std]["green"] += green_n
        for target in (row, district):
            target["units"] += 1
            target["complete"] += card["complete"]
            target["items"] += len(card["items"])
            target["green"] += sum(i["status"] == ItemStatus.GREEN for i in card["items"])
        if code == row["street_code"]:
            row["street_name"] = card["unit_name"]
    return {"streets": [streets[k] for k in sorted(streets)], "district": district}


def applies(standard: str, unit_kind: str) -> bool:
    return unit_kind in STANDARD_KINDS[Standard(standard)]
