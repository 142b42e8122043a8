"""双重预防: risk points, inspections, hidden dangers (the rectification cycle to 销号), their statistics,
and the evidence files (photos, documents) their steps name by SHA-256."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from domain.common import InvalidValue
from domain.units import scope_prefix
from gateway.context import not_found
from gateway.entrypoints.api.common import Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import (
    Accepted, AssessmentIn, AssignIn, ControlsIn, DeadlineIn, HiddenDangerIn, InspectionIn, NoteIn, ProgressIn, RectifiedIn,
    RejectIn, RiskPointIn,
)
from gateway.adapters.evidence import UnsupportedType, sniff
from gateway.errors import PayloadTooLarge, UnsupportedMediaType
from gateway.service_layer import commands as c
from projections.prevention import danger_stats, is_overdue
from projections.store import ListFilter

router = APIRouter(tags=["双重预防"])


def _enum(value: Any) -> Any:
    return getattr(value, "value", value)


# -- risk points ---------------------------------------------------------------------
@router.get("/risk-points")
def list_risk_points(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                     level: Annotated[list[str] | None, Query()] = None, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "risk_point", statuses=level, limit=limit, offset=offset)
    return page(items, total, position, limit, offset)


@router.get("/risk-points/{risk_point_id}")
def get_risk_point(risk_point_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "risk_point", str(risk_point_id), "risk point")


@router.post("/risk-points", status_code=201, response_model=Accepted)
def register_risk_point(body: RiskPointIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    fields = {k: _enum(v) for k, v in body.model_dump().items()}
    return answer(container.service.handle(ctx, c.RegisterRiskPoint(**fields)), created=True)


@router.post("/risk-points/{risk_point_id}/assessments", response_model=Accepted)
def assess_risk_point(risk_point_id: UUID, body: AssessmentIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    fields = {k: _enum(v) for k, v in body.model_dump().items()}
    return answer(container.service.handle(ctx, c.AssessRiskPoint(risk_point_id=risk_point_id, **fields)))


@router.post("/risk-points/{risk_point_id}/controls", response_model=Accepted)
def set_controls(risk_point_id: UUID, body: ControlsIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.SetRiskControls(risk_point_id, body.model_dump()["controls"])))


# -- inspections -----------------------------------------------------------------------
@router.get("/inspections")
def list_inspections(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, limit: Limit = 100,
                     offset: Offset = 0) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "inspection", limit=limit, offset=offset)
    return page(items, total, position, limit, offset)


@router.post("/inspections", status_code=201, response_model=Accepted)
def record_inspection(body: InspectionIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    data = body.model_dump(mode="json")
    findings = [{k: v for k, v in f.items()} for f in data["findings"]]
    command = c.RecordInspection(unit_code=body.unit_code, kind=body.kind.value, inspected_at=body.inspected_at,
                                 checklist=data["checklist"], risk_point_ids=list(body.risk_point_ids), site=body.site,
                                 inspectors=body.inspectors, findings=findings)
    return answer(container.service.handle(ctx, command), created=True)


# -- hidden dangers --------------------------------------------------------------------
@router.get("/hidden-dangers")
def list_hidden_dangers(
    container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None,
    grade: Annotated[str | None, Query(pattern="^(general|major)$")] = None,
    street: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="a street's (or any unit's) code: its subtree")] = None,
    overdue: Annotated[bool | None, Query(description="only those past their rectification deadline")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    now = container.service.clock()
    # The street is an indexed column (its subtree, within the caller's scope); grade and overdue are judged here.
    narrowed = ListFilter(unit_prefix=scope_prefix(street)) if street else None
    if grade is None and overdue is None:
        items, total = scoped_list(container.store, principal, "hidden_danger", statuses=status, limit=limit, offset=offset,
                                   filters=narrowed)
    else:
        every, _ = scoped_list(container.store, principal, "hidden_danger", statuses=status, limit=1_000_000, filters=narrowed)
        every = [d for d in every if (grade is None or d["grade"] == grade) and (overdue is None or is_overdue(d, now) == overdue)]
        items, total = every[offset : offset + limit], len(every)
    for d in items:
        d["overdue"] = is_overdue(d, now)
    return page(items, total, position, limit, offset) | {"at": now.isoformat()}


@router.get("/hidden-dangers/stats")
def hidden_danger_stats(
    container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
    start: Annotated[date | None, Query(description="first day found (Asia/Shanghai), inclusive")] = None,
    end: Annotated[date | None, Query(description="last day found, inclusive")] = None,
) -> dict[str, Any]:
    """Per street over the hidden dangers found in the period: found, rectified, on time (rate), overdue,
    重大 found and closed, average days from found to 销号. From the `hidden_danger` read model."""
    if start and end and end < start:
        raise InvalidValue("end is before start", field="end")
    now = container.service.clock()
    docs, _ = scoped_list(container.store, principal, "hidden_danger", limit=10_000_000)
    return {"position": position, "at": now.isoformat(), "start": start and start.isoformat(), "end": end and end.isoformat(),
            "streets": danger_stats(docs, now, start, end)}


@router.get("/hidden-dangers/{danger_id}")
def get_hidden_danger(danger_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    doc = visible_doc(container.store, principal, "hidden_danger", str(danger_id), "hidden danger")
    return doc | {"overdue": is_overdue(doc, container.service.clock())}


@router.post("/hidden-dangers", status_code=201, response_model=Accepted)
def report_hidden_danger(body: HiddenDangerIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    fields = {k: _enum(v) for k, v in body.model_dump().items()}
    return answer(container.service.handle(ctx, c.ReportHiddenDanger(**fields)), created=True)


@router.post("/hidden-dangers/{danger_id}/assign", response_model=Accepted)
def assign(danger_id: UUID, body: AssignIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.AssignHiddenDanger(
        danger_id, body.rectifier, body.responsible, body.deadline, body.measures,
        body.five.model_dump() if body.five else None, body.supervision)))


@router.post("/hidden-dangers/{danger_id}/progress", response_model=Accepted)
def progress(danger_id: UUID, body: ProgressIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.NoteDangerProgress(danger_id, body.note, list(body.evidence))))


@router.post("/hidden-dangers/{danger_id}/deadline", response_model=Accepted)
def move_deadline(danger_id: UUID, body: DeadlineIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.MoveDangerDeadline(danger_id, body.deadline, body.reason)))


@router.post("/hidden-dangers/{danger_id}/rectified", response_model=Accepted)
def rectified(danger_id: UUID, body: RectifiedIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ReportDangerRectified(danger_id, list(body.evidence), body.note)))


@router.post("/hidden-dangers/{danger_id}/verify", response_model=Accepted)
def verify(danger_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.VerifyHiddenDanger(danger_id, body.note if body else "")))


@router.post("/hidden-dangers/{danger_id}/reject", response_model=Accepted)
def reject(danger_id: UUID, body: RejectIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RejectHiddenDanger(danger_id, body.reason, body.deadline)))


@router.post("/hidden-dangers/{danger_id}/close", response_model=Accepted)
def close(danger_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.CloseHiddenDanger(danger_id, body.note if body else "")))


# -- evidence files ----------------------------------------------------------------------
@router.post("/evidence", status_code=201)
async def upload_evidence(
    request: Request, container: ContainerDep, principal: PrincipalDep,
    unit_code: Annotated[str, Form(pattern=r"^[0-9]{12}$", description="the unit of the record the files are for")],
    files: Annotated[list[UploadFile], File(description="JPEG, PNG or PDF")],
    keep_location: Annotated[bool, Form(description="keep GPS metadata (stripped by default)")] = False,
) -> JSONResponse:
    """Upload photos or documents for a record of `unit_code`; answers their SHA-256 names to put in a command.

    Refused as a whole, with nothing kept: more files than allowed or one too large (413), one that is not
    JPEG, PNG or PDF by its bytes, whatever its name (415)."""
    s = container.settings
    principal.check_unit(unit_code, "the files' unit")
    if len(files) > s.evidence_max_files:
        raise PayloadTooLarge(f"at most {s.evidence_max_files} files per upload", reason="too_many_files")
    blobs = []
    for f in files:
        data = await f.read(s.evidence_max_bytes + 1)
        if len(data) > s.evidence_max_bytes:
            raise PayloadTooLarge(f"{f.filename}: files are limited to {s.evidence_max_bytes} bytes", reason="file_too_large")
        try:
            sniff(data)
        except UnsupportedType as e:
            raise UnsupportedMediaType(f"{f.filename}: {e}", reason="type") from None
        blobs.append((data, (f.filename or "file")[:200]))
    kept = [container.evidence.put(data, unit_code=unit_code, name=name, uploaded_by=principal.username, keep_location=keep_location)
            for data, name in blobs]
    out = [{k: m[k] for k in ("sha256", "media_type", "size", "name", "unit_code")} for m in kept]
    return JSONResponse({"files": out}, status_code=201)


@router.get("/evidence/{sha256}")
def get_evidence(sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], container: ContainerDep, principal: PrincipalDep) -> Response:
    """The file, to accounts whose scope covers the unit it was uploaded for (others: not found)."""
    meta = next((m for m in container.evidence.records_of(sha256) if principal.can_see_unit(m["unit_code"])), None)
    if meta is None:
        raise not_found("file", sha256)
    content = container.evidence.content(sha256)
    if content is None:
        raise not_found("file", sha256)
    headers = {"Cache-Control": "private, max-age=86400, immutable", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox", "ETag": f'"{sha256}"'}
    return Response(content, media_type=meta["media_type"], headers=headers)


