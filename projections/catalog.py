"""Every read model, in the order the projector applies them (all see the state before the event)."""

from projections.allocations import ALLOCATIONS
from projections.directives import DIRECTIVES
from projections.disaster_reports import DISASTER_REPORTS, REPORT_SCHEDULES
from projections.dispatches import DISPATCHES
from projections.duty import DUTY_DAYS, HANDOVERS
from projections.incidents import INCIDENTS
from projections.plans import DRILLS, PLANS, UNIT_DRILL_RECORDS
from projections.prevention import HIDDEN_DANGERS, INSPECTIONS, RISK_POINTS
from projections.reducer import Reducer
from projections.reports import DAILY_REPORTS, DAILY_STATUS
from projections.teams import TEAMS
from projections.units import UNIT_IDS, UNITS
from projections.warehouses import WAREHOUSES
from projections.warnings import RECEIPTS, WARNINGS

READ_MODELS: tuple[Reducer, ...] = (UNITS, UNIT_IDS, INCIDENTS, TEAMS, DISPATCHES, WAREHOUSES, ALLOCATIONS, DIRECTIVES,
                                    DAILY_REPORTS, DAILY_STATUS, WARNINGS, RECEIPTS, DISASTER_REPORTS, REPORT_SCHEDULES, DUTY_DAYS,
                                    HANDOVERS, RISK_POINTS, INSPECTIONS, HIDDEN_DANGERS, PLANS, DRILLS,
                                    UNIT_DRILL_RECORDS)
KINDS = tuple(r.kind for r in READ_MODELS)
