"""Units: the 12-digit code helpers and the Unit aggregate (register, update parts)."""

from __future__ import annotations

import pytest

from domain.common import DomainError, natural_id
from domain.units import (
    STREET_PARTS,
    VILLAGE_PARTS,
    Unit,
    ancestors,
    code_level,
    parent_code,
    scope_prefix,
    unit_id,
    within,
)
from tests.unit.helpers import (
    ACTOR,
    DISTRICT,
    FIELD,
    OTHER_STREET,
    STREET,
    VILLAGE,
    given,
    new_incident,
    new_unit,
    raises,
    then_events,
    then_one,
)

OTHER_VILLAGE = "411099001002"
VILLAGE_OF_OTHER_STREET = "411099002001"
OTHER_DISTRICT = "411098000000"
BAD_CODES = ["", "41109900100", "4110990010011", "41109900100a", "4110990O1001", " 11099001001", "411099 01001"]
# Not ASCII digits, or a trailing newline: `\d` matches any Unicode digit and `$` matches before a final "\n".
NON_ASCII_CODES = ["４１１０９９００１００１", "٤١١٠٩٩٠٠١٠٠١", "411099001001\n"]


# -- code helpers ------------------------------------------------------------
class TestCodeHelpers:
    @pytest.mark.parametrize(
        ("code", "level"),
        [
            (DISTRICT, 0),
            (STREET, 1),
            (OTHER_STREET, 1),
            ("411099100000", 1),
            (VILLAGE, 2),
            ("411099001999", 2),
            ("411099000001", 2),
            ("000000000000", 0),
        ],
    )
    def test_code_level(self, code, level):
        assert code_level(code) == level

    @pytest.mark.parametrize("code", BAD_CODES)
    def test_code_level_of_a_bad_code_is_a_validation_error(self, code):
        with raises("validation_error") as info:
            code_level(code)
        assert info.value.extra["field"] == "code"

    @pytest.mark.parametrize(("code", "prefix"), [(DISTRICT, "411099"), (STREET, "411099001"), (VILLAGE, VILLAGE)])
    def test_scope_prefix(self, code, prefix):
        assert scope_prefix(code) == prefix

    @pytest.mark.parametrize("code", BAD_CODES)
    def test_scope_prefix_of_a_bad_code_is_a_validation_error(self, code):
        with raises("validation_error"):
            scope_prefix(code)

    @pytest.mark.parametrize(
        ("code", "parent"),
        [(DISTRICT, None), (STREET, DISTRICT), (OTHER_STREET, DISTRICT), (VILLAGE, STREET), (VILLAGE_OF_OTHER_STREET, OTHER_STREET)],
    )
    def test_parent_code(self, code, parent):
        assert parent_code(code) == parent

    def test_parent_code_of_a_bad_code_is_a_validation_error(self):
        with raises("validation_error"):
            parent_code("123")

    @pytest.mark.parametrize(
        ("code", "chain"),
        [(DISTRICT, [DISTRICT]), (STREET, [STREET, DISTRICT]), (VILLAGE, [VILLAGE, STREET, DISTRICT])],
    )
    def test_ancestors_nearest_first(self, code, chain):
        assert ancestors(code) == chain

    def test_ancestors_of_a_bad_code_is_a_validation_error(self):
        with raises("validation_error"):
            ancestors("4110990010")

    @pytest.mark.parametrize(
        ("scope", "code", "inside"),
        [
            (DISTRICT, DISTRICT, True),
            (DISTRICT, STREET, True),
            (DISTRICT, VILLAGE, True),
            (DISTRICT, VILLAGE_OF_OTHER_STREET, True),
            (STREET, STREET, True),
            (STREET, VILLAGE, True),
            (STREET, OTHER_VILLAGE, True),
            (STREET, DISTRICT, False),
            (STREET, OTHER_STREET, False),
            (STREET, VILLAGE_OF_OTHER_STREET, False),
            (VILLAGE, VILLAGE, True),
            (VILLAGE, OTHER_VILLAGE, False),
            (VILLAGE, STREET, False),
            (VILLAGE, DISTRICT, False),
            (OTHER_DISTRICT, VILLAGE, False),
            (DISTRICT, "411098001001", False),
        ],
    )
    def test_within(self, scope, code, inside):
        assert within(scope, code) is inside

    @pytest.mark.parametrize("bad", BAD_CODES)
    def test_within_is_false_for_bad_codes_on_either_side(self, bad):
        assert within(bad, VILLAGE) is False
        assert within(DISTRICT, bad) is False
        assert within(bad, bad) is False

    @pytest.mark.parametrize("code", NON_ASCII_CODES, ids=["fullwidth", "arabic_indic", "trailing_newline"])
    def test_code_level_refuses_codes_that_are_not_12_ascii_digits(self, code):
        with raises("validation_error"):
            code_level(code)

    @pytest.mark.parametrize("code", NON_ASCII_CODES, ids=["fullwidth", "arabic_indic", "trailing_newline"])
    def test_an_incident_cannot_be_placed_at_a_code_that_is_not_12_ascii_digits(self, code):
        with raises("validation_error"):
            new_incident(unit_code=code)

    def test_within_agrees_with_ancestors(self):
        codes = [DISTRICT, STREET, OTHER_STREET, VILLAGE, OTHER_VILLAGE, VILLAGE_OF_OTHER_STREET]
        for scope in codes:
            for code in codes:
                assert within(scope, code) == (scope in ancestors(code)), (scope, code)


