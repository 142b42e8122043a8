"""Team: registered on duty; goes off and on duty; serves at most one dispatch at a time."""

from __future__ import annotations

import pytest

from domain.common import DomainError
from domain.teams import Team, TeamKind
from tests.unit.helpers import ACTOR, DISTRICT, FIELD, STREET, VILLAGE, given, new_team, raises, then_events, then_one, uid

D1, D2 = uid(1), uid(2)
off_duty = lambda t: t.set_duty(False, by=ACTOR)  # noqa: E731
assigned = lambda t: t.assign(D1, by=ACTOR)  # noqa: E731
released = lambda t: t.release(D1, by=ACTOR)  # noqa: E731


class TestRegister:
    def test_register_emits_registered_with_every_field(self):
        team = Team.register(
            name="  城关综合救援队 ", kind="comprehensive", unit_code=STREET, members=20, by=FIELD, leader="张三", phone="13800000000"
        )
        e = then_one(team, "Team.Registered")
        assert e.originator_id == team.id
        assert (e.name, e.kind, e.unit_code, e.members, e.leader, e.phone, e.by) == (
            "城关综合救援队", "comprehensive", STREET, 20, "张三", "13800000000", FIELD
        )
        assert team.on_duty is True
        assert team.current_dispatch_id is None and not team.is_busy

    @pytest.mark.parametrize("kind", [k.value for k in TeamKind if k != TeamKind.COMPREHENSIVE])
    def test_other_kinds_may_be_small(self, kind):
        assert then_events(new_team(kind=kind, members=1)) == ["Team.Registered"]

    @pytest.mark.parametrize("members", [1, 10, 19])
    def test_a_comprehensive_team_with_fewer_than_20_members_is_a_validation_error(self, members):
        with raises("validation_error") as info:
            new_team(kind="comprehensive", members=members)
        assert info.value.extra["field"] == "members"

    @pytest.mark.parametrize("members", [0, -1, True, False, 20.0, "20", None])
    def test_members_must_be_a_positive_integer(self, members):
        with raises("validation_error") as info:
            new_team(kind="militia", members=members)
        assert info.value.extra["field"] == "members"

    @pytest.mark.parametrize("name", ["", "   "])
    def test_empty_name_is_a_validation_error(self, name):
        with raises("validation_error") as info:
            new_team(name=name)
        assert info.value.extra["field"] == "name"

    @pytest.mark.parametrize("code", ["", "411099", "41109900100X", "4110990010001"])
    def test_bad_unit_code_is_a_validation_error(self, code):
        with raises("validation_error") as info:
            new_team(unit_code=code)
        assert info.value.extra["field"] == "unit_code"

    @pytest.mark.parametrize("code", [DISTRICT, STREET, VILLAGE])
    def test_a_team_may_belong_to_any_level(self, code):
        assert then_one(new_team(unit_code=code), "Team.Registered").unit_code == code

    def test_unknown_kind_is_refused(self):
        with pytest.raises((ValueError, DomainError)):
            new_team(kind="army")


class TestDuty:
    def test_go_off_duty(self):
        team = given(new_team)
        team.set_duty(False, by=FIELD)
        assert then_one(team, "Team.WentOffDuty").by == FIELD
        assert team.on_duty is False

    def test_go_back_on_duty(self):
        team = given(new_team, off_duty)
        team.set_duty(True, by=ACTOR)
        assert then_one(team, "Team.WentOnDuty").by == ACTOR
        assert team.on_duty is True

    def test_already_on_duty_is_an_invalid_transition(self):
        team = given(new_team)
        with raises("invalid_transition", team):
            team.set_duty(True, by=ACTOR)

    def test_already_off_duty_is_an_invalid_transition(self):
        team = given(new_team, off_duty)
        with raises("invalid_transition", team):
            team.set_duty(False, by=ACTOR)

    def test_a_busy_team_cannot_go_off_duty(self):
        team = given(new_team, assigned)
        with raises("invalid_transition", team) as info:
            team.set_duty(False, by=ACTOR)
        assert info.value.extra["dispatch_id"] == str(D1)

    def test_a_released_team_can_go_off_duty(self):
        team = given(new_team, assigned, released)
        team.set_duty(False, by=ACTOR)
        assert then_events(team) == ["Team.WentOffDuty"]


class TestAssignRelease:
    def test_assign_an_idle_team(self):
        team = given(new_team)
        team.assign(D1, by=ACTOR)
        e = then_one(team, "Team.Assigned")
        assert (e.dispatch_id, e.by) == (D1, ACTOR)
        assert team.current_dispatch_id == D1 and team.is_busy

    def test_assigning_an_off_duty_team_is_team_unavailable(self):
        team = given(new_team, off_duty)
        with raises("team_unavailable", team) as info:
            team.assign(D1, by=ACTOR)
        assert info.value.extra["team_id"] == str(team.id)

    @pytest.mark.parametrize("dispatch_id", [D1, D2])
    def test_assigning_a_busy_team_is_team_unavailable(self, dispatch_id):
        team = given(new_team, assigned)
        with raises("team_unavailable", team) as info:
            team.assign(dispatch_id, by=ACTOR)
        assert info.value.extra["dispatch_id"] == str(D1)

    def test_release_the_dispatch_being_served(self):
        team = given(new_team, assigned)
        team.release(D1, by=FIELD)
        e = then_one(team, "Team.Released")
        assert (e.dispatch_id, e.by) == (D1, FIELD)
        assert team.current_dispatch_id is None and not team.is_busy

    def test_releasing_another_dispatch_is_an_invalid_transition(self):
        team = given(new_team, assigned)
        with raises("invalid_transition", team):
            team.release(D2, by=ACTOR)

    def test_releasing_an_idle_team_is_an_invalid_transition(self):
        team = given(new_team)
        with raises("invalid_transition", team):
            team.release(D1, by=ACTOR)

    def test_release_twice_is_an_invalid_transition(self):
        team = given(new_team, assigned, released)
        with raises("invalid_transition", team):
            team.release(D1, by=ACTOR)

    def test_a_released_team_can_take_the_next_dispatch(self):
        team = given(new_team, assigned, released)
        team.assign(D2, by=ACTOR)
        assert then_events(team) == ["Team.Assigned"]
        assert team.current_dispatch_id == D2
