"""What makes an account consistent with the organisation, one rule for the API and the CLI alike.

- the account's unit exists (an admin at the district's own code may come before the district is
  registered: the first admin is made on a fresh store);
- an admin sits at the district; a reporter (灾害信息员) at a village or community, for it files;
- only a field account has a team, and it must have one: a team of the account's unit or below it,
  so a team's phone is never scoped to another street than the team's.
"""

from __future__ import annotations

from domain.common import InvalidValue
from domain.units import within
from gateway.errors import NotFound
from projections.store import DocStore

REPORTER_UNITS = ("village", "community")


def check_account_shape(store: DocStore, role: str, unit_code: str, team_id: str | None, district_code: str) -> None:
    """Refuse (validation_error / not_found) an account whose role, unit and team do not fit together."""
    unit = store.get("unit", unit_code)
    if unit is None and not (role == "admin" and unit_code == district_code):
        raise NotFound(f"unit {unit_code} not found")
    kind = (unit or {}).get("kind", "district")
    if role == "admin" and kind != "district":
        raise InvalidValue("an admin account belongs to the district, not to one of its units", field="unit_code")
    if role == "reporter" and kind not in REPORTER_UNITS:
        raise InvalidValue("a reporter account belongs to a village or community", field="unit_code")
    if role != "field":
        if team_id:
            raise InvalidValue(f"only field accounts have a team; a {role} account has none", field="team_id")
        return
    if not team_id:
        raise InvalidValue("a field account needs a team_id", field="team_id")
    team = store.get("team", team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    if not within(unit_code, str(team.get("unit_code") or "")):
        raise InvalidValue(f"team {team_id} belongs to unit {team.get('unit_code')}, outside the account's unit {unit_code}",
                           field="team_id")