class TestNaturalIds:
    def test_unit_id_is_derived_from_the_code(self):
        assert unit_id(VILLAGE) == unit_id(VILLAGE) == natural_id("unit", VILLAGE)
        assert unit_id(VILLAGE) != unit_id(OTHER_VILLAGE)
        assert natural_id("unit", VILLAGE) != natural_id("team", VILLAGE)

    def test_registering_a_unit_uses_its_natural_id(self):
        assert new_unit(STREET).id == unit_id(STREET)
        assert new_unit(STREET).id == new_unit(STREET).id


# -- the aggregate -----------------------------------------------------------
class TestRegister:
    def test_register_emits_registered_with_every_field(self):
        u = Unit.register(
            code=VILLAGE, name=" 东村 ", kind="village", by=FIELD, lat=34.5, lon=114.5, parts={"persuader_team": 6, "info_reporter": 1}
        )
        e = then_one(u, "Unit.Registered")
        assert e.originator_id == unit_id(VILLAGE)
        assert (e.code, e.name, e.kind, e.lat, e.lon, e.parts, e.by) == (
            VILLAGE, "东村", "village", 34.5, 114.5, {"persuader_team": 6, "info_reporter": 1}, FIELD
        )
        assert u.parent_code == STREET

    @pytest.mark.parametrize(
        ("code", "kind", "parent"),
        [(DISTRICT, "district", None), (STREET, "street", DISTRICT), (STREET, "cluster", DISTRICT),
         (VILLAGE, "village", STREET), (VILLAGE, "community", STREET)],
    )
    def test_each_kind_at_its_level(self, code, kind, parent):
        u = new_unit(code, kind)
        assert then_events(u) == ["Unit.Registered"]
        assert (u.kind, u.parent_code, u.parts) == (kind, parent, {})

    @pytest.mark.parametrize(
        ("code", "kind"),
        [(STREET, "district"), (VILLAGE, "district"), (DISTRICT, "street"), (VILLAGE, "street"),
         (VILLAGE, "cluster"), (DISTRICT, "village"), (STREET, "village"), (STREET, "community")],
    )
    def test_a_code_at_the_wrong_level_for_the_kind_is_a_validation_error(self, code, kind):
        with raises("validation_error") as info:
            new_unit(code, kind)
        assert info.value.extra["field"] == "code"

    @pytest.mark.parametrize("code", BAD_CODES)
    def test_bad_unit_code_is_a_validation_error(self, code):
        with raises("validation_error") as info:
            new_unit(code, "street")
        assert info.value.extra["field"] == "code"

    @pytest.mark.parametrize("name", ["", "  "])
    def test_empty_name_is_a_validation_error(self, name):
        with raises("validation_error") as info:
            new_unit(STREET, "street", name=name)
        assert info.value.extra["field"] == "name"

    def test_unknown_kind_is_refused(self):
        with pytest.raises((ValueError, DomainError)):
            new_unit(STREET, "province")

    def test_street_parts(self):
        parts = {p: 1 for p in STREET_PARTS}
        assert new_unit(STREET, "street", parts=parts).parts == parts

    def test_village_parts(self):
        parts = {p: 2 for p in VILLAGE_PARTS}
        assert new_unit(VILLAGE, "village", parts=parts).parts == parts

    @pytest.mark.parametrize(
        ("code", "kind", "part"),
        [(VILLAGE, "village", "warehouses"), (STREET, "street", "militia_team"), (DISTRICT, "district", "persuader_team"),
         (STREET, "cluster", "whatever")],
    )
    def test_a_part_of_another_level_is_a_validation_error(self, code, kind, part):
        with raises("validation_error") as info:
            new_unit(code, kind, parts={part: 1})
        assert info.value.extra["field"] == "parts"

    @pytest.mark.parametrize("value", [-1, True, False, 1.5, "2", None])
    def test_part_values_must_be_non_negative_integers(self, value):
        with raises("validation_error") as info:
            new_unit(STREET, "street", parts={"committee": 1, "warehouses": value})
        assert info.value.extra["field"] == "parts"

    def test_zero_is_a_valid_part_count(self):
        assert new_unit(STREET, "street", parts={"warehouses": 0}).parts == {"warehouses": 0}


class TestUpdateParts:
    def test_update_merges_parts(self):
        u = given(lambda: new_unit(STREET, "street", parts={"committee": 1, "office_staff": 5}))
        u.update_parts({"office_staff": 7, "warehouses": 2}, by=FIELD)
        e = then_one(u, "Unit.PartsUpdated")
        assert (e.parts, e.by) == ({"office_staff": 7, "warehouses": 2}, FIELD)
        assert u.parts == {"committee": 1, "office_staff": 7, "warehouses": 2}

    def test_update_with_a_part_of_another_level_is_a_validation_error(self):
        u = given(lambda: new_unit(VILLAGE, "village"))
        with raises("validation_error", u):
            u.update_parts({"persuader_team": 3, "command_platform": 1}, by=ACTOR)

    @pytest.mark.parametrize("value", [-1, True, 2.0])
    def test_update_with_a_bad_value_is_a_validation_error(self, value):
        u = given(lambda: new_unit(VILLAGE, "community", parts={"militia_team": 4}))
        with raises("validation_error", u):
            u.update_parts({"militia_team": value}, by=ACTOR)
        assert u.parts == {"militia_team": 4}
