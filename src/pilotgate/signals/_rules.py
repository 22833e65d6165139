"""The rules: one interaction's implicit signals from its neighbours, feedback and steps.

Pure functions over plain rows, so each rule can be read and tested on its own. A
*stream* is what one person sent, in time order: the user's interactions when the user is
known, else the session's. ``None`` means "cannot tell" (no text, no session, or the
window has not elapsed yet at the data's end) and is left out of every rate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal

from pilotgate.plan import SignalsSection
from pilotgate.signals._phrases import PhraseMatcher, matchers, normalise

__all__ = ["Feedback", "Row", "Rules", "Signals", "Step", "answered_at", "stream_key", "windows"]

Outcome = Literal["good", "bad", "unknown"]


@dataclass
class Row:
    """The columns of one interaction the rules read."""

    id: str
    ts: datetime
    version: str
    session_id: str | None
    user_id: str | None
    text: str
    latency_ms: float | None = None
    error: str | None = None
    answered: bool = True

    @cached_property  # read ~10 times a row by the rules
    def answered_at(self) -> datetime:
        return answered_at(self.ts, self.latency_ms)


def answered_at(ts: datetime, latency_ms: float | None) -> datetime:
    """When an interaction's answer came: its time plus its latency (none or negative: 0,
    at most a day). Every window of a signal starts here."""
    ms = latency_ms if latency_ms is not None and latency_ms > 0 else 0.0
    return ts + timedelta(milliseconds=min(ms, 86_400_000.0))


def windows(cfg: SignalsSection) -> tuple[float, float, float, float]:
    """The signals' windows in seconds (rephrase, escalation, follow-up, abandonment): a
    signal that waits on the data's end is told at the answer's time plus one of them."""
    return (
        cfg.rephrase_window_s,
        cfg.escalate_window_s,
        cfg.followup_window_s,
        cfg.abandon_window_s,
    )


@dataclass(frozen=True)
class Feedback:
    """The latest explicit feedback on an interaction."""

    accepted: bool | None
    edited: bool = False


@dataclass(frozen=True)
class Step:
    """A workflow step of a session; ``interaction_id`` when the app named one."""

    ts: datetime
    name: str
    interaction_id: str | None = None


@dataclass
class Signals:
    """What one interaction's user did next, and the outcome it implies."""

    id: str
    rephrased: bool | None = None
    escalated: bool | None = None
    abandoned: bool | None = None
    copied: bool = False
    followed_up: bool | None = None
    accepted: bool | None = None
    edited: bool = False
    outcome: Outcome = "unknown"
    final: bool = True
    reasons: list[str] = field(default_factory=list)


def stream_key(row: Row) -> str | None:
    """The user when known, else the session: whose next request follows this one."""
    if row.user_id:
        return "u:" + row.user_id
    if row.session_id:
        return "s:" + row.session_id
    return None


Similar = Callable[[Row, Row], bool]


