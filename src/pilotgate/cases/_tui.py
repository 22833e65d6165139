"""``pilotgate cases review``: the review queue in the terminal, one key per decision.

Testable by design: the console and the two input functions (one key, one line) are
parameters, so a test drives a real session with a scripted list of keys and reads
what was shown, against a real store, with nothing patched.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pilotgate._term import term_text, visible
from pilotgate.cases._review import pending_reviews, record_review
from pilotgate.errors import InputError
from pilotgate.records import Case

if TYPE_CHECKING:
    from rich.console import Console

    from pilotgate.store import Store

__all__ = ["KEYS", "ReviewSession", "review_session"]

#: key -> what it does (shown by ``?``).
KEYS = {
    "a": "accept the output as the reference",
    "w": "write a reference",
    "t": "add tags (comma-separated)",
    "s": "skip for now (comes back last)",
    "d": "drop the case from the set",
    "q": "quit (reviews made so far are kept)",
    "?": "show these keys",
}


@dataclass
class ReviewSession:
    """What a session did."""

    SCHEMA: ClassVar[str] = "pilotgate.cases.review/1"

    name: str
    reviewer: str | None
    pending: int
    actions: Counter[str] = field(default_factory=Counter)
    reviewed: int = 0
    quit: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "name": self.name,
            "reviewer": self.reviewer,
            "pending_at_start": self.pending,
            "reviewed": self.reviewed,
            "actions": dict(self.actions),
            "quit": self.quit,
        }


def _default_key() -> str:
    import click

    try:
        return click.getchar()
    except OSError:  # no terminal: stdin redirected and no /dev/tty (CI, cron, a pipe)
        raise InputError(
            "cases review needs a terminal (it reads one key per decision)",
            fix="run it in a terminal, review in the dashboard (pilotgate serve), or import "
            "decisions from a file with `pilotgate cases import-labels NAME FILE`",
        ) from None


def _line_reader(console: Console) -> Callable[[str], str]:
    def read(prompt: str) -> str:
        return console.input(prompt)

    return read


def review_session(
    store: Store,
    name: str,
    *,
    reviewer: str | None = None,
    console: Console | None = None,
    read_key: Callable[[], str] | None = None,
    read_line: Callable[[str], str] | None = None,
    limit: int | None = None,
) -> ReviewSession:
    """Walk the pending cases of ``name``, storing one review per decision key.

    Args:
        reviewer: who is reviewing (default ``$USER``).
        console: where to draw (default a rich Console on stdout).
        read_key: returns one pressed key (default :func:`click.getchar`).
        read_line: prompts for a line of text (default ``console.input``).
        limit: stop after this many cases.
    """
    from rich.console import Console

    console = console or Console()
    read_key = read_key or _default_key
    read_line = read_line or _line_reader(console)
    queue = pending_reviews(store, name)
    session = ReviewSession(name, reviewer, len(queue))
    if not queue:
        console.print(f"nothing to review in {name}: every case has a decision")
        return session
    for n, case in enumerate(queue[:limit] if limit else queue, start=1):
        _show(console, case, n, len(queue))
        if not _decide(store, name, case, reviewer, console, read_key, read_line, session):
            session.quit = True
            break
        session.reviewed += 1
    done = ", ".join(f"{k} {v}" for k, v in sorted(session.actions.items())) or "nothing"
    console.print(f"reviewed {session.reviewed} of {len(queue)}: {done}", markup=False)
    return session


def _decide(
    store: Store,
    name: str,
    case: Case,
    reviewer: str | None,
    console: Console,
    read_key: Callable[[], str],
    read_line: Callable[[str], str],
    session: ReviewSession,
) -> bool:
    """Handle keys for one case until a decision; False when the reviewer quits."""
    while True:
        console.print("[dim]a accept · w write · t tag · s skip · d drop · q quit · ? help[/dim]")
        key = read_key().lower()
        if key in ("q", "\x03", "\x04"):
            return False
        try:
            if key == "a":
                record_review(store, name, case.id, "accept", reviewer=reviewer)
                session.actions["accept"] += 1
                console.print("accepted the output as reference")
                return True
            if key == "w":
                text = read_line("reference> ").strip()
                if not text:
                    console.print("no reference written; still on this case")
                    continue
                record_review(store, name, case.id, "reference", reference=text, reviewer=reviewer)
                session.actions["reference"] += 1
                console.print("reference saved")
                return True
            if key == "t":
                tags = [s.strip() for s in read_line("tags> ").split(",") if s.strip()]
                if not tags:
                    continue
                record_review(store, name, case.id, "tag", tags=tags, reviewer=reviewer)
                session.actions["tag"] += 1
                case.tags.extend(x for x in tags if x not in case.tags)
                console.print(f"tags now: {visible(', '.join(case.tags))}", markup=False)
                continue
            if key == "s":
                record_review(store, name, case.id, "skip", reviewer=reviewer)
                session.actions["skip"] += 1
                return True
            if key == "d":
                record_review(store, name, case.id, "drop", reviewer=reviewer)
                session.actions["drop"] += 1
                console.print("dropped")
                return True
        except InputError as exc:
            console.print(f"can't: {exc.what}", markup=False)
            continue
        for k, what in KEYS.items():
            console.print(f"  {k}  {what}", markup=False)


def _show(console: Console, case: Case, n: int, total: int) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    origin = case.origin or {}
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("input", _input_text(case.input))
    output = origin.get("output")
    grid.add_row("output", term_text(output) if output is not None else Text("(none)", "dim"))
    fb = origin.get("feedback")
    grid.add_row("feedback", term_text(_feedback_text(fb, origin)))
    if case.expected is not None:
        src = origin.get("reference_source", "?")
        grid.add_row("reference", term_text(f"{_as_text(case.expected)}  [{src}]"))
    if case.tags:
        grid.add_row("tags", term_text(", ".join(case.tags)))
    title = term_text(f"{n}/{total}  {case.id}")
    console.print(Panel(grid, title=title, title_align="left"))


def _input_text(value: str | list[dict[str, Any]]) -> Any:
    if isinstance(value, str):
        return term_text(value)
    lines = [f"{m.get('role', 'user')}: {_as_text(m.get('content', ''))}" for m in value]
    return term_text("\n".join(lines))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _feedback_text(fb: dict[str, Any] | None, origin: dict[str, Any]) -> str:
    parts: list[str] = []
    if fb:
        acc = fb.get("accepted")
        if acc is not None:
            parts.append("accepted" if acc else "rejected")
        if fb.get("edited_output") is not None:
            parts.append(f"edited to: {fb['edited_output']}")
        if fb.get("score") is not None:
            parts.append(f"score {fb['score']}")
        if fb.get("comment"):
            parts.append(f"comment: {fb['comment']}")
    failures = origin.get("failures") or []
    if failures:
        parts.append("signals: " + ", ".join(failures))
    return "; ".join(parts) or "none"
