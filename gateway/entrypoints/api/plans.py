"""预案与演练: plans and mechanism documents (register, revise, file 备案, retire), drills with their findings, and
each unit's readiness (plans on file, mechanisms recorded, the 2-year drill rule) as `projections.plans` reads it.

Scope is the one rule for records of a unit: a street reads and acts on its own and its villages' plans, the
district on all; a plan or drill out of scope is not found. The plan's document is a file of the evidence store
(POST /evidence for the plan's unit, then named by SHA-256) and is served by GET /evidence/{sha256}.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query

from domain.policy import local_day
from domain.units import scope_prefix
from gateway.entrypoints.api.common import Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, DrillIn, PlanFilingIn, PlanIn, PlanRetireIn, PlanRevisionIn, ResolveIn
from gateway.service_layer import commands as c
from projections.plans import DRILL, PLAN, UNIT_DRILLS, drill_findings, plan_state, unit_readiness
from projections.store import ListFilter

router = APIRouter(tags=["预案与演练"])

UnitQuery = Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="a unit's code: its subtree, within your scope")]


def _narrow(unit: str | None, **extra: Any) -> ListFilter:
    return ListFilter(unit_prefix=scope_prefix(unit) if unit else None, **extra)


@router.get("/plans")
def list_plans(
    container: ContainerDep, principal: PrincipalDep, position: ReadPosition, unit: UnitQuery = None,
    kind: Annotated[list[str] | None, Query(description="overall, special, mechanism")] = None,
    status: Annotated[list[str] | None, Query(description="active (default: all), retired")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Plans in scope, each with its standing today (`state`: within its revision cycle, on file, drill due or lapsed)."""
    today = local_day(container.service.clock())
    items, total = scoped_list(container.store, principal, PLAN, statuses=status, limit=limit, offset=offset,
                               filters=_narrow(unit, categories=tuple(kind or ())))
    return page([d | {"state": plan_state(d, today)} for d in items], total, position, limit, offset) | {"today": today.isoformat()}


@router.get("/plans/readiness")
def readiness(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, unit: UnitQuery = None) -> dict[str, Any]:
    """Per unit in scope: active plans' standing, an overall plan on file, the six mechanisms recorded and missing, the
    unit's last drill and its 2-year rule (`projections.plans.unit_readiness`)."""
    today = local_day(container.service.clock())
    narrowed = _narrow(unit)
    plans, _ = scoped_list(container.store, principal, PLAN, statuses=["active"], limit=10_000_000, filters=narrowed)
    records, _ = scoped_list(container.store, principal, UNIT_DRILLS, limit=10_000_000, filters=narrowed)
    return {"position": position, "today": today.isoformat(), "units": unit_readiness(plans, records, today)}


@router.get("/plans/{plan_id}")
def get_plan(plan_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    doc = visible_doc(container.store, principal, PLAN, str(plan_id), "plan")
    return doc | {"state": plan_state(doc, local_day(container.service.clock()))}


@router.post("/plans", status_code=201, response_model=Accepted)
def register_plan(body: PlanIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RegisterPlan(
        unit_code=body.unit_code, kind=body.kind.value, title=body.title, version=body.version, revised_on=body.revised_on,
        document=body.document, mechanism=body.mechanism.value if body.mechanism else None, hazard=body.hazard)), created=True)


@router.post("/plans/{plan_id}/revise", response_model=Accepted)
def revise_plan(plan_id: UUID, body: PlanRevisionIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RevisePlan(plan_id, body.version, body.revised_on, body.document, body.note,
                                                              body.title)))


@router.post("/plans/{plan_id}/file", response_model=Accepted)
def file_plan(plan_id: UUID, body: PlanFilingIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.FilePlan(plan_id, body.filed_with, body.filed_on, body.reference)))


@router.post("/plans/{plan_id}/retire", response_model=Accepted)
def retire_plan(plan_id: UUID, body: PlanRetireIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RetirePlan(plan_id, body.reason)))


@router.post("/plans/{plan_id}/drills", status_code=201, response_model=Accepted)
def record_drill(plan_id: UUID, body: DrillIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    findings = [f.model_dump(mode="json") for f in body.findings]
    return answer(container.service.handle(ctx, c.RecordDrill(
        plan_id=plan_id, kind=body.kind.value, held_on=body.held_on, scenario=body.scenario, participants=body.participants,
        participant_units=list(body.participant_units), people=[str(p) for p in body.people], findings=findings)), created=True)


@router.get("/drills")
def list_drills(
    container: ContainerDep, principal: PrincipalDep, position: ReadPosition, unit: UnitQuery = None,
    plan_id: Annotated[UUID | None, Query(description="the drills of one plan")] = None,
    status: Annotated[list[str] | None, Query(description="open (a finding unresolved), done")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Drills in scope, newest change first; exercise incidents (演练) are listed as drills too (`source: exercise`)."""
    items, total = scoped_list(container.store, principal, DRILL, statuses=status, limit=limit, offset=offset,
                               filters=_narrow(unit, ref_id=str(plan_id) if plan_id else None))
    return page(items, total, position, limit, offset)


@router.get("/drills/findings")
def list_drill_findings(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, unit: UnitQuery = None,
                        open_only: Annotated[bool, Query(alias="open")] = False) -> dict[str, Any]:
    """Every drill finding in scope as a rectification item (owner, deadline, resolved)."""
    drills, _ = scoped_list(container.store, principal, DRILL, limit=10_000_000, filters=_narrow(unit))
    items = [f for f in drill_findings(drills) if not (open_only and f["resolved"])]
    return {"position": position, "items": items, "total": len(items)}


@router.get("/drills/{drill_id}")
def get_drill(drill_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, DRILL, str(drill_id), "drill")


@router.post("/drills/{drill_id}/findings/{n}/resolve", response_model=Accepted)
def resolve_finding(drill_id: UUID, n: Annotated[int, Path(ge=1, le=1000)], body: ResolveIn, ctx: CommandCtx,
                    container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ResolveDrillFinding(drill_id, n, body.note)))

