"""The :class:`Store`: everything pilotgate records and computes lives here.

One class over SQLAlchemy Core so that SQLite and PostgreSQL behave the same. Writes are
batched and idempotent on record id; reads return plain dicts.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine, Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from pilotgate._interaction_rows import (
    FEEDBACK_COLUMNS,
    INTERACTION_COLUMNS,
    CheckedInteraction,
    FeedbackLine,
    copy_text,
    derive_id,
    normalise_interaction,
    pg_copy_line,
    sqlite_dt,
    sqlite_interaction_row,
)
from pilotgate._version import __version__
from pilotgate.errors import InputError, StoreError
from pilotgate.records import FeedbackRecord, InteractionRecord, StepRecord
from pilotgate.store import _schema as t
from pilotgate.store._engine import make_engine, migrate, safe_url
from pilotgate.store._fast import pg_copy_row_maker, row_maker, tune_sqlite
from pilotgate.store._rollups import ROLLUP_TRIGGERED, feedback_marks_once, marks_once
from pilotgate.store._schema import DEFAULT_PROJECT
from pilotgate.store._types import to_utc

__all__ = ["IngestCounts", "Store", "derive_id"]

BATCH = 2000


_TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)
"""Errors of the store being away (connection, lock, pool), not of the rows written."""


def _is_transient(exc: BaseException) -> bool:
    """True when retrying the same rows can succeed: the store was away, not the rows bad.

    SQLAlchemy's errors, and psycopg's own from the PostgreSQL ``COPY`` path (its
    ``OperationalError`` covers lost connections, lock timeouts and cancelled statements;
    a ``DataError`` such as a NUL character is the rows' fault and permanent).
    """
    if isinstance(exc, _TRANSIENT) or getattr(exc, "connection_invalidated", False):
        return True
    if type(exc).__module__.split(".")[0] == "psycopg":
        import psycopg

        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return False


def _now() -> datetime:
    return datetime.now(UTC)


class IngestCounts(dict[str, int]):
    """Per-kind counts of newly stored records."""


class Store:
    """A pilotgate store at ``url`` (SQLite file or PostgreSQL), migrated on open.

    Args:
        url: SQLAlchemy URL, ``postgresql://…`` or a file path.
        migrate_schema: run Alembic migrations to the newest revision (default).
    """

    def __init__(
        self,
        url: str,
        *,
        migrate_schema: bool = True,
        engine: Engine | None = None,
        project: str | None = None,
    ):
        self.url = url
        self.project = project or os.environ.get("PILOTGATE_PROJECT") or DEFAULT_PROJECT
        """The project this handle writes records, runs and eval sets for when a call
        names none: ``project=``, else ``PILOTGATE_PROJECT``, else ``default``."""
        self.read_project: str | None = None
        """When set (see :meth:`scoped`), reads see this project's records, runs and eval
        sets only."""
        self._owns_engine = True
        self.engine = engine or make_engine(url)
        self.dialect = self.engine.dialect.name
        if migrate_schema:
            try:
                migrate(self.engine)
            except BaseException:
                self.engine.dispose()  # nobody else holds it: callers retry opening in a loop
                raise

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def scoped(self, project: str) -> Store:
        """A view of this store that reads and writes one project only.

        It shares the engine (closing the view leaves it open). Interactions, feedback,
        steps, runs, eval sets and features read through it are ``project``'s; a run or
        eval set of another project is "not found". The dashboard hands a read key's
        pages such a view, so every page is scoped by the same few methods.
        """
        view = copy.copy(self)
        view.project = project
        view.read_project = project
        view._owns_engine = False
        return view

    def holds_only(self, project: str) -> bool:
        """True when every interaction and feedback record is ``project``'s.

        Two index seeks per table, on the project-led indexes of migration 0014
        (``ix_interactions_project_volume``, partial on ``ts IS NOT NULL``, which every
        row satisfies and the query states so SQLite may use it; ``ix_feedback_project_ts``).
        A reader that drops its project filter on this answer must ask again after reading:
        a record another project committed meanwhile is seen by the second check if it was
        seen at all.
        """
        with self.engine.connect() as conn:
            for table, term in ((t.interactions, " AND ts IS NOT NULL"), (t.feedback, "")):
                for op in ("<", ">"):
                    q = text(f"SELECT 1 FROM {table.name} WHERE project {op} :p{term} LIMIT 1")
                    if conn.execute(q, {"p": project}).first() is not None:
                        return False
        return True

    def _scope(self, project: str | None) -> str | None:
        return self.read_project if project is None else project

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- writes
    def _insert(self, table: Table, rows: Sequence[Mapping[str, Any]], *, upsert: bool) -> int:
        """Insert rows, skipping (or updating, with ``upsert``) those whose key exists."""
        if not rows:
            return 0
        if self.dialect == "sqlite" and not upsert:
            return self._insert_sqlite_fast(table, rows)
        if self.dialect == "postgresql":
            return self._insert_pg_copy(table, rows, upsert=upsert)
        ins = postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
        keys = [c.name for c in table.primary_key.columns]
        if upsert:
            cols = {c.name: ins.excluded[c.name] for c in table.columns if c.name not in keys}
            stmt = ins.on_conflict_do_update(index_elements=keys, set_=cols)
        else:
            stmt = ins.on_conflict_do_nothing(index_elements=keys)
        returning = stmt.returning(*[table.c[k] for k in keys])
        inserted = 0
        try:
            with self.engine.begin() as conn:
                for i in range(0, len(rows), BATCH):
                    res = conn.execute(returning, list(rows[i : i + BATCH]))
                    inserted += len(res.fetchall())
        except SQLAlchemyError as exc:
            raise self._write_error(table, exc) from None
        return inserted

    def _insert_pg_copy(
        self, table: Table, rows: Sequence[Mapping[str, Any]], *, upsert: bool
    ) -> int:
        """PostgreSQL's bulk path: ``COPY``, straight in or through a staging table and a merge.

        ``COPY`` skips per-row statement overhead (several times ``executemany``'s rate).
        Rows whose keys are all new are copied straight into the table (see
        :func:`_copy_or_merge`); otherwise the merge
        (``INSERT … SELECT … ON CONFLICT``) keeps the same rules as the plain path:
        an existing key is skipped, or updated with ``upsert`` (the last row of a key in the
        batch wins). The staging table lives in the connection's temporary schema and is
        emptied at commit, so concurrent writers never see each other's rows.
        """
        keys = [c.name for c in table.primary_key.columns]
        if upsert:  # one row per key, or the merge would update a row twice
            last: dict[tuple[Any, ...], Mapping[str, Any]] = {}
            for r in rows:
                last[tuple(r.get(k) for k in keys)] = r
            rows = list(last.values())
        names = [c.name for c in table.columns]
        make = pg_copy_row_maker(table)
        stage = f"pilotgate_stage_{table.name}"
        cols = ", ".join(f'"{n}"' for n in names)
        if upsert:
            sets = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in names if n not in keys)
            conflict = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
        else:
            conflict = "DO NOTHING"
        merge = (
            f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM pg_temp.{stage} "
            f"ON CONFLICT ({', '.join(keys)}) {conflict}"
        )
        try:
            data = [make(r) for r in rows]

            def feed(copy: Any) -> None:
                for row in data:
                    copy.write_row(row)

            with self.engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cur:
                    return _copy_or_merge(cur, table, cols, feed, len(data), merge)
        except Exception as exc:  # psycopg's own errors: the raw cursor skips SQLAlchemy
            raise self._write_error(table, exc) from None

    def _write_error(self, table: Table, exc: Exception) -> StoreError:
        """The error for a failed write, saying whether retrying the same rows can help."""
        err = StoreError(
            f"write to {table.name} failed: {type(exc).__name__}: {getattr(exc, 'orig', exc)}",
            where=safe_url(self.url),
            fix="nothing was written from this batch; check the store and retry",
        )
        err.retryable = _is_transient(exc)
        return err

    def _insert_sqlite_fast(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        """Plain DB-API ``executemany``: SQLite's fastest bulk path (several x SQLAlchemy's)."""
        make = row_maker(table)
        return self._sqlite_executemany(table, [c.name for c in table.columns], map(make, rows))

    def _sqlite_executemany(
        self,
        table: Table,
        columns: Sequence[str],
        params: Iterable[tuple[Any, ...]],
        constants: Mapping[str, str] | None = None,
        *,
        upsert: bool = False,
        marks: Callable[[Any], AbstractContextManager[None]] | None = None,
    ) -> int:
        """Insert parameter tuples in one transaction; returns how many rows were new (with
        ``upsert``: written, an existing key's row updated).

        ``constants`` are columns with the same value in every row, written into the
        statement as SQL string literals (our own timestamps and the batch's project).
        ``marks``: what makes the rollup marks of the batch at once (default: the insert
        trigger's, ``marks_once``, for a ``ROLLUP_TRIGGERED`` table).
        """
        names = list(columns)
        values = ["?"] * len(names)
        for name, value in (constants or {}).items():
            names.append(name)
            values.append(_sql_literal(value))
        conflict = "DO NOTHING"
        if upsert:
            keys = [c.name for c in table.primary_key.columns]
            sets = ", ".join(f"{n} = excluded.{n}" for n in names if n not in keys)
            conflict = f"({', '.join(keys)}) DO UPDATE SET {sets}"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(values)}) ON CONFLICT {conflict}"
        )
        if marks is None and table.name in ROLLUP_TRIGGERED:
            marks = partial(marks_once, table=table.name)
        try:
            with self.engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                tune_sqlite(raw, conn.connection.info)
                if marks is None:
                    before = raw.total_changes
                    conn.exec_driver_sql(sql, list(params))
                    return int(raw.total_changes - before)
                # the rollup marks of the batch in one statement, not a trigger per row
                with marks(raw):
                    before = raw.total_changes
                    conn.exec_driver_sql(sql, list(params))
                    new = int(raw.total_changes - before)
                return new
        except SQLAlchemyError as exc:
            raise self._write_error(table, exc) from None

    def add_interactions(
        self,
        records: Iterable[InteractionRecord | Mapping[str, Any]],
        *,
        upsert: bool = False,
        project: str | None = None,
    ) -> int:
        """Store interactions of ``project``; returns how many were new. Same id twice is a no-op.

        Records from :func:`pilotgate.ingest.validate_record` are written without being
        checked again; anything else is validated here first. Ids are unique per project.
        """
        proj = self._project(project)
        if self.dialect == "sqlite" and not upsert:
            rows = [sqlite_interaction_row(_checked(r)) for r in records]
            return self.add_interaction_rows(rows, project=proj)
        if self.dialect == "postgresql" and not upsert:
            return self.add_interaction_lines([pg_copy_line(_checked(r)) for r in records], proj)
        now = _now()
        out = [{**_interaction_row(r, now), "project": proj} for r in records]
        return self._insert(t.interactions, out, upsert=upsert)

    def _project(self, project: str | None) -> str:
        return self.project if project is None else project

    def add_interaction_rows(
        self, rows: Sequence[tuple[Any, ...]], *, project: str | None = None
    ) -> int:
        """Store SQLite rows made by ``_interaction_rows.sqlite_interaction_row``; returns new ones.

        The bulk path of a SQLite store: rows can be made in another process (a parallel
        import) from checked records, and only written here.
        """
        if self.dialect != "sqlite":
            raise StoreError(
                "interaction rows are SQLite parameters",
                where=safe_url(self.url),
                fix="use add_interactions with records on this store",
            )
        if not rows:
            return 0
        stamp = {"ingested_at": sqlite_dt(_now()), "project": self._project(project)}
        return self._sqlite_executemany(t.interactions, INTERACTION_COLUMNS[:-1], rows, stamp)

    def add_interaction_lines(self, lines: Sequence[str], project: str | None = None) -> int:
        """Store ``COPY`` text lines made by ``_interaction_rows.pg_copy_line``; returns new ones.

        PostgreSQL's bulk path, with no Python work per row: the lines, each completed with
        the batch's ``ingested_at`` and project, are one ``COPY`` buffer. New records (an
        import's usual case) are copied straight into the table, inside a savepoint; if a
        key is already stored, or twice in the batch, that ``COPY`` fails on the unique key
        and the same buffer goes through the staging table and ``ON CONFLICT DO NOTHING``
        instead, so a key is still stored once. The direct ``COPY`` saves the staging copy
        and the speculative insertion of ``ON CONFLICT`` (about a third of the server's
        work per row).
        """
        if self.dialect != "postgresql":
            raise StoreError(
                "interaction lines are PostgreSQL COPY text",
                where=safe_url(self.url),
                fix="use add_interactions with records on this store",
            )
        if not lines:
            return 0
        cols = ", ".join(f'"{n}"' for n in (*INTERACTION_COLUMNS, "project"))
        stamp = f"\t{_now().isoformat(' ', 'microseconds')}"
        return self._copy_lines(t.interactions, cols, lines, stamp, "DO NOTHING", project)

    def add_feedback_lines(self, lines: Sequence[FeedbackLine], project: str | None = None) -> int:
        """Store feedback made by ``_interaction_rows.pg_feedback_line``; returns rows written.

        PostgreSQL's bulk path for feedback, as :meth:`add_interaction_lines` for
        interactions, with :meth:`add_feedback`'s rules: a feedback id already stored is
        updated (the last copy of a key in ``lines`` wins).
        """
        if self.dialect != "postgresql":
            raise StoreError(
                "feedback lines are PostgreSQL COPY text",
                where=safe_url(self.url),
                fix="use add_feedback with records on this store",
            )
        last = {line.key: line.line for line in lines}
        if not last:
            return 0
        names = (*FEEDBACK_COLUMNS, "project")
        cols = ", ".join(f'"{n}"' for n in names)
        sets = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in names if n not in ("id", "project"))
        return self._copy_lines(
            t.feedback, cols, list(last.values()), "", f"DO UPDATE SET {sets}", project
        )

    def _copy_lines(
        self,
        table: Table,
        cols: str,
        lines: Sequence[str],
        stamp: str,
        conflict: str,
        project: str | None,
    ) -> int:
        """``COPY`` text lines into ``table`` (each completed with ``stamp`` and the project):
        straight in when every key is new, else merged with ``ON CONFLICT … conflict``."""
        stage = f"pilotgate_stage_{table.name}"
        try:
            end = f"{stamp}\t{copy_text(self._project(project))}\n"
            data = (end.join(lines) + end).encode()
            with self.engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cur:
                    return _copy_or_merge(
                        cur,
                        table,
                        cols,
                        lambda copy: copy.write(data),
                        len(lines),
                        f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM pg_temp.{stage} "
                        f"ON CONFLICT (id, project) {conflict}",
                    )
        except Exception as exc:  # psycopg's own errors, and text no encoding can hold
            raise self._write_error(table, exc) from None

    def add_feedback(
        self,
        records: Iterable[FeedbackRecord | Mapping[str, Any]],
        *,
        project: str | None = None,
    ) -> int:
        proj = self._project(project)
        rows = []
        for r in records:
            rec = r if isinstance(r, FeedbackRecord) else FeedbackRecord.model_validate(r)
            d = rec.model_dump(exclude={"kind"})
            d["ts"] = to_utc(d["ts"])
            if not d["id"]:
                d["id"] = derive_id("fb", rec.interaction_id, d["ts"].isoformat(), rec.accepted)
            d["project"] = proj
            rows.append(d)
        if self.dialect == "sqlite" and rows:
            return self._upsert_feedback_sqlite(rows)
        return self._insert(t.feedback, rows, upsert=True)

    def _upsert_feedback_sqlite(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Feedback rows upserted with one DB-API ``executemany`` (no SQLAlchemy per row);
        returns the rows written. The last row of an id wins, as with one statement per
        row; the rollup marks are made once per batch (``feedback_marks_once``)."""
        ids = [str(r["interaction_id"]) for r in rows]
        return self._sqlite_executemany(
            t.feedback,
            [c.name for c in t.feedback.columns],
            map(row_maker(t.feedback), rows),
            upsert=True,
            marks=lambda raw: feedback_marks_once(raw, ids),
        )

    def add_steps(
        self, records: Iterable[StepRecord | Mapping[str, Any]], *, project: str | None = None
    ) -> int:
        proj = self._project(project)
        rows = []
        for r in records:
            rec = r if isinstance(r, StepRecord) else StepRecord.model_validate(r)
            d = rec.model_dump(exclude={"kind"})
            d["ts"] = to_utc(d["ts"])
            if not d["id"]:
                d["id"] = derive_id("step", rec.session_id, d["ts"].isoformat(), rec.name)
            d["project"] = proj
            rows.append(d)
        return self._insert(t.steps, rows, upsert=False)

    def ingest(
        self,
        records: Iterable[InteractionRecord | FeedbackRecord | StepRecord],
        *,
        project: str | None = None,
    ) -> IngestCounts:
        """Store a mixed batch of validated ingest records in one go per kind."""
        inter: list[InteractionRecord] = []
        fb: list[FeedbackRecord] = []
        st: list[StepRecord] = []
        for r in records:
            if isinstance(r, InteractionRecord):
                inter.append(r)
            elif isinstance(r, FeedbackRecord):
                fb.append(r)
            elif isinstance(r, StepRecord):
                st.append(r)
            else:
                raise InputError(f"not an ingest record: {type(r).__name__}")
        return IngestCounts(
            interaction=self.add_interactions(inter, project=project),
            feedback=self.add_feedback(fb, project=project),
            step=self.add_steps(st, project=project),
        )

    # ----------------------------------------------------------------- reads
    def _where(
        self,
        table: Table,
        *,
        feature: str | None = None,
        version: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        project: str | None = None,
    ) -> list[Any]:
        conds: list[Any] = []
        project = self._scope(project)
        if project is not None and "project" in table.c:
            conds.append(table.c.project == project)
        if feature is not None and "feature" in table.c:
            conds.append(table.c.feature == feature)
        if version is not None and "version" in table.c:
            conds.append(table.c.version == version)
        if since is not None:
            conds.append(table.c.ts >= to_utc(since))
        if until is not None:
            conds.append(table.c.ts < to_utc(until))
        return conds

    def iter_interactions(
        self,
        *,
        feature: str | None = None,
        version: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: Sequence[str] | None = None,
        limit: int | None = None,
        columns: Sequence[str] | None = None,
        project: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Interactions in time order, as dicts, streamed from the database.

        ``project`` (None: every project) keeps one project's.
        """
        cols = [t.interactions.c[c] for c in columns] if columns else [t.interactions]
        where = self._where(
            t.interactions,
            feature=feature,
            version=version,
            since=since,
            until=until,
            project=project,
        )
        q = select(*cols).where(*where)
        if ids is not None:
            q = q.where(t.interactions.c.id.in_(list(ids)))
        q = q.order_by(t.interactions.c.ts, t.interactions.c.id)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=5000).execute(q)
            for row in result.mappings():
                yield dict(row)

    def interactions(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.iter_interactions(**filters))

    def count(self, kind: str = "interactions", **filters: Any) -> int:
        table = t.metadata.tables[kind]
        q = select(func.count()).select_from(table).where(*self._where(table, **filters))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def feedback(
        self, *, interaction_ids: Sequence[str] | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        q = select(t.feedback).where(*self._where(t.feedback, **filters))
        if interaction_ids is not None:
            q = q.where(t.feedback.c.interaction_id.in_(list(interaction_ids)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(t.feedback.c.ts)).mappings()]

    def steps(self, **filters: Any) -> list[dict[str, Any]]:
        q = select(t.steps).where(*self._where(t.steps, **filters)).order_by(t.steps.c.ts)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def features(self) -> list[tuple[str, str, int]]:
        """(feature, version, count) for everything stored."""
        c = t.interactions.c
        q = select(c.feature, c.version, func.count()).group_by(c.feature, c.version)
        if self.read_project is not None:
            q = q.where(c.project == self.read_project)
        with self.engine.connect() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(q.order_by(c.feature, c.version))]

    # ------------------------------------------------------------------ runs
    def start_run(
        self,
        kind: str,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        feature: str | None = None,
        version: str | None = None,
        target: str | None = None,
        plan_hash: str | None = None,
        run_id: str | None = None,
        eval_set: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        project: str | None = None,
    ) -> str:
        """Record the start of a run; returns its id (``<kind>-<time>-<random>``).

        Capabilities call :func:`pilotgate.runs.record_run` / ``start_run`` rather than
        this, so that targets are scrubbed and the plan in force is noted the same way.
        """
        rid = run_id or f"{kind}-{_now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        with self.engine.begin() as conn:
            conn.execute(
                t.runs.insert().values(
                    id=rid,
                    kind=kind,
                    name=name,
                    created_at=_now(),
                    status="running",
                    feature=feature,
                    version=version,
                    target=target,
                    params=dict(params or {}),
                    plan_hash=plan_hash,
                    code_version=__version__,
                    eval_set=eval_set,
                    inputs=dict(inputs) if inputs is not None else None,
                    project=self._project(project),
                )
            )
        return rid

    def add_results(self, run_id: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        rows = [{"run_id": run_id, "item_id": i, "data": dict(d)} for i, d in items]
        return self._insert(t.run_results, rows, upsert=True)

    def finish_run(self, run_id: str, summary: Mapping[str, Any], *, status: str = "ok") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(summary=dict(summary), status=status, finished_at=_now())
            )

    def save_run(
        self,
        kind: str,
        summary: Mapping[str, Any],
        results: Iterable[tuple[str, Mapping[str, Any]]] = (),
        *,
        status: str = "ok",
        **meta: Any,
    ) -> str:
        """Start, fill and finish a run in one call (``status``: ``ok`` or ``interrupted``)."""
        rid = self.start_run(kind, **meta)
        self.add_results(rid, results)
        self.finish_run(rid, summary, status=status)
        return rid

    def get_run(self, run_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
        if row is None or self.read_project not in (None, row["project"]):
            raise InputError(
                f"no run {run_id!r} in the store",
                where=safe_url(self.url),
                fix="list runs with `pilotgate store runs`",
            )
        return dict(row)

    def run_results(self, run_id: str) -> list[dict[str, Any]]:
        q = select(t.run_results.c.item_id, t.run_results.c.data).where(
            t.run_results.c.run_id == run_id
        )
        with self.engine.connect() as conn:
            return [
                {"item_id": r[0], **r[1]} for r in conn.execute(q.order_by(t.run_results.c.item_id))
            ]

    def result_ids(self, run_id: str) -> set[str]:
        q = select(t.run_results.c.item_id).where(t.run_results.c.run_id == run_id)
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(q)}

    def list_runs(
        self,
        kind: str | None = None,
        *,
        name: str | None = None,
        limit: int = 100,
        feature: str | None = None,
        project: str | None = None,
    ) -> list[dict[str, Any]]:
        """Runs, newest first; ``feature`` keeps one feature's runs only, ``project`` (None:
        every project) one project's."""
        q = select(t.runs)
        project = self._scope(project)
        if project is not None:
            q = q.where(t.runs.c.project == project)
        if kind is not None:
            q = q.where(t.runs.c.kind == kind)
        if name is not None:
            q = q.where(t.runs.c.name == name)
        if feature is not None:
            q = q.where(t.runs.c.feature == feature)
        q = q.order_by(t.runs.c.created_at.desc(), t.runs.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def latest_run(
        self, kind: str, *, name: str | None = None, status: str = "ok", project: str | None = None
    ) -> dict[str, Any] | None:
        for run in self.list_runs(kind, name=name, limit=50, project=project):
            if run["status"] == status:
                return run
        return None

    # ------------------------------------------------------------- eval sets
    def save_eval_set(
        self,
        name: str,
        cases: Sequence[Mapping[str, Any]],
        *,
        params: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> int:
        """Store a new immutable version of eval set ``name``; returns its version."""
        ids = [str(c["id"]) for c in cases]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise InputError(f"duplicate case id {dup!r} in eval set {name!r}")
        with self.engine.begin() as conn:
            cur = conn.execute(
                select(func.max(t.eval_sets.c.version)).where(t.eval_sets.c.name == name)
            ).scalar()
            version = int(cur or 0) + 1
            set_id = conn.execute(
                t.eval_sets.insert()
                .values(
                    name=name,
                    version=version,
                    created_at=_now(),
                    description=description,
                    params=dict(params or {}),
                    n_cases=len(cases),
                    project=self.project,
                )
                .returning(t.eval_sets.c.id)
            ).scalar_one()
            rows = [
                {"set_id": set_id, "case_id": str(c["id"]), "position": i, "data": dict(c)}
                for i, c in enumerate(cases)
            ]
            for i in range(0, len(rows), BATCH):
                conn.execute(t.cases.insert(), rows[i : i + BATCH])
        return version

    def get_eval_set(self, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """``name`` (newest version) or ``name@N`` -> (metadata, cases in order)."""
        name, _, ver = ref.partition("@")
        q = select(t.eval_sets).where(t.eval_sets.c.name == name)
        if self.read_project is not None:
            q = q.where(t.eval_sets.c.project == self.read_project)
        if ver:
            if not ver.isdigit():
                raise InputError(f"bad eval set version in {ref!r}", fix="use NAME or NAME@3")
            q = q.where(t.eval_sets.c.version == int(ver))
        q = q.order_by(t.eval_sets.c.version.desc()).limit(1)
        with self.engine.connect() as conn:
            meta = conn.execute(q).mappings().first()
            if meta is None:
                raise InputError(
                    f"no eval set {ref!r}",
                    where=safe_url(self.url),
                    fix="list them with `pilotgate cases list`",
                )
            rows = conn.execute(
                select(t.cases.c.data)
                .where(t.cases.c.set_id == meta["id"])
                .order_by(t.cases.c.position)
            )
            return dict(meta), [r[0] for r in rows]

    def list_eval_sets(self, *, project: str | None = None) -> list[dict[str, Any]]:
        q = select(t.eval_sets).order_by(t.eval_sets.c.name, t.eval_sets.c.version)
        project = self._scope(project)
        if project is not None:
            q = q.where(t.eval_sets.c.project == project)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # ---------------------------------------------------------------- secrets
    def secret(self, name: str) -> str:
        """A random secret this store keeps for itself (created on first use, then stable).

        Concurrent first uses agree: the first insert wins, everyone reads it back.
        """
        q = select(t.store_secrets.c.value).where(t.store_secrets.c.name == name)
        with self.engine.begin() as conn:
            value = conn.execute(q).scalar()
            if value is None:
                row = {"name": name, "value": secrets.token_hex(32)}
                ins = (
                    postgresql.insert(t.store_secrets)
                    if self.dialect == "postgresql"
                    else sqlite.insert(t.store_secrets)
                )
                conn.execute(ins.on_conflict_do_nothing(index_elements=["name"]), [row])
                value = conn.execute(q).scalar()
        return str(value)

    # ---------------------------------------------------------------- caches
    def cache_get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                q = select(t.response_cache.c.key, t.response_cache.c.data).where(
                    t.response_cache.c.key.in_(list(keys[i : i + 500]))
                )
                out.update({r[0]: r[1] for r in conn.execute(q)})
        return out

    def cache_put_many(self, items: Mapping[str, Any]) -> None:
        now = _now()
        rows = [{"key": k, "data": v, "created_at": now} for k, v in items.items()]
        self._insert(t.response_cache, rows, upsert=True)

    def embeddings_get(self, backend: str, hashes: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        c = t.embedding_cache.c
        with self.engine.connect() as conn:
            for i in range(0, len(hashes), 500):
                q = select(c.text_hash, c.vector).where(
                    c.backend == backend, c.text_hash.in_(list(hashes[i : i + 500]))
                )
                out.update({r[0]: bytes(r[1]) for r in conn.execute(q)})
        return out

    def embeddings_put(self, backend: str, vectors: Mapping[str, bytes]) -> int:
        rows = [{"backend": backend, "text_hash": h, "vector": v} for h, v in vectors.items()]
        return self._insert(t.embedding_cache, rows, upsert=False)


def _copy_or_merge(
    cur: Any, table: Table, cols: str, feed: Callable[[Any], None], n: int, merge: str
) -> int:
    """Write rows with ``COPY``; returns how many were new (or, for an upsert, written).

    ``feed`` writes the rows to a ``COPY`` of ``cols``. They go straight into ``table``
    first, inside a savepoint: when every key is new (an import's usual case) that is
    all, without a staging copy or ``ON CONFLICT``'s speculative insertion per row. A key
    already stored, or twice in the rows, fails that ``COPY`` on the unique key: it is
    rolled back and ``feed`` writes the rows again, into the connection's staging table
    (emptied at commit) for ``merge`` to apply the table's rules.
    """
    import psycopg

    cur.execute("SAVEPOINT pilotgate_copy")
    try:
        with cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
            feed(copy)
        cur.execute("RELEASE SAVEPOINT pilotgate_copy")
        return n
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT pilotgate_copy")
    stage = f"pilotgate_stage_{table.name}"
    _stage(cur, table, stage)
    with cur.copy(f"COPY pg_temp.{stage} ({cols}) FROM STDIN") as copy:
        feed(copy)
    cur.execute(merge)
    return max(0, int(cur.rowcount))


def _stage(cur: Any, table: Table, stage: str) -> None:
    """The connection's temporary staging table for ``table`` (emptied at each commit)."""
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
        f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )


def _sql_literal(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled; NUL refused: it ends a C string)."""
    if "\x00" in value:
        raise InputError("a NUL character cannot be written as a constant", where=repr(value))
    return "'" + value.replace("'", "''") + "'"


def _checked(r: InteractionRecord | Mapping[str, Any]) -> Mapping[str, Any]:
    """Every field of an interaction, checked: the fast validator first, pydantic otherwise."""
    if type(r) is CheckedInteraction:
        return r
    if not isinstance(r, InteractionRecord):
        fast = normalise_interaction(r)
        if fast is not None:
            return fast
        r = InteractionRecord.model_validate(r)
    return {
        "id": r.id,
        "ts": to_utc(r.ts),
        "feature": r.feature,
        "version": r.version,
        "session_id": r.session_id,
        "user_id": r.user_id,
        "input": r.input,
        "output": r.output,
        "latency_ms": r.latency_ms,
        "ttft_ms": r.ttft_ms,
        "tokens_in": r.tokens_in,
        "tokens_out": r.tokens_out,
        "error": r.error,
        "metadata": r.metadata,
    }


def _interaction_row(r: InteractionRecord | Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The row (for SQLAlchemy) of an interaction record."""
    c = _checked(r)
    inp = c["input"]
    messages = None if isinstance(inp, str) else inp
    return {
        "id": c["id"],
        "ts": c["ts"],
        "feature": c["feature"],
        "version": c["version"],
        "session_id": c["session_id"],
        "user_id": c["user_id"],
        "input": inp if messages is None else json.dumps(inp, ensure_ascii=False),
        "input_messages": messages,
        "output": c["output"],
        "latency_ms": c["latency_ms"],
        "ttft_ms": c["ttft_ms"],
        "tokens_in": c["tokens_in"],
        "tokens_out": c["tokens_out"],
        "error": c["error"],
        "metadata": c["metadata"] or None,
        "ingested_at": now,
    }
