"""What the city link leaves out: the phones of the people register.

The relay mirrors the district's log to the city, event for event, so the city can follow every
incident, dispatch and report. The people register (domain.people) is the district's own contact
directory: its phones are personal data, read only within a unit's scope at the district, and the
city's platform needs none of them to follow the district's work (the duty desks' phones, which the
city does call, travel with the roster as before). So the relay blanks `phone` in person events:
the event, its id, position and every other field go as they are (the city still sees that a
reporter was registered, renamed, moved between posts), and the schema is unchanged (an empty
string). The log itself keeps the phone: `GET /events` (district-level accounts, in scope for
every person) and the backup export are the district's own copies and carry it.
"""

from __future__ import annotations

from typing import Any

from gateway.citylink.eventschemas import TYPE_PREFIX

# CloudEvent types whose data carries a person's phone.
PHONE_TYPES = frozenset({TYPE_PREFIX + "person.registered", TYPE_PREFIX + "person.contactupdated"})


def for_the_city(ce: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent as the city receives it: personal phones blanked."""
    if ce["type"] in PHONE_TYPES and ce["data"].get("phone"):
        return {**ce, "data": {**ce["data"], "phone": ""}}
    return ce
