"""Every read model, in the order the projector applies them (all see the state before the event)."""

from projections.allocations import ALLOCATIONS
from projections.campaigns import CAMPAIGNS, RECTIFICATIONS
from projections.directives import DIRECTIVES
from projections.disaster_reports import DISASTER_REPORTS, REPORT_SCHEDULES
from projections.dispatches import DISPATCHES
from projections.duty import DUTY_DAYS, HANDOVERS
from projections.incidents import INCIDENTS
from projections.plans import DRILLS, PLANS, UNIT_DRILL_RECORDS
from projections.notifications import with_notifications as n
from projections.people import PEOPLE, TRAININGS
from projections.prevention import HIDDEN_DANGERS, INSPECTIONS, RISK_POINTS
from projections.readiness import readiness_reducer
from projections.reducer import Reducer
from projections.reports import DAILY_REPORTS, DAILY_STATUS
from projections.teams import TEAMS
from projections.units import UNIT_IDS, UNITS
from projections.warehouses import WAREHOUSES
from projections.warnings import RECEIPTS, WARNINGS

# Readiness follows the read models that hold its facts (teams, warehouses, people, training, plans, drills).
FOLLOWED_BY_READINESS = (TEAMS, WAREHOUSES, PEOPLE, TRAININGS, PLANS, UNIT_DRILL_RECORDS)
READINESS = readiness_reducer(FOLLOWED_BY_READINESS)
# n(...): the record's reducer also folds the notifications about it (projections.notifications).
# Readiness comes after the read models it follows, so that it reads their changes rather than refolding.
READ_MODELS: tuple[Reducer, ...] = (n(UNITS), UNIT_IDS, INCIDENTS, TEAMS, n(DISPATCHES), WAREHOUSES, ALLOCATIONS, DIRECTIVES,
                                    DAILY_REPORTS, DAILY_STATUS, n(WARNINGS), n(RECEIPTS), DISASTER_REPORTS, n(REPORT_SCHEDULES),
                                    DUTY_DAYS, n(HANDOVERS), RISK_POINTS, INSPECTIONS, n(HIDDEN_DANGERS), CAMPAIGNS,
                                    RECTIFICATIONS, PLANS, DRILLS, UNIT_DRILL_RECORDS, PEOPLE, TRAININGS, READINESS)
KINDS = tuple(r.kind for r in READ_MODELS)


def _check_followers(read_models: tuple[Reducer, ...]) -> None:
    """A reducer that follows others reads their changes from the same event: they must be folded before it,
    by the very reducers it was built to follow (not a wrapped copy)."""
    for at, reducer in enumerate(read_models):
        before = {r.kind: r for r in read_models[:at]}
        for kind in reducer.follows:
            assert kind in before, f"{reducer.kind} follows {kind}, which must be folded before it"
    assert all(any(r is f for r in read_models) for f in FOLLOWED_BY_READINESS), "readiness follows READ_MODELS' own reducers"


_check_followers(READ_MODELS)
