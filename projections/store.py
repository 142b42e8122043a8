"""Read models persisted with SQLAlchemy, with each follower's position in the same transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from projections.columns import FILTER_COLUMNS, filter_columns
from projections.jsoncodec import dumps
from projections.reducer import Doc

metadata = MetaData()

def _docs_table(meta: MetaData, name: str, tag: str) -> Table:
    """The documents' table; `tag` names its indexes (unique per database, so a shadow table has its own)."""
    return Table(
        name,
        meta,
        Column("kind", String(32), primary_key=True),
        Column("id", String(64), primary_key=True),
        Column("unit_code", String(12), nullable=True),
        Column("status", String(32), nullable=True),
        Column("position", BigInteger, nullable=False),
        Column("body", JSON, nullable=False),
        # Filter columns filled from the body by projections.columns (the one list of what is indexed).
        Column("ref_id", String(64), nullable=True),
        Column("team_id", String(64), nullable=True),
        Column("category", String(32), nullable=True),
        Column("level", String(16), nullable=True),
        Column("at", String(32), nullable=True),
        Column("text", Text, nullable=True),
        Column("tags", Text, nullable=True),
        Index(f"ix_{tag}_kind_unit", "kind", "unit_code"),
        Index(f"ix_{tag}_kind_status", "kind", "status"),
        Index(f"ix_{tag}_kind_position", "kind", "position"),
        Index(f"ix_{tag}_kind_ref", "kind", "ref_id"),
        Index(f"ix_{tag}_kind_team", "kind", "team_id"),
        Index(f"ix_{tag}_kind_at", "kind", "at"),
    )