class Rules:
    """The plan's ``[signals]`` rules, applied to one stream at a time."""

    def __init__(self, cfg: SignalsSection, similar: Similar) -> None:
        self.cfg = cfg
        self.similar = similar
        self.escalation: PhraseMatcher
        self.negative: PhraseMatcher
        self.escalation, self.negative = matchers(cfg.escalation_phrases, cfg.negative_phrases)
        self.copy_steps = frozenset(cfg.copy_steps)
        self.skew = timedelta(seconds=cfg.clock_skew_s)
        self.horizon = timedelta(seconds=max(windows(cfg)))

    def stream(
        self,
        rows: Sequence[Row],
        feedback: dict[str, Feedback],
        steps: dict[str, list[Step]],
        data_end: datetime,
    ) -> list[Signals]:
        """Signals for every row of one stream (``rows`` in time order)."""
        next_in_session = _next_in_session(rows)
        out = []
        for k, row in enumerate(rows):
            nxt = rows[k + 1] if k + 1 < len(rows) else None
            fb = feedback.get(row.id)
            out.append(self.one(row, nxt, next_in_session[k], fb, steps, data_end))
        return out

    def one(
        self,
        row: Row,
        nxt: Row | None,
        next_in_session: Row | None,
        fb: Feedback | None,
        steps: dict[str, list[Step]],
        data_end: datetime,
    ) -> Signals:
        cfg = self.cfg
        s = Signals(row.id)
        s.final = row.answered_at + self.horizon <= data_end
        if fb is not None:
            s.accepted, s.edited = fb.accepted, fb.edited
        sess_steps = steps.get(row.session_id or "", []) if row.session_id else []
        s.copied = self._copied(row, next_in_session, sess_steps)
        gap = _gap(row, nxt)
        keyed = stream_key(row) is not None
        s.rephrased = self._within(
            keyed and bool(row.text.strip()), nxt, gap, cfg.rephrase_window_s, row, data_end
        )
        if s.rephrased and nxt is not None:
            s.rephrased = self.similar(row, nxt)
        s.escalated = self._within(keyed, nxt, gap, cfg.escalate_window_s, row, data_end)
        if s.escalated and nxt is not None:
            s.escalated = self.escalation.matches(nxt.text) or bool(
                s.rephrased and self.negative.matches(nxt.text)
            )
        positive = s.copied or s.accepted is True
        s.abandoned = self._abandoned(row, next_in_session, nxt, sess_steps, data_end, positive)
        s.followed_up = self._within(keyed, nxt, gap, cfg.followup_window_s, row, data_end)
        if s.followed_up:
            s.followed_up = positive and not s.rephrased and not s.escalated
        s.outcome, s.reasons = self._outcome(row, s)
        return s

    # ------------------------------------------------------------------ rules
    def _within(
        self,
        possible: bool,
        nxt: Row | None,
        gap: float | None,
        window_s: float,
        row: Row,
        data_end: datetime,
    ) -> bool | None:
        """True when a next request came within the window; False when none did and the
        window has elapsed; None when it cannot be told."""
        if not possible:
            return None
        if nxt is not None and gap is not None and gap <= window_s:
            return True
        if row.answered_at + timedelta(seconds=window_s) <= data_end:
            return False
        return None

    def _copied(self, row: Row, next_in_session: Row | None, steps: list[Step]) -> bool:
        lo = row.ts - self.skew
        hi = next_in_session.ts - self.skew if next_in_session is not None else None
        for st in steps:
            if st.name not in self.copy_steps:
                continue
            if st.interaction_id is not None:
                if st.interaction_id == row.id:
                    return True
            elif st.ts >= lo and (hi is None or st.ts < hi):
                return True
        return False

    def _abandoned(
        self,
        row: Row,
        next_in_session: Row | None,
        nxt: Row | None,
        steps: list[Step],
        data_end: datetime,
        positive: bool,
    ) -> bool | None:
        window = timedelta(seconds=self.cfg.abandon_window_s)
        if row.session_id:
            if next_in_session is not None:
                return False
            last = max((st.ts for st in steps), default=row.answered_at)
            said = any("abandon" in st.name for st in steps if st.ts >= row.ts - self.skew)
            ended = said or last <= row.answered_at + window + self.skew
        elif row.user_id:
            if nxt is not None and nxt.ts - row.answered_at <= window:
                return False
            ended = True
        else:
            return None
        if not said_or_elapsed(row.answered_at + window, data_end, ended):
            return None
        return ended and not positive

    def _outcome(self, row: Row, s: Signals) -> tuple[Outcome, list[str]]:
        cfg = self.cfg
        if s.accepted is False:
            return "bad", ["rejected"]
        if s.edited and cfg.edited_is_bad:
            return "bad", ["edited"]
        if s.accepted is True:
            return "good", ["accepted"]
        if row.error:
            return "bad", ["errored"]
        bad: list[str] = [name for name in cfg.bad_signals if getattr(s, name) is True]
        if bad:
            return "bad", bad
        good: list[str] = [name for name in cfg.good_signals if getattr(s, name) is True]
        if good:
            return "good", good
        return "unknown", []


def said_or_elapsed(deadline: datetime, data_end: datetime, ended: bool) -> bool:
    """An end can be told once the window has passed at the data's end."""
    return deadline <= data_end or not ended


def _gap(row: Row, nxt: Row | None) -> float | None:
    """Seconds from the answer to the next request; a next request stamped before the
    answer (another clock, or sent while waiting) counts as immediate."""
    if nxt is None:
        return None
    return max(0.0, (nxt.ts - row.answered_at).total_seconds())


def _next_in_session(rows: Sequence[Row]) -> list[Row | None]:
    """For each row, the next row of the same session (one backward pass)."""
    out: list[Row | None] = [None] * len(rows)
    later: dict[str, Row] = {}
    for k in range(len(rows) - 1, -1, -1):
        sid = rows[k].session_id
        if sid:
            out[k] = later.get(sid)
            later[sid] = rows[k]
    return out


def same_text(a: Row, b: Row) -> bool:
    """Normalised-text match (case, accents, punctuation and spacing ignored)."""
    na = normalise(a.text)
    return bool(na) and na == normalise(b.text)
