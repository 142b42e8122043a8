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
READINESS = readiness_reducer([TEAMS, WAREHOUSES, PEOPLE, TRAININGS, PLANS, UNIT_DRILL_RECORDS])
# n(...): the record's reducer also folds the notifications about it (projections.notifications).
READ_MODELS: tuple[Reducer, ...] = (n(UNITS), UNIT_IDS, INCIDENTS, TEAMS, n(DISPATCHES), WAREHOUSES, ALLOCATIONS, DIRECTIVES,
                                    DAILY_REPORTS, DAILY_STATUS, n(WARNINGS), n(RECEIPTS), DISASTER_REPORTS, n(REPORT_SCHEDULES),
                                    DUTY_DAYS, n(HANDOVERS), RISK_POINTS, INSPECTIONS, n(HIDDEN_DANGERS), READINESS, CAMPAIGNS,
                                    RECTIFICATIONS, PLANS, DRILLS, UNIT_DRILL_RECORDS, PEOPLE, TRAININGS)
KINDS = tuple(r.kind for r in READ_MODELS)
