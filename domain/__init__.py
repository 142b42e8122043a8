"""Yingji domain: aggregates, their events and invariants.

Pure: no I/O, and no imports from `projections` or `gateway`. Each aggregate
keeps *decide* (public command methods that check invariants and raise a
`DomainError`) apart from *apply* (private `@event` methods that only change
state), so replaying stored events never re-runs a check.
"""
