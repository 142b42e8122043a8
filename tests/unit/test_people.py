"""The people register and training: given / when / then on the aggregates, the every-reporter-trained rule,
the read model's fold, and the relay's redaction of phones for the city."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from domain.people import POSTS_AT_LEVEL, Person, Post
from domain.readiness import PersonFact
from domain.training import TrainingSession, every_reporter_trained, untrained_reporters
from gateway.citylink.privacy import for_the_city
from projections.columns import filter_columns
from projections.fold import MemoryDocs
from tests.unit.helpers import ACTOR, DISTRICT, OTHER_STREET, STREET, VILLAGE, given, raises, then_events, then_one

TODAY = date(2026, 7, 20)


def reporter(**kw: object) -> Person:
    fields: dict[str, object] = dict(unit_code=VILLAGE, name="魏红霞", phone="13803740011", posts=["info_reporter"], by=ACTOR)
    fields.update(kw)
    return Person.register(**fields)  # type: ignore[arg-type]


def session(attendees: list[tuple], **kw: object) -> TrainingSession:
    fields: dict[str, object] = dict(unit_code=STREET, day=TODAY, today=TODAY, topic="灾情报送培训", hours=3, attendees=attendees, by=ACTOR)
    fields.update(kw)
    return TrainingSession.record(**fields)  # type: ignore[arg-type]


def test_posts_belong_to_a_level_and_each_is_held_once() -> None:
    assert Post.COMMITTEE_DIRECTOR in POSTS_AT_LEVEL[1] and Post.COMMITTEE_DIRECTOR not in POSTS_AT_LEVEL[2]
    assert Post.STATION_HEAD in POSTS_AT_LEVEL[2] and Post.STATION_HEAD not in POSTS_AT_LEVEL[1]
    assert then_one(reporter(posts=["station_deputy", "persuader"]), "Person.Registered").posts == ["station_deputy", "persuader"]
    for posts in (["committee_director"], [], ["persuader", "persuader"], ["chief"]):
        with raises("validation_error"):
            reporter(posts=posts)
    with raises("validation_error"):
        reporter(unit_code=STREET, posts=["station_head"])
    with raises("validation_error"):
        reporter(phone="")  # a directory entry has a phone
    with raises("validation_error"):
        reporter(posts=["persuader"], team_id=uuid4())  # a team only for a team post
    assert reporter(posts=["team_member", "militia"], team_id=uuid4()).team_id is not None


def test_contact_posts_account_and_leaving() -> None:
    p = given(reporter)
    p.update_contact("魏红霞", "13803740099", by=ACTOR)
    assert then_events(p) == ["Person.ContactUpdated"]
    with raises("validation_error", p):
        p.update_contact("魏红霞", "13803740099", by=ACTOR)  # nothing changes
    p.change_posts(["info_reporter", "persuader"], None, by=ACTOR)
    assert then_events(p) == ["Person.PostsChanged"]
    with raises("validation_error", p):
        p.link_account("xinxing", STREET, by=ACTOR)  # another unit's account
    with raises("validation_error", p):
        p.link_account("nobody", None, by=ACTOR)  # no such active account
    p.link_account("reporter", VILLAGE, by=ACTOR)
    assert then_one(p, "Person.AccountLinked").username == "reporter"
    with raises("validation_error", p):
        p.mark_left("  ", by=ACTOR)
    p.mark_left("调任", by=ACTOR)
    assert then_events(p) == ["Person.Left"] and p.status == "left"
    with raises("invalid_transition", p):
        p.mark_left("调任", by=ACTOR)
    with raises("invalid_transition", p):
        p.update_contact("魏红霞", "13803740000", by=ACTOR)


def test_a_session_is_held_by_a_unit_for_active_people_of_its_subtree() -> None:
    a, b = uuid4(), uuid4()
    s = session([(a, VILLAGE, "active")])
    assert (s.level, s.day) == ("street", TODAY.isoformat())
    assert session([(a, VILLAGE, "active")], unit_code=DISTRICT).level == "district"
    for attendees, kw in (([(a, OTHER_STREET[:9] + "001", "active")], {}), ([(a, VILLAGE, "left")], {}),
                          ([(a, VILLAGE, "active"), (a, VILLAGE, "active")], {}), ([], {}),
                          ([(a, VILLAGE, "active")], {"day": TODAY + timedelta(days=1)}),
                          ([(a, VILLAGE, "active")], {"hours": 0}), ([(a, VILLAGE, "active")], {"hours": True}),
                          ([(a, VILLAGE, "active")], {"topic": " "})):
        with raises("validation_error"):
            session(attendees, **kw)
    s = given(lambda: session([(a, VILLAGE, "active")]))
    with raises("validation_error", s):
        s.add_attendees([(a, VILLAGE, "active")], by=ACTOR)  # already there
    s.add_attendees([(b, STREET, "active")], by=ACTOR)
    assert then_one(s, "TrainingSession.AttendeesAdded").attendees == [b] and s.attendees == [a, b]


def test_every_reporter_attends_at_least_one_training() -> None:
    trained = PersonFact("魏红霞", ("info_reporter",), (TODAY - timedelta(days=30),))
    fresh = PersonFact("魏长河", ("info_reporter", "persuader"), ())
    later = PersonFact("魏国强", ("info_reporter",), (TODAY + timedelta(days=3),))  # not yet, as of today
    persuader = PersonFact("魏建军", ("persuader",), ())
    assert every_reporter_trained([trained, persuader], TODAY) and every_reporter_trained([], TODAY)
    assert [p.name for p in untrained_reporters([trained, fresh, later, persuader], TODAY)] == ["魏长河", "魏国强"]
    assert not every_reporter_trained([trained, fresh], TODAY)


def test_the_directory_document_carries_posts_as_tags_and_the_days_trained() -> None:
    p = reporter()
    s = session([(p.id, VILLAGE, "active")], day=TODAY - timedelta(days=2))
    later = session([(p.id, VILLAGE, "active")], unit_code=DISTRICT)
    docs = MemoryDocs().fold([*p.collect_events(), *s.collect_events(), *later.collect_events()])
    [doc] = docs.of_kind("person")
    assert doc["trained_on"] == [(TODAY - timedelta(days=2)).isoformat(), TODAY.isoformat()]
    assert doc["last_trained"] == TODAY.isoformat() and [t["id"] for t in doc["trainings"]] == [str(s.id), str(later.id)]
    columns = filter_columns("person", doc)
    assert columns[-1] == "|info_reporter|" and doc["phone"] not in (columns[-2] or "")  # searchable text holds no phone
    assert {t["attendee_count"] for t in docs.of_kind("training")} == {1}


def test_the_city_gets_person_events_without_phones() -> None:
    ce = {"type": "cn.gov.yingji.person.registered", "data": {"name": "魏红霞", "phone": "13803740011", "posts": ["info_reporter"]}}
    out = for_the_city(ce)
    assert out["data"] == {"name": "魏红霞", "phone": "", "posts": ["info_reporter"]} and ce["data"]["phone"] == "13803740011"
    duty = {"type": "cn.gov.yingji.dutyday.scheduled", "data": {"leader": {"name": "张", "phone": "13903740001"}}}
    assert for_the_city(duty) is duty  # the duty desks' phones go as before