# The board's change log: every document change with the position that caused it,
# written with the documents. Gateways resume clients and fill bus gaps from it.
def _deltas_table(meta: MetaData, name: str) -> Table:
    return Table(
        name,
        meta,
        Column("position", BigInteger, primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("kind", String(32), nullable=False),
        Column("id", String(64), nullable=False),
        Column("doc", JSON, nullable=True),
    )


docs_table = _docs_table(metadata, "rm_docs", "rm_docs")
deltas_table = _deltas_table(metadata, "rm_deltas")
DELTA_RETENTION = 50_000  # positions of deltas kept; older resumes get a snapshot

positions_table = Table(
    "rm_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

PROJECTOR = "projector"
# A list's total is counted up to here; beyond it the answer says "more than COUNT_LIMIT". Counting every match
# of a broad filter over years of history cost more than the page it goes with (2.25 s at a million events);
# nobody pages through ten thousand rows, and the statistics count with their own projections.
COUNT_LIMIT = 10_000
_DOC_COLUMNS = ("kind", "id", "unit_code", "status", "position", "body", *FILTER_COLUMNS)
_DELTA_COLUMNS = ("position", "seq", "kind", "id", "doc")


@dataclass(frozen=True)
class ListFilter:
    """What a list may be narrowed by, each on an indexed column (projections.columns fills them)."""

    unit_prefix: str | None = None  # a street or village subtree, within the caller's own scope
    ref_id: str | None = None  # the incident a dispatch or allocation belongs to
    team_id: str | None = None
    categories: Sequence[str] = ()
    levels: Sequence[str] = ()
    since: str | None = None  # projections.columns.utc_key bounds on `at`, since inclusive, until exclusive
    until: str | None = None
    text: str | None = None  # a substring of the kind's searchable text
    tag: str | None = None  # one of the codes a record holds several of (a person's posts), matched whole
    after: tuple[int, str] | None = None  # keyset cursor: (position, id) of the last row already seen


class StalePosition(Exception):
    """Another follower moved the position: this one must stop, not overwrite."""


def _upsert(dialect: str, table: Table, keys: Sequence[str]) -> Any:
    """An upsert statement to execute with a list of rows (executemany: no per-value compilation)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return ins.on_conflict_do_update(
        index_elements=list(keys), set_={c.name: ins.excluded[c.name] for c in table.columns if c.name not in keys}
    )


class DocStore:
    def __init__(self, engine: Engine, docs: Table = docs_table, deltas: Table = deltas_table):
        self.engine = engine
        self.docs, self.deltas = docs, deltas
        self.dialect = engine.dialect.name
        self._upsert_docs = _upsert(self.dialect, self.docs, ["kind", "id"])
        # On SQLite the driver takes bulk rows as tuples with the JSON already written: skipping
        # SQLAlchemy's per-row bind processing halves the cost of a bulk upsert. (On PostgreSQL
        # SQLAlchemy's insertmanyvalues batching is the fast path already.)
        self._driver_rows = self.dialect == "sqlite"
        if self._driver_rows:
            upsert, insert = self._upsert_docs.compile(dialect=engine.dialect), self.deltas.insert().compile(dialect=engine.dialect)
            assert tuple(upsert.positiontup or ()) == _DOC_COLUMNS and tuple(insert.positiontup or ()) == _DELTA_COLUMNS
            self._upsert_docs_sql, self._insert_deltas_sql = str(upsert), str(insert)

    def create_schema(self) -> bool:
        """Create the tables that are missing; answer whether the documents' table has an older shape.

        Read models are derived: when their columns change (projections.columns.SCHEMA), the old
        tables keep serving (an older version's gateways still use them) until a rebuild beside
        them switches the new shape in (`init_schema` does it at `db init` and at start). A table
        with more columns than this version knows is a newer shape: left alone.
        """
        existing = inspect(self.engine)
        stale = existing.has_table(self.docs.name) and not {c.name for c in self.docs.columns} <= {
            c["name"] for c in existing.get_columns(self.docs.name)}
        metadata.create_all(self.engine)
        return stale

    # -- positions --------------------------------------------------------
    def position(self, name: str = PROJECTOR) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(positions_table.c.position).where(positions_table.c.name == name)).scalar()
        return int(value or 0)

    def check(self) -> int:
        """Read every read-model row and return how many there are; a damaged store raises here as
        any read of it would (readiness). On SQLite each document's body is read through."""
        with self.engine.connect() as conn:
            conn.execute(select(positions_table.c.position)).all()
            if self.dialect == "sqlite":
                row = conn.execute(select(func.count(), func.sum(func.length(self.docs.c.body)))).one()
                conn.execute(select(func.count(), func.max(self.deltas.c.position))).one()
            else:
                row = conn.execute(select(func.count(), func.max(self.docs.c.position))).one()
            return int(row[0] or 0)

    # -- reads -------------------------------------------------------------
    def get(self, kind: str, doc_id: str) -> Doc | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(self.docs.c.body).where(and_(self.docs.c.kind == kind, self.docs.c.id == doc_id))
            ).scalar()

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        keys = list(keys)
        if not keys:
            return {}
        found: dict[tuple[str, str], Doc] = {}
        with self.engine.connect() as conn:
            by_kind: dict[str, list[str]] = {}
            for kind, doc_id in keys:
                by_kind.setdefault(kind, []).append(doc_id)
            for kind, ids in by_kind.items():
                for i in range(0, len(ids), 500):
                    rows = conn.execute(
                        select(self.docs.c.id, self.docs.c.body).where(
                            and_(self.docs.c.kind == kind, self.docs.c.id.in_(ids[i : i + 500]))
                        )
                    )
                    for doc_id, body in rows:
                        found[(kind, doc_id)] = body
        return found

    def list(
        self,
        kind: str,
        *,
        unit_prefix: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        filters: ListFilter | None = None,
        count_limit: int = COUNT_LIMIT,
    ) -> tuple[list[Doc], int]:
        """A page of `kind`, newest change first, filtered on indexed columns only; and the total matching,
        counted up to `count_limit + 1` (a total above `count_limit` means "more than that")."""
        where = self._where(kind, unit_prefix, statuses, filters)
        page_where = where
        if filters is not None and filters.after is not None:  # keyset: rows after the last one seen
            position, doc_id = filters.after
            page_where = and_(where, or_(self.docs.c.position < position,
                                         and_(self.docs.c.position == position, self.docs.c.id > doc_id)))
        with self.engine.connect() as conn:
            matching = select(literal(1)).select_from(self.docs).where(where).limit(count_limit + 1).subquery()
            total = conn.execute(select(func.count()).select_from(matching)).scalar() or 0
            rows = conn.execute(
                select(self.docs.c.body).where(page_where).order_by(self.docs.c.position.desc(), self.docs.c.id)
                .limit(limit).offset(offset)
            ).scalars()
            return list(rows), int(total)

    def cursor_of(self, kind: str, doc_id: str) -> tuple[int, str] | None:
        """The keyset position of one document (for the `next` link of a page)."""
        with self.engine.connect() as conn:
            position = conn.execute(select(self.docs.c.position).where(
                and_(self.docs.c.kind == kind, self.docs.c.id == doc_id))).scalar()
        return None if position is None else (int(position), doc_id)

    def _where(self, kind: str, unit_prefix: str | None, statuses: Sequence[str] | None, filters: ListFilter | None) -> Any:
        c = self.docs.c
        cond = [c.kind == kind]
        if unit_prefix:
            cond.append(c.unit_code.like(unit_prefix + "%"))
        if statuses:
            cond.append(c.status.in_(list(statuses)))
        f = filters or ListFilter()
        if f.unit_prefix:
            cond.append(c.unit_code.like(f.unit_prefix + "%"))
        for column, value in ((c.ref_id, f.ref_id), (c.team_id, f.team_id)):
            if value is not None:
                cond.append(column == value)
        for column, values in ((c.category, f.categories), (c.level, f.levels)):
            if values:
                cond.append(column.in_(list(values)))
        if f.since is not None:
            cond.append(c.at >= f.since)
        if f.until is not None:
            cond.append(c.at < f.until)
        if f.text:
            # Literal substring: LIKE's wildcards in the query are escaped, not obeyed.
            needle = f.text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            cond.append(c.text.like(f"%{needle}%", escape="\\"))
        if f.tag:
            code = f.tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("|", "")
            cond.append(c.tags.like(f"%|{code}|%", escape="\\"))
        return and_(*cond)

    def snapshot(self, kinds: Sequence[str], name: str = PROJECTOR) -> tuple[int, list[tuple[str, Doc]]]:
        """The documents of `kinds` and the position they are at, read in one transaction."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                position = conn.execute(select(positions_table.c.position).where(positions_table.c.name == name)).scalar()
                rows = conn.execute(
                    select(self.docs.c.kind, self.docs.c.body)
                    .where(self.docs.c.kind.in_(list(kinds)))
                    .order_by(self.docs.c.kind, self.docs.c.id)
                )
                return int(position or 0), [(k, b) for k, b in rows]

    # -- writes ------------------------------------------------------------
    def deltas_after(self, after: int, upto: int | None = None, limit: int = 100_000) -> list[dict[str, Any]]:
        """Recorded document changes with position > after (and <= upto), in order."""
        cond = [self.deltas.c.position > after]
        if upto is not None:
            cond.append(self.deltas.c.position <= upto)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(self.deltas.c.position, self.deltas.c.kind, self.deltas.c.id, self.deltas.c.doc)
                .where(and_(*cond))
                .order_by(self.deltas.c.position, self.deltas.c.seq)
                .limit(limit)
            )
            return [{"position": p, "kind": k, "id": i, "doc": d} for p, k, i, d in rows]

    def oldest_delta_position(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.min(self.deltas.c.position))).scalar() or 0)

    def commit(self, changes: dict[tuple[str, str], Doc | None], positions: dict[tuple[str, str], int],
               old_position: int, new_position: int, name: str = PROJECTOR,
               deltas: Sequence[tuple[int, str, str, Doc | None]] = ()) -> None:
        """Write changed documents and move the position, atomically; refuse if someone else moved it."""
        with self.engine.begin() as conn:
            if old_position == 0:
                exists = conn.execute(select(positions_table.c.position).where(positions_table.c.name == name)).scalar()
                if exists is None:
                    conn.execute(positions_table.insert().values(name=name, position=0))
            moved = conn.execute(
                update(positions_table)
                .where(and_(positions_table.c.name == name, positions_table.c.position == old_position))
                .values(position=new_position)
            ).rowcount
            if moved != 1:
                raise StalePosition(f"{name} position is no longer {old_position}")
            removed = [key for key, doc in changes.items() if doc is None]
            for kind, doc_id in removed:
                conn.execute(delete(self.docs).where(and_(self.docs.c.kind == kind, self.docs.c.id == doc_id)))
            upserts = [
                (kind, doc_id, doc.get("unit_code"), doc.get("status"), positions[(kind, doc_id)], doc, *filter_columns(kind, doc))
                for (kind, doc_id), doc in changes.items()
                if doc is not None
            ]
            rows, seq, last = [], 0, None
            for p, k, i, d in deltas:  # seq counts within a position, so batching does not show
                seq = seq + 1 if p == last else 0
                last = p
                rows.append((p, seq, k, i, d))
            if self._driver_rows:
                if upserts:
                    conn.exec_driver_sql(self._upsert_docs_sql, [(*r[:5], dumps(r[5]), *r[6:]) for r in upserts])
                if rows:
                    conn.exec_driver_sql(self._insert_deltas_sql, [(*r[:4], dumps(r[4])) for r in rows])
            else:
                if upserts:
                    conn.execute(self._upsert_docs, [dict(zip(_DOC_COLUMNS, r, strict=True)) for r in upserts])
                if rows:
                    conn.execute(self.deltas.insert(), [dict(zip(_DELTA_COLUMNS, r, strict=True)) for r in rows])
            if deltas and new_position // 1000 != old_position // 1000:
                conn.execute(delete(self.deltas).where(self.deltas.c.position <= new_position - DELTA_RETENTION))

    # -- rebuilding beside the live read models ------------------------------
    def shadow(self) -> tuple[DocStore, str]:
        """Empty tables beside the live ones and the name of their position: a rebuild folds into
        them while the live ones keep serving, then `switch_in` makes them live in one transaction."""
        tag = "rm_" + secrets.token_hex(4)
        meta = MetaData()
        store = DocStore(self.engine, _docs_table(meta, f"{tag}_docs", tag), _deltas_table(meta, f"{tag}_deltas"))
        meta.create_all(self.engine)
        return store, f"rebuild:{tag}"

    def switch_in(self, shadow: DocStore, shadow_name: str, name: str = PROJECTOR) -> int:
        """Make a shadow's tables the live ones, with its position, atomically; drop the old ones.

        A projector still running on the old tables finds its position moved at its next commit
        (StalePosition), reloads it and projects what came after the rebuild onto the new tables;
        readers see the old read models until the switch commits and the new ones after.
        """
        quote = self.engine.dialect.identifier_preparer.quote
        retired = {t.name: f"{t.name}_retired_{secrets.token_hex(3)}" for t in (self.docs, self.deltas)}
        with self.engine.begin() as conn:
            position = conn.execute(select(positions_table.c.position).where(positions_table.c.name == shadow_name)).scalar()
            if position is None:
                raise StalePosition(f"no rebuild named {shadow_name} to switch in")
            conn.execute(delete(positions_table).where(positions_table.c.name.in_([name, shadow_name])))
            conn.execute(positions_table.insert().values(name=name, position=position))
            for live, new in ((self.docs, shadow.docs), (self.deltas, shadow.deltas)):
                conn.exec_driver_sql(f"ALTER TABLE {quote(live.name)} RENAME TO {quote(retired[live.name])}")
                conn.exec_driver_sql(f"ALTER TABLE {quote(new.name)} RENAME TO {quote(live.name)}")
        with self.engine.begin() as conn:
            for old in retired.values():
                conn.exec_driver_sql(f"DROP TABLE {quote(old)}")
        return int(position)

    def drop(self, name: str) -> None:
        """Drop a shadow's tables and its position (a rebuild that did not finish)."""
        self.docs.drop(self.engine, checkfirst=True)
        self.deltas.drop(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            conn.execute(delete(positions_table).where(positions_table.c.name == name))

    def reset(self, name: str = PROJECTOR) -> None:
        """Empty every read model and the projector's position (before a rebuild)."""
        with self.engine.begin() as conn:
            conn.execute(delete(self.docs))
            conn.execute(delete(self.deltas))
            conn.execute(delete(positions_table).where(positions_table.c.name == name))
