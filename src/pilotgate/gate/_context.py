"""What a metric provider may read: the store, the (effective) plan, the criterion, the clock.

Windows are resolved here once so that every provider reads them the same way:

* ``latest``: live usage data up to now; for runs, the newest finished run that matches
  the criterion's selection (feature, version, eval set: ``pilotgate.runs.select_run``).
* ``pilot``: the plan's ``[pilot] start``..``end`` (end inclusive), or from the locked
  pilot's start date when the plan has no start; runs must have been made in it.
* ``7d`` / ``12h``: the trailing span ending now.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pilotgate.errors import ConfigError
from pilotgate.runs import Picked, Selection, select_run

if TYPE_CHECKING:
    from pilotgate.plan import Criterion, Plan
    from pilotgate.store import Store
    from pilotgate.usage import UsageFigures, UsageReport

__all__ = ["MetricContext", "Window", "fmt_window"]


def fmt_window(since: datetime | None, until: datetime | None) -> str:
    """A window in words for the evidence column."""
    a = since.strftime("%Y-%m-%d %H:%M") if since else "…"
    b = until.strftime("%Y-%m-%d %H:%M") if until else "now"
    return f"{a} .. {b}"


RUN_SCAN_LIMIT = 500


@dataclass(frozen=True)
class Window:
    """A resolved window: bounds (None = open) and how to say it."""

    name: str
    since: datetime | None
    until: datetime | None

    def describe(self) -> str:
        if self.name == "latest":
            return "latest"
        return f"{self.name}: {fmt_window(self.since, self.until)}"

    def contains(self, ts: datetime | None) -> bool:
        if ts is None:
            return False
        if self.since is not None and ts < self.since:
            return False
        return self.until is None or ts <= self.until


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


@dataclass
class MetricContext:
    """Everything a provider may read while one criterion is judged.

    Attributes:
        store: the result store.
        plan: the plan the gate judges with (the locked plan's dates and load section
            when a pilot was started).
        criterion: the criterion being judged (``eval_set`` and ``window`` live here).
        now: the evaluation time; runs and interactions after it are ignored.
        pilot_started: when ``pilotgate pilot start`` ran (None if it did not).
    """

    store: Store
    plan: Plan
    criterion: Criterion
    now: datetime
    pilot_started: datetime | None = None
    cache: dict[Any, Any] = field(default_factory=dict)
    picks: list[tuple[Selection, Picked]] = field(default_factory=list)

    # ------------------------------------------------------------ windows
    def window(self) -> Window:
        w = self.criterion.window
        if w == "latest":
            return Window("latest", None, self.now)
        if w == "pilot":
            return self._pilot_window()
        m = re.fullmatch(r"([0-9]+)([dh])", w)
        assert m is not None  # the plan model validated the shape
        span = (
            timedelta(days=int(m.group(1)))
            if m.group(2) == "d"
            else timedelta(hours=int(m.group(1)))
        )
        return Window(w, self.now - span, self.now)

    def _pilot_window(self) -> Window:
        p = self.plan.pilot
        since = _day_start(p.start) if p.start else self.pilot_started
        if since is None:
            raise ConfigError(
                f"criterion {self.criterion.name!r} uses window 'pilot' but the pilot has no start",
                where="pilotgate.toml [pilot] start",
                fix="set [pilot] start = YYYY-MM-DD or run `pilotgate pilot start`",
            )
        until = self.now
        if p.end is not None:
            until = min(until, _day_start(p.end) + timedelta(days=1))
        return Window("pilot", since, until)

    # --------------------------------------------------------------- runs
    @property
    def version(self) -> str:
        """The version judged: the criterion's ``version``, else the plan's feature version."""
        return self.criterion.version or self.plan.feature.version

    def selection(self, kind: str, *, name: str | None = None, eval_set: bool = False) -> Selection:
        """What this criterion may read: the plan's feature, the version judged and, for
        eval, shift and robustness criteria, the criterion's eval set."""
        return Selection(
            kind=kind,
            feature=self.plan.feature.name,
            version=self.version,
            eval_set=self.criterion.eval_set if eval_set else None,
            name=name,
        )

    def _finished(self, kind: str) -> list[dict[str, Any]]:
        key = ("runs", kind)
        if key not in self.cache:
            rows = self.store.list_runs(kind, limit=RUN_SCAN_LIMIT)
            self.cache[key] = [r for r in rows if r.get("status") == "ok"]
        out: list[dict[str, Any]] = self.cache[key]
        return out

    def pick(
        self, sel: Selection, *, where: Callable[[dict[str, Any]], str | None] | None = None
    ) -> Picked:
        """The newest finished run ``sel`` may judge inside the window, and every candidate
        considered (kept for ``pilotgate gate --explain``).

        Args:
            sel: kind, feature, version, eval set, name.
            where: a provider's own reason to skip a run (None: keep it).
        """
        win = self.window()

        def outside(run: dict[str, Any]) -> str | None:
            if not win.contains(run.get("created_at")):
                return f"outside the window ({win.describe()})"
            return where(run) if where is not None else None

        picked = select_run(self._finished(sel.kind), sel, outside=outside)
        self.picks.append((sel, picked))
        return picked

    def latest_run(
        self, kind: str, *, name: str | None = None, eval_set: bool = False
    ) -> dict[str, Any] | None:
        """The run a provider judges for ``kind`` (selected as :meth:`pick` does), or None."""
        return self.pick(self.selection(kind, name=name, eval_set=eval_set)).run

    def run_window_text(self, run: dict[str, Any]) -> str:
        ts = run.get("created_at")
        when = ts.strftime("%Y-%m-%d %H:%M UTC") if isinstance(ts, datetime) else "?"
        w = self.window()
        scope = "latest run" if w.name == "latest" else f"latest run in {w.describe()}"
        return f"{scope} ({when})"

    # -------------------------------------------------------------- usage
    def usage(self, metadata: tuple[tuple[str, str], ...] = ()) -> UsageReport:
        """The usage report of the plan's feature (the criterion's ``version`` only, when it
        names one) over the criterion's window (cached), of the interactions whose metadata
        has the ``(key, value)`` pairs when given."""
        from pilotgate.usage import usage_report

        win = self.window()
        version = self.criterion.version
        key = ("usage", win.since, win.until, version, metadata)
        if key not in self.cache:
            self.cache[key] = usage_report(
                self.store,
                feature=self.plan.feature.name,
                version=version,
                since=win.since,
                until=win.until,
                steps=self.plan.pilot.steps,
                metadata=metadata,
                lazy_abandonment=True,
            )
        report: UsageReport = self.cache[key]
        return report

    def usage_figures(self) -> UsageFigures:
        """The headline usage figures of the plan's feature (the criterion's ``version``
        only, when it names one) over the criterion's window (cached): what
        :meth:`usage`'s report holds as ``figures``, without its slices by day and version."""
        from pilotgate.usage import usage_figures

        win = self.window()
        version = self.criterion.version
        key = ("usage_figures", win.since, win.until, version)
        if key not in self.cache:
            self.cache[key] = usage_figures(
                self.store,
                feature=self.plan.feature.name,
                version=version,
                since=win.since,
                until=win.until,
            )
        figures: UsageFigures = self.cache[key]
        return figures
