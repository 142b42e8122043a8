"""docs/prevention-events.md is what the golden log's 双重预防 events look like (one example per type)."""

from tests.golden import prevention_doc


def test_the_city_events_page_is_current_and_covers_every_type() -> None:
    assert prevention_doc.TARGET.read_text(encoding="utf-8") == prevention_doc.render(), \
        "stale: run `python -m tests.golden.prevention_doc`"


def test_every_prevention_event_type_the_domain_defines_is_on_the_page() -> None:
    import inspect

    from eventsourcing.domain import Aggregate

    from domain import prevention

    types = {f"{cls.__name__.lower()}.{name.lower()}" for cls in (prevention.RiskPoint, prevention.Inspection, prevention.HiddenDanger)
             for name, ev in vars(cls).items() if inspect.isclass(ev) and issubclass(ev, Aggregate.Event) and name not in ("Event", "Created")}
    assert types == set(prevention_doc.ORDER)
