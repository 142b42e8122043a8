"""Yingji domain: aggregates, their events and invariants.

Pure: no I/O, and no imports from `projections` or `gateway`. Each aggregate
keeps *decide* (public command methods that check invariants and raise a
`DomainError`) apart from *apply* (private `@event` methods that only change
state), so replaying stored events never re-runs a check.

Every stored event type carries a version, the library's `class_version`,
declared below each aggregate with `domain.common.event_versions`; today every
type is at version 1 (also what the library assumes of an event stored without
one). History is never edited: a new shape is a new version with an upcaster
(`upcast_vN_vN+1`), and the old events are read back as the new shape. Each
aggregate's own `class_version` versions its snapshots the same way.
The published shape of each version is a JSON Schema in docs/events/.
"""
