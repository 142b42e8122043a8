"""The duty desk: the roster (值班表) and the shift handover (交接班).

A handover carries what is still open, generated here from the read models of the handing-over
unit's subtree (`projections.duty.open_items`), never typed by the caller; the events of the
shift are listed from the log (from the shift's start to the position it was signed at).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from domain.common import InvalidValue
from domain.duty import DUTY_KINDS, duty_day_id
from domain.policy import ROSTER_AHEAD_DAYS, duty_day, shift_starts_at
from domain.units import scope_prefix, within
from gateway.citylink.eventschemas import TYPE_PREFIX, event_type
from gateway.context import Principal, not_found
from gateway.entrypoints.api.common import Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, HandoverIn, NoteIn, RosterIn
from gateway.service_layer import commands as c
from projections.duty import open_items

router = APIRouter(tags=["duty desk"])
SHIFT_EVENTS_SCANNED = 5_000  # a shift's events are the log's latest: never more than this is read back
# Records whose events name no unit of their own: the unit is their document's.
UNIT_OF_KINDS = ("incident", "dispatch", "team", "warehouse", "allocation", "disaster_report", "handover", "duty_day")


def _duty_unit(principal: Principal, unit_code: str | None) -> str:
    code = unit_code or principal.unit_code
    if not principal.can_read("duty_day", code):
        raise not_found("duty desk", code)
    return code


# -- the roster --------------------------------------------------------------
@router.post("/roster", response_model=Accepted)
def schedule(body: RosterIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """Set who is on duty on a day (today up to a month ahead); the same roster again records nothing."""
    command = c.ScheduleDuty(body.unit_code, body.day, body.leader.model_dump(), [p.model_dump() for p in body.officers])
    return answer(container.service.handle(ctx, command))


@router.get("/roster")
def roster(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
           unit_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
           start: date | None = None, days: Annotated[int, Query(ge=1, le=ROSTER_AHEAD_DAYS + 1)] = 7) -> dict[str, Any]:
    """The roster of a unit (yours by default) for `days` duty days from `start` (today's by default)."""
    code = _duty_unit(principal, unit_code)
    first = start or duty_day(container.service.clock())
    if not date(2000, 1, 1) <= first <= date(2100, 1, 1):
        raise InvalidValue("start is a duty day between 2000 and 2100", field="start")
    wanted = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    found = container.store.get_many(("duty_day", str(duty_day_id(code, d))) for d in wanted)
    items = [found.get(("duty_day", str(duty_day_id(code, d)))) or {"id": None, "unit_code": code, "day": d, "leader": None, "officers": []}
             for d in wanted]
    return page(items, len(items), position, len(items), 0) | {"unit_code": code, "today": duty_day(container.service.clock()).isoformat(),
                                                               "ahead_days": ROSTER_AHEAD_DAYS}


@router.get("/roster/now")
def on_duty_now(container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    """Who is on duty now at the viewer's duty desk (the board's header): its unit's, or the district's for an admin."""
    code = container.settings.district_code if principal.is_admin else principal.unit_code
    unit = container.store.get("unit", code) or {}
    day = duty_day(container.service.clock()).isoformat()
    doc = container.store.get("duty_day", str(duty_day_id(code, day))) if unit.get("kind") in DUTY_KINDS else None
    return {"unit_code": code, "unit_name": unit.get("name", ""), "day": day, "scheduled": doc is not None,
            "leader": doc["leader"] if doc else None, "officers": doc["officers"] if doc else [], "position": position}


# -- handovers -----------------------------------------------------------------
def shift_events(container: Any, unit_code: str, since: datetime, upto: int) -> list[dict[str, Any]]:
    """The log's events of a unit's subtree from `since` up to position `upto`, in order, named for the page."""
    notes = list(container.log.read(max(0, upto - SHIFT_EVENTS_SCANNED), SHIFT_EVENTS_SCANNED))
    events = [(n, container.log.decode(n)) for n in notes if n.id <= upto]
    events = [(n, e) for n, e in events if e.timestamp >= since]
    nameless = {str(n.originator_id) for n, e in events if not isinstance(getattr(e, "unit_code", None), str)}
    docs = container.store.get_many((k, i) for k in UNIT_OF_KINDS for i in nameless)
    unit_of = {i: d for (k, i), d in docs.items()}
    out = []
    for n, e in events:
        doc = unit_of.get(str(n.originator_id)) or {}
        code = getattr(e, "unit_code", None) if isinstance(getattr(e, "unit_code", None), str) else doc.get("unit_code")
        if not code or not within(unit_code, code):
            continue
        by = getattr(e, "by", None)
        out.append({"position": n.id, "time": e.timestamp.isoformat(), "type": event_type(n.topic).removeprefix(TYPE_PREFIX),
                    "subject": str(n.originator_id), "unit_code": code,
                    "title": getattr(e, "title", None) or doc.get("title") or doc.get("incident_title") or doc.get("name") or "",
                    "by": (by.name or by.user) if by is not None else ""})
    return out


def _generated(container: Any, unit_code: str, now: datetime) -> list[dict[str, Any]]:
    prefix = scope_prefix(unit_code)
    incidents, _ = container.store.list("incident", unit_prefix=prefix, statuses=["reported", "verified", "controlled"], limit=100_000)
    dispatches, _ = container.store.list("dispatch", unit_prefix=prefix, statuses=["ordered"], limit=100_000)
    schedules, _ = container.store.list("report_schedule", unit_prefix=prefix, statuses=["open"], limit=100_000)
    return open_items(incidents, dispatches, schedules, now, container.settings.verified_report_days)


@router.get("/handovers/draft")
def handover_draft(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                   unit_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None) -> dict[str, Any]:
    """What a handover signed now would carry: the open items and the shift's events so far."""
    code = _duty_unit(principal, unit_code)
    now = container.service.clock()
    day = duty_day(now)
    since = shift_starts_at(day)
    return {"unit_code": code, "day": day.isoformat(), "shift_from": since.isoformat(), "open_items": _generated(container, code, now),
            "events": shift_events(container, code, since, container.log.max_position()), "position": position}


@router.post("/handovers", status_code=201, response_model=Accepted)
def sign_handover(body: HandoverIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """The outgoing officer signs the shift over, with what is still open (generated now) and notes."""
    if ctx.principal.can_read("handover", body.unit_code):
        items = _generated(container, body.unit_code, container.service.clock())
    else:
        items = []  # out of scope: the command is refused (forbidden) before anything is read
    return answer(container.service.handle(ctx, c.SignHandover(body.unit_code, items, body.notes, body.day)), created=True)


@router.post("/handovers/{handover_id}/confirm", response_model=Accepted)
def confirm_handover(handover_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    """The incoming officer confirms (not the one who signed): the alarm of an unconfirmed handover clears."""
    return answer(container.service.handle(ctx, c.ConfirmHandover(handover_id, body.note if body else "")))


@router.get("/handovers")
def list_handovers(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                   status: Annotated[list[str] | None, Query()] = None, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "handover", statuses=status, limit=limit, offset=offset)
    return page(items, total, position, limit, offset)


@router.get("/handovers/{handover_id}")
def get_handover(handover_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    """The handover with the events of its shift, listed from the log."""
    doc = visible_doc(container.store, principal, "handover", str(handover_id), "handover")
    return doc | {"events": shift_events(container, doc["unit_code"], datetime.fromisoformat(doc["shift_from"]), doc["to_position"])}
