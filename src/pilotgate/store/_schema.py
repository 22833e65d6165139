"""The store's tables (SQLAlchemy Core). Changes go through an Alembic migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from pilotgate.store._types import UTCDateTime

__all__ = ["DEFAULT_PROJECT", "metadata"]

metadata = MetaData()

TS = UTCDateTime()

DEFAULT_PROJECT = "default"
"""The project of records written without an API key (local SDK, ``ingest``, ``--no-auth``)."""


def _project(*, key: bool) -> Column[str]:
    """The owning project (migration 0007): part of the key where ids are per project."""
    return Column(
        "project",
        String(200),
        primary_key=key,
        nullable=False,
        server_default=DEFAULT_PROJECT,
    )


def _partial(name: str, columns: str, where: str) -> Index:
    """A partial index on both backends (``columns`` space-separated)."""
    return Index(name, *columns.split(), sqlite_where=text(where), postgresql_where=text(where))


interactions = Table(
    "interactions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("ts", TS, nullable=False),
    Column("feature", String(200), nullable=False),
    Column("version", String(200), nullable=False, default=""),
    Column("session_id", String(200)),
    Column("user_id", String(200)),
    Column("input", Text, nullable=False),
    Column("input_messages", JSON),
    Column("output", Text),
    Column("latency_ms", Float),
    Column("ttft_ms", Float),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("error", String(200)),
    Column("metadata", JSON),
    Column("ingested_at", TS),
    _project(key=True),
    Index("ix_interactions_feature_ts", "feature", "ts"),
    Index("ix_interactions_session", "session_id"),
    # Partial indexes for the dashboard's overview (migrations 0003, 0004): partial so the
    # planner does not pick them for per-session queries, where they are slow.
    Index(
        "ix_interactions_volume",
        "feature",
        "version",
        "ts",
        sqlite_where=text("ts IS NOT NULL"),
        postgresql_where=text("ts IS NOT NULL"),
    ),
    # (0002's ix_interactions_feature_latency was dropped by 0019: the exact percentiles read
    # ix_interactions_project_latency, naming the project of a one-project store)
    # Migration 0008: the signals' incremental refresh and per-user lookups.
    Index(
        "ix_interactions_ingested",
        "ingested_at",
        sqlite_where=text("ingested_at IS NOT NULL"),
        postgresql_where=text("ingested_at IS NOT NULL"),
    ),
    Index(
        "ix_interactions_user_ts",
        "user_id",
        "ts",
        sqlite_where=text("user_id IS NOT NULL"),
        postgresql_where=text("user_id IS NOT NULL"),
    ),
    Index(
        "ix_interactions_errors",
        "feature",
        "version",
        "ts",
        sqlite_where=text("error IS NOT NULL"),
        postgresql_where=text("error IS NOT NULL"),
    ),
    # Migration 0014: a read key's view of a store shared by several projects; the volume
    # one also answers Store.holds_only (migration 0017 dropped 0007's ix_interactions_project)
    _partial("ix_interactions_project_volume", "project feature version ts", "ts IS NOT NULL"),
    _partial(
        "ix_interactions_project_latency", "project feature latency_ms", "latency_ms IS NOT NULL"
    ),
    _partial("ix_interactions_project_errors", "project feature version ts", "error IS NOT NULL"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("interaction_id", String(200), nullable=False),
    Column("ts", TS, nullable=False),
    Column("accepted", Boolean),
    Column("score", Float),
    Column("edited_output", Text),
    Column("dwell_ms", Float),
    Column("comment", Text),
    _project(key=True),
    Index("ix_feedback_interaction", "interaction_id"),
    Index("ix_feedback_ts_accepted", "ts", "accepted"),
    # (0005's ix_feedback_dwell was dropped by 0019: the exact dwell median reads
    # ix_feedback_project_dwell, naming the project of a one-project store)
    # Migration 0014: a read key's acceptance per day and dwell median; project_ts also
    # answers Store.holds_only (migration 0017 dropped 0007's ix_feedback_project)
    Index("ix_feedback_project_ts", "project", "ts", "accepted"),
    _partial("ix_feedback_project_dwell", "project dwell_ms", "dwell_ms IS NOT NULL"),
)

steps = Table(
    "steps",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("session_id", String(200), nullable=False),
    Column("ts", TS, nullable=False),
    Column("name", String(200), nullable=False),
    Column("metadata", JSON),
    _project(key=True),
    Index("ix_steps_session_ts", "session_id", "ts"),
    Index("ix_steps_name_session", "name", "session_id"),
    Index("ix_steps_ts", "ts"),
)

eval_sets = Table(
    "eval_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("description", Text),
    Column("params", JSON),
    Column("n_cases", Integer, nullable=False, default=0),
    _project(key=False),
    UniqueConstraint("name", "version", name="uq_eval_sets_name_version"),
)

cases = Table(
    "cases",
    metadata,
    Column("set_id", Integer, ForeignKey("eval_sets.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", String(300), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("set_name", String(200), nullable=False),
    Column("case_id", String(300), nullable=False),
    Column("action", String(50), nullable=False),
    Column("reference", Text),
    Column("tags", JSON),
    Column("reviewer", String(200), nullable=False),
    Column("ts", TS, nullable=False),
    Index("ix_reviews_set_case", "set_name", "case_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("name", String(200)),
    Column("created_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("status", String(20), nullable=False, default="running"),
    Column("feature", String(200)),
    Column("version", String(200)),
    Column("target", String(500)),
    Column("params", JSON),
    Column("summary", JSON),
    Column("plan_hash", String(64)),
    Column("code_version", String(50)),
    Column("eval_set", String(300)),
    Column("inputs", JSON),
    _project(key=False),
    Index("ix_runs_kind_created", "kind", "created_at"),
    Index("ix_runs_kind_feature_created", "kind", "feature", "created_at"),
)

run_results = Table(
    "run_results",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", String(400), primary_key=True),
    Column("data", JSON, nullable=False),
)

response_cache = Table(
    "response_cache",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
)

embedding_cache = Table(
    "embedding_cache",
    metadata,
    Column("backend", String(200), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project", String(200), nullable=False),
    Column("name", String(200)),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS),
    # what the key may do (comma-separated: ingest, read, admin, browser) and, for a
    # browser key, the page origins it is bound to (comma-separated); migration 0007
    Column("scopes", String(200), nullable=False, server_default="ingest,read,admin"),
    Column("origins", Text),
)

store_secrets = Table(
    "store_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

pilots = Table(
    "pilots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feature", String(200), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("plan", JSON, nullable=False),
)

signoffs = Table(
    "signoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pilot_id", Integer, ForeignKey("pilots.id", ondelete="CASCADE"), nullable=False),
    Column("criterion", String(200), nullable=False),
    Column("new_definition", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("who", String(200), nullable=False),
    Column("ts", TS, nullable=False),
)

# Implicit signals, materialised (migration 0008): one row per interaction, maintained
# from a high-water mark by ``pilotgate.signals.refresh_signals``. Flags are 0/1/NULL
# integers (NULL: cannot tell) so that SUM and COUNT aggregate them on every database.
interaction_signals = Table(
    "interaction_signals",
    metadata,
    Column("interaction_id", String(200), primary_key=True),
    Column("feature", String(200), nullable=False),
    Column("version", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    Column("ts", TS, nullable=False),
    Column("user_id", String(200)),
    Column("session_id", String(200)),
    Column("next_id", String(200)),
    Column("answered", Integer, nullable=False),
    Column("accepted", Integer),
    Column("edited", Integer, nullable=False),
    Column("rephrased", Integer),
    Column("escalated", Integer),
    Column("abandoned", Integer),
    Column("copied", Integer, nullable=False),
    Column("followed_up", Integer),
    Column("outcome", String(10), nullable=False),
    Column("final", Integer, nullable=False),
    Column("off_purpose", Integer),
    Column("novelty", Float),
    Index(
        "ix_signals_feature_day",
        "feature",
        "day",
        "version",
        "outcome",
        "rephrased",
        "escalated",
        "abandoned",
        "copied",
        "followed_up",
        "accepted",
        "off_purpose",
        "answered",
    ),
    Index("ix_signals_pending", "feature", "final"),
    Index("ix_signals_feature_ts", "feature", "ts"),
)

user_journeys = Table(
    "user_journeys",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("first_id", String(200), nullable=False),
    Column("first_ts", TS, nullable=False),
    Column("first_day", String(10), nullable=False),
    Column("first_version", String(200), nullable=False),
    Column("first_outcome", String(10), nullable=False),
    Column("returned_ts", TS),
    Column("return_day", Integer),
    Column("n", Integer, nullable=False),
    Column("last_ts", TS, nullable=False),
)

#: Daily rollup of interaction_signals, kept by deltas: the figures read a few rows.
signal_daily = Table(
    "signal_daily",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("counts", JSON, nullable=False),
)

signal_state = Table(
    "signal_state",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("params_hash", String(64), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("hwm_ingested", TS),
    Column("data_end", TS),
    Column("updated_at", TS, nullable=False),
    Column("n", Integer, nullable=False, default=0),
)

# Hourly rollups (migration 0013; pilotgate.store._rollups). ``hour``: whole hours since
# the epoch (UTC); ``bucket``: round(ln(x + 1) * 200) of latency / dwell, -1 for none.
# Triggers (in the migration) mark the (feature, hour)s a write touched in rollup_dirty.
rollup_interactions = Table(
    "rollup_interactions",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Index("ix_rollup_interactions_feature_hour", "feature", "hour"),  # migration 0016
)

rollup_feedback = Table(
    "rollup_feedback",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("edited", BigInteger, nullable=False),
    Index("ix_rollup_feedback_feature_hour", "feature", "hour"),  # migration 0016
)

# Migration 0016: tokens per model, and rejected answers per session, per feature, version
# and hour (``model`` NULL: no metadata.model); recomputed with the hours above.
rollup_tokens = Table(
    "rollup_tokens",
    metadata,
    Column("feature", String(200), nullable=False),
    Column("version", String(200), nullable=False),
    Column("hour", BigInteger, nullable=False),
    Column("model", Text),
    Column("n", BigInteger, nullable=False),
    Column("n_tok", BigInteger, nullable=False),
    Column("tokens_in", BigInteger),
    Column("tokens_out", BigInteger),
    Index("ix_rollup_tokens_feature_hour", "feature", "hour"),
)

rollup_rejections = Table(
    "rollup_rejections",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("project", String(200), primary_key=True),
    Column("session_id", String(200), primary_key=True),
    Column("last_ts", TS, nullable=False),
    Column("ended", Integer, nullable=False),
    Column("alone", Integer, nullable=False),
    Index("ix_rollup_rejections_session", "session_id"),
    Index("ix_rollup_rejections_feature_hour", "feature", "hour"),
)

rollup_abandon = Table(
    "rollup_abandon",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("sessions", BigInteger, nullable=False),
    Column("ended", BigInteger, nullable=False),
)


def _daily(name: str, *counts: str) -> Table:
    """Migration 0016: an hourly histogram table summed per day (``day`` = ``hour / 24``)."""
    return Table(
        name,
        metadata,
        Column("feature", String(200), primary_key=True),
        Column("version", String(200), primary_key=True),
        Column("day", BigInteger, primary_key=True),
        Column("bucket", Integer, primary_key=True),
        Column("n", BigInteger, nullable=False),
        *[Column(c, BigInteger, nullable=False) for c in counts],
    )


rollup_interactions_day = _daily("rollup_interactions_day", "errors")
rollup_feedback_day = _daily("rollup_feedback_day", "accepted", "rejected", "edited")

rollup_dirty = Table(
    "rollup_dirty",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("gen", BigInteger, nullable=False),
)

rollup_pruned = Table(
    "rollup_pruned",
    metadata,
    Column("feature", String(200), primary_key=True),
    Column("before_hour", BigInteger, nullable=False),
)
