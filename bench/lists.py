"""How a list search costs as the history grows: incident lists at 1k, 100k and 1M incidents.

    python -m bench.lists [--sizes 1000,100000,1000000] [--repeat 30] [--out bench/results/lists.json]

For each size, a SQLite read model is filled with a generated history (bench/history_docs.py, through
DocStore.commit like the projector) and each search of the records page is timed as the list route runs
it (`DocStore.list`: the page of 50 and the total), and its page alone; median and p90 in ms over
--repeat runs. `ratios` divides each size's median by the smallest size's: a page that costs what it
returns stays near 1; a total counted over the matches, or a date range sorted, grows with them.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from bench.history_docs import RARE, STREETS, VILLAGES, generate, load
from projections.columns import utc_key
from projections.jsoncodec import ENGINE_CODEC
from projections.store import DocStore, ListFilter

SEARCHES: dict[str, tuple[tuple[str, ...], ListFilter]] = {
    "newest": ((), ListFilter()),
    "text_rare": ((), ListFilter(text=RARE)),
    "street": ((), ListFilter(unit_prefix=STREETS[2][:9])),
    "village": ((), ListFilter(unit_prefix=VILLAGES[10])),
    "category": ((), ListFilter(categories=["accident"])),
    "level": ((), ListFilter(levels=["I"])),
    "status_open": (("reported", "verified"), ListFilter()),
    "dates_week": ((), ListFilter(since=utc_key("2026-03-01T00:00:00+08:00"), until=utc_key("2026-03-08T00:00:00+08:00"))),
    "combined": (("verified",), ListFilter(unit_prefix=STREETS[0][:9], categories=["natural_disaster"], levels=["II", "III"])),
}


def timed(fn: Any, repeat: int) -> dict[str, float]:
    fn()  # warm the page cache
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 3), "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 3)}


def measure(size: int, repeat: int, workdir: Path) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{workdir / f'rm-{size}.db'}", **ENGINE_CODEC)
    store = DocStore(engine)
    t0 = time.perf_counter()
    load(store, generate(size))
    loaded = time.perf_counter() - t0
    out: dict[str, Any] = {"load_s": round(loaded, 1)}
    for name, (statuses, f) in SEARCHES.items():
        total = store.list("incident", statuses=statuses, limit=50, filters=f)[1]
        with_total = timed(lambda s=statuses, f=f: store.list("incident", statuses=s, limit=50, filters=f), repeat)
        page = timed(lambda s=statuses, f=f: page_only(store, s, f), repeat)
        out[name] = {"matches": total, "list": with_total, "page_only": page}
    engine.dispose()
    return out


def page_only(store: DocStore, statuses: tuple[str, ...], f: ListFilter) -> None:
    from sqlalchemy import select

    with store.engine.connect() as conn:
        conn.execute(select(store.docs.c.body).where(store._where("incident", None, statuses, f))
                     .order_by(store.docs.c.position.desc(), store.docs.c.id).limit(50)).all()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--out")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result: dict[str, Any] = {"bench": "lists", "at": datetime.now(timezone.utc).isoformat(), "machine": platform.platform(),
                              "python": sys.version.split()[0], "store": "sqlite", "page": 50, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            result["sizes"][str(size)] = measure(size, args.repeat, Path(tmp))
            print(f"{size}: done", file=sys.stderr)
    base = result["sizes"][str(sizes[0])]
    result["ratios"] = {str(size): {name: {"list": round(result["sizes"][str(size)][name]["list"]["median_ms"] / max(base[name]["list"]["median_ms"], 1e-3), 2),
                                           "page_only": round(result["sizes"][str(size)][name]["page_only"]["median_ms"] / max(base[name]["page_only"]["median_ms"], 1e-3), 2)}
                                    for name in SEARCHES} for size in sizes[1:]}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
