"""Incident: reported -> verified -> controlled -> closed, or dismissed; level and situation while open."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.common import DomainError
from domain.incidents import SITUATION_FIELDS, SUBTYPES, Category, Incident, Level
from tests.unit.helpers import ACTOR, FIELD, T0, VILLAGE, given, new_incident, raises, then_events, then_one

# -- commands, as given-steps ------------------------------------------------
verify = lambda i: i.verify(by=ACTOR)  # noqa: E731
control = lambda i: i.control(by=ACTOR)  # noqa: E731
close = lambda i: i.close("处置完毕", by=ACTOR)  # noqa: E731
dismiss = lambda i: i.dismiss("误报", by=ACTOR)  # noqa: E731

PATH_TO = {
    "reported": (),
    "verified": (verify,),
    "controlled": (verify, control),
    "closed": (verify, close),
    "closed_after_control": (verify, control, close),
    "dismissed": (dismiss,),
    "dismissed_after_verify": (verify, dismiss),
}
STATUS_OF = {
    "reported": "reported",
    "verified": "verified",
    "controlled": "controlled",
    "closed": "closed",
    "closed_after_control": "closed",
    "dismissed": "dismissed",
    "dismissed_after_verify": "dismissed",
}


def incident_in(path: str) -> Incident:
    inc = given(new_incident, *PATH_TO[path])
    assert inc.status == STATUS_OF[path]
    return inc


# -- report ------------------------------------------------------------------
class TestReport:
    def test_report_emits_reported_with_every_field(self):
        inc = Incident.report(
            category="accident",
            subtype="gas_leak",
            level="III",
            title="  燃气管道泄漏  ",
            unit_code=VILLAGE,
            occurred_at=T0,
            by=FIELD,
            description="小区燃气管道破裂",
            address="幸福路 12 号",
            lat=34.1,
            lon=114.2,
            source="12345 热线",
        )
        e = then_one(inc, "Incident.Reported")
        assert e.originator_id == inc.id
        assert e.originator_version == 1
        assert (e.category, e.subtype, e.level) == ("accident", "gas_leak", "III")
        assert e.title == "燃气管道泄漏"
        assert e.description == "小区燃气管道破裂"
        assert e.unit_code == VILLAGE
        assert e.address == "幸福路 12 号"
        assert (e.lat, e.lon) == (34.1, 114.2)
        assert e.occurred_at == T0
        assert e.source == "12345 热线"
        assert e.by == FIELD
        assert inc.status == "reported"
        assert inc.situation == {k: 0 for k in SITUATION_FIELDS}
        assert inc.is_open

    def test_source_defaults_to_the_reporting_user(self):
        e = then_one(new_incident(by=FIELD), "Incident.Reported")
        assert e.source == FIELD.user

    def test_enum_values_are_stored_as_plain_strings(self):
        inc = new_incident(category=Category.ACCIDENT, subtype="fire", level=Level.II)
        e = then_one(inc, "Incident.Reported")
        assert type(e.category) is str and e.category == "accident"
        assert type(e.level) is str and e.level == "II"

    @pytest.mark.parametrize(
        ("category", "subtype"), [(c, s) for c, subs in SUBTYPES.items() for s in subs]
    )
    def test_every_listed_subtype_is_accepted_for_its_category(self, category, subtype):
        inc = new_incident(category=str(category), subtype=subtype)
        assert then_events(inc) == ["Incident.Reported"]

    @pytest.mark.parametrize(
        ("category", "subtype"),
        [
            ("natural_disaster", "fire"),
            ("accident", "flood"),
            ("public_health", "mass_incident"),
            ("social_security", "epidemic"),
            ("accident", ""),
            ("accident", "Fire"),
        ],
    )
    def test_a_subtype_of_another_category_is_a_validation_error(self, category, subtype):
        with raises("validation_error") as info:
            new_incident(category=category, subtype=subtype)
        assert info.value.extra["field"] == "subtype"

    @pytest.mark.parametrize("title", ["", " ", "\t\n "])
    def test_empty_title_is_a_validation_error(self, title):
        with raises("validation_error") as info:
            new_incident(title=title)
        assert info.value.extra["field"] == "title"

    def test_naive_occurred_at_is_a_validation_error(self):
        with raises("validation_error") as info:
            new_incident(occurred_at=datetime(2026, 7, 20, 8, 30))
        assert info.value.extra["field"] == "occurred_at"

    @pytest.mark.parametrize("code", ["", "41109900100", "4110990010011", "41109900100a", "411099-01001", " 411099001001"])
    def test_bad_unit_code_is_a_validation_error(self, code):
        with raises("validation_error") as info:
            new_incident(unit_code=code)
        assert info.value.extra["field"] == "unit_code"

    @pytest.mark.parametrize("code", ["411099000000", "411099001000", "411099001001"])
    def test_an_incident_may_be_placed_at_any_level(self, code):
        assert then_one(new_incident(unit_code=code), "Incident.Reported").unit_code == code

    # Unknown enum values are refused (the API schema turns them into 422s before the domain sees them).
    def test_unknown_category_is_refused(self):
        with pytest.raises((ValueError, DomainError)):
            new_incident(category="alien_invasion")

    def test_unknown_level_is_refused(self):
        with pytest.raises((ValueError, DomainError)):
            new_incident(level="V")


# -- the transition table ----------------------------------------------------
# command -> (states it is allowed from, the event it emits, the status afterwards or None = unchanged)
COMMANDS = {
    "verify": (lambda i: i.verify(by=ACTOR), {"reported"}, "Incident.Verified", "verified"),
    "control": (lambda i: i.control(by=ACTOR), {"verified"}, "Incident.Controlled", "controlled"),
    "close": (
        lambda i: i.close("总结", by=ACTOR),
        {"verified", "controlled"},
        "Incident.Closed",
        "closed",
    ),
    "dismiss": (lambda i: i.dismiss("重复上报", by=ACTOR), {"reported", "verified"}, "Incident.Dismissed", "dismissed"),
    "change_level": (
        lambda i: i.change_level("I" if i.level != "I" else "II", "扩大", by=ACTOR),
        {"reported", "verified", "controlled"},
        "Incident.LevelChanged",
        None,
    ),
    "update_situation": (
        lambda i: i.update_situation({"injured": 1}, "", by=ACTOR),
        {"reported", "verified", "controlled"},
        "Incident.SituationUpdated",
        None,
    ),
}


@pytest.mark.parametrize("path", list(PATH_TO))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_transition_table(command, path):
    act, allowed, event_name, after = COMMANDS[command]
    inc = incident_in(path)
    before = inc.status
    if STATUS_OF[path] in allowed:
        act(inc)
        assert then_events(inc) == [event_name]
        assert inc.status == (after or before)
    else:
        with raises("invalid_transition", inc) as info:
            act(inc)
        assert info.value.extra["state"] == before


class TestVerify:
    def test_verify_a_reported_incident(self):
        inc = given(new_incident)
        inc.verify(by=FIELD, note="现场核实")
        e = then_one(inc, "Incident.Verified")
        assert (e.note, e.by, e.originator_version) == ("现场核实", FIELD, 2)
        assert inc.status == "verified"

    def test_verify_twice_is_an_invalid_transition(self):
        inc = given(new_incident, verify)
        with raises("invalid_transition", inc) as info:
            inc.verify(by=ACTOR)
        assert info.value.extra == {"state": "verified", "allowed_from": ["reported"]}


class TestChangeLevel:
    def test_change_level_records_previous_level_and_reason(self):
        inc = given(new_incident)
        inc.change_level("II", "伤亡人数增加", by=ACTOR)
        e = then_one(inc, "Incident.LevelChanged")
        assert (e.level, e.previous, e.reason, e.by) == ("II", "IV", "伤亡人数增加", ACTOR)
        assert inc.level == "II"

    def test_changing_to_the_same_level_is_a_validation_error(self):
        inc = given(new_incident)
        with raises("validation_error", inc) as info:
            inc.change_level("IV", "no change", by=ACTOR)
        assert info.value.extra["field"] == "level"

    def test_unknown_level_is_refused_and_changes_nothing(self):
        inc = given(new_incident)
        with pytest.raises((ValueError, DomainError)):
            inc.change_level("0", "?", by=ACTOR)
        assert inc.collect_events() == [] and inc.level == "IV"

    def test_level_of_a_closed_incident_cannot_change(self):
        inc = given(new_incident, verify, close)
        with raises("invalid_transition", inc):
            inc.change_level("I", "too late", by=ACTOR)


class TestSituation:
    def test_figures_are_merged_into_the_situation(self):
        inc = given(new_incident)
        inc.update_situation({"injured": 3, "evacuated": 120}, "转移群众", by=ACTOR)
        e = then_one(inc, "Incident.SituationUpdated")
        assert (e.figures, e.notes, e.by) == ({"injured": 3, "evacuated": 120}, "转移群众", ACTOR)
        inc.update_situation({"injured": 4}, "", by=ACTOR)
        assert then_events(inc) == ["Incident.SituationUpdated"]
        assert inc.situation == {"deaths": 0, "injured": 4, "missing": 0, "evacuated": 120, "affected": 0}

    def test_zero_figures_are_allowed(self):
        inc = given(new_incident, lambda i: i.update_situation({"missing": 2}, "", by=ACTOR))
        inc.update_situation({"missing": 0}, "", by=ACTOR)
        assert then_events(inc) == ["Incident.SituationUpdated"]
        assert inc.situation["missing"] == 0

    def test_a_note_alone_is_enough(self):
        inc = given(new_incident)
        inc.update_situation({}, "水位回落", by=ACTOR)
        assert then_one(inc, "Incident.SituationUpdated").figures == {}

    def test_event_figures_are_a_copy(self):
        inc = given(new_incident)
        figures = {"deaths": 1}
        inc.update_situation(figures, "", by=ACTOR)
        figures["deaths"] = 99
        assert then_one(inc, "Incident.SituationUpdated").figures == {"deaths": 1}
        assert inc.situation["deaths"] == 1

    @pytest.mark.parametrize("field", SITUATION_FIELDS)
    @pytest.mark.parametrize("value", [-1, -100, True, False, 1.0, "3", None])
    def test_negative_or_non_integer_figures_are_validation_errors(self, field, value):
        inc = given(new_incident)
        with raises("validation_error", inc) as info:
            inc.update_situation({"injured": 1, field: value}, "note", by=ACTOR)
        assert info.value.extra["field"] == field

    def test_unknown_figure_is_a_validation_error(self):
        inc = given(new_incident)
        with raises("validation_error", inc) as info:
            inc.update_situation({"injured": 1, "houses": 3}, "", by=ACTOR)
        assert info.value.extra["field"] == "figures"

    @pytest.mark.parametrize("notes", ["", "   "])
    def test_no_figures_and_no_note_is_a_validation_error(self, notes):
        inc = given(new_incident)
        with raises("validation_error", inc):
            inc.update_situation({}, notes, by=ACTOR)

    def test_situation_of_a_dismissed_incident_cannot_change(self):
        inc = given(new_incident, dismiss)
        with raises("invalid_transition", inc):
            inc.update_situation({"injured": 1}, "", by=ACTOR)


class TestControlCloseDismiss:
    def test_control_a_verified_incident(self):
        inc = given(new_incident, verify)
        inc.control(by=FIELD, note="险情得到控制")
        e = then_one(inc, "Incident.Controlled")
        assert (e.note, e.by) == ("险情得到控制", FIELD)
        assert inc.status == "controlled" and inc.is_open

    def test_control_a_reported_incident_is_an_invalid_transition(self):
        inc = given(new_incident)
        with raises("invalid_transition", inc):
            inc.control(by=ACTOR)

    @pytest.mark.parametrize("path", ["verified", "controlled"])
    def test_close_with_a_summary(self, path):
        inc = incident_in(path)
        inc.close("  堤坝加固完成，无人员伤亡  ", by=ACTOR)
        e = then_one(inc, "Incident.Closed")
        assert (e.summary, e.by) == ("堤坝加固完成，无人员伤亡", ACTOR)
        assert inc.status == "closed" and not inc.is_open

    def test_close_a_reported_incident_is_an_invalid_transition(self):
        inc = given(new_incident)
        with raises("invalid_transition", inc) as info:
            inc.close("summary", by=ACTOR)
        assert info.value.extra["allowed_from"] == ["controlled", "verified"]

    @pytest.mark.parametrize("summary", ["", "  "])
    def test_close_without_summary_is_a_validation_error(self, summary):
        inc = given(new_incident, verify)
        with raises("validation_error", inc) as info:
            inc.close(summary, by=ACTOR)
        assert info.value.extra["field"] == "summary"

    def test_state_is_checked_before_the_summary(self):
        inc = given(new_incident)
        with raises("invalid_transition", inc):
            inc.close("", by=ACTOR)

    @pytest.mark.parametrize("path", ["reported", "verified"])
    def test_dismiss_with_a_reason(self, path):
        inc = incident_in(path)
        inc.dismiss("  经核查为误报 ", by=FIELD)
        e = then_one(inc, "Incident.Dismissed")
        assert (e.reason, e.by) == ("经核查为误报", FIELD)
        assert inc.status == "dismissed" and not inc.is_open

    @pytest.mark.parametrize("reason", ["", " \n"])
    def test_dismiss_without_reason_is_a_validation_error(self, reason):
        inc = given(new_incident)
        with raises("validation_error", inc) as info:
            inc.dismiss(reason, by=ACTOR)
        assert info.value.extra["field"] == "reason"

    @pytest.mark.parametrize("path", ["controlled", "closed", "dismissed"])
    def test_dismiss_after_control_or_an_end_is_an_invalid_transition(self, path):
        inc = incident_in(path)
        with raises("invalid_transition", inc):
            inc.dismiss("reason", by=ACTOR)

    def test_close_twice_is_an_invalid_transition(self):
        inc = given(new_incident, verify, close)
        with raises("invalid_transition", inc):
            inc.close("again", by=ACTOR)
