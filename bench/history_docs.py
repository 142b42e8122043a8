"""A generated history of incidents, written straight into the read model (the projector's own write path).

Used by the search-at-scale test (tests/integration/test_search_at_scale.py) and bench/lists.py: N incident
documents as projections.incidents writes them (the fields the list filters and shows), over a year, in
42 villages of 6 streets, every category, level and status, with a rare word in 1 in 100 titles. Written
with `DocStore.commit` in batches, so the indexed columns are filled by the same code as in production
(projections.columns). Folding N generated events instead would measure the projector, not the search.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from domain.incidents import SUBTYPES
from projections.store import DocStore

STREETS = [f"4110990{s:02d}000" for s in range(1, 7)]
VILLAGES = [s[:9] + f"{v:03d}" for s in STREETS for v in range(1, 8)]
LEVELS = ["I", "II", "III", "IV"]
STATUSES = ["reported", "verified", "controlled", "closed", "dismissed"]
KINDS = {getattr(c, "value", c): list(subtypes) for c, subtypes in SUBTYPES.items()}
CATEGORIES = sorted(KINDS)
START = datetime(2025, 12, 1, tzinfo=UTC)
RARE = "泥石流预警点"  # in 1 in 100 titles: a text search with few hits


def incidents(n: int, seed: int = 7) -> list[dict[str, Any]]:
    return list(generate(n, seed))


def generate(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The documents one at a time (a million do not fit in memory as a list on a small machine)."""
    rnd = random.Random(seed)
    for k in range(n):
        category = rnd.choice(CATEGORIES)
        occurred = START + timedelta(minutes=rnd.randrange(365 * 24 * 60))
        village = rnd.choice(VILLAGES)
        title = f"{RARE}险情{k}" if k % 100 == 0 else f"第{k}号{rnd.choice(['积水', '火情', '滑坡', '交通事故', '停电'])}"
        yield {
            "id": str(uuid.UUID(int=rnd.getrandbits(128))), "title": title, "category": category,
            "subtype": rnd.choice(KINDS[category]),
            "level": rnd.choice(LEVELS), "status": rnd.choice(STATUSES), "unit_code": village,
            "address": f"{village[-3:]}组{rnd.randrange(1, 40)}号", "description": "",
            "occurred_at": occurred.isoformat(), "reported_at": occurred.isoformat(), "situation": {},
        }


def load(store: DocStore, docs: Iterable[dict[str, Any]], batch: int = 20_000) -> dict[str, int]:
    """Write the documents as the projector would (position k+1 for the k-th); answer their positions by id."""
    store.create_schema()
    positions: dict[str, int] = {}
    done = store.position()
    docs = iter(docs)
    while part := list(islice(docs, batch)):
        changes = {("incident", d["id"]): d for d in part}
        pos = {("incident", d["id"]): done + j + 1 for j, d in enumerate(part)}
        store.commit(changes, pos, done, done + len(part))
        done += len(part)
        positions |= {k[1]: v for k, v in pos.items()}
    return positions
