"""The terminal summary of an ingest: per file, redactions, bad lines, orphaned feedback."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotgate.ingest._run import IngestReport, ingest_files

if TYPE_CHECKING:
    from rich.console import Console

    from pilotgate.store import Store

__all__ = ["ingest_with_progress", "print_ingest"]

_SHOWN_BAD_LINES = 20


def print_ingest(report: IngestReport, console: Console | None = None) -> None:
    """Print what :func:`ingest_files` did; bad lines beyond the first 20 are only counted.

    Args:
        report: the ingest's report.
        console: a ``rich.console.Console`` (default: a new one on standard output).
    """
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="pilotgate ingest")
    for col in ("file", "format", "records", "written", "bad lines", "skipped spans"):
        table.add_column(col, justify="left" if col in ("file", "format") else "right")
    for f in report.files:
        new = ", ".join(f"{k} {v}" for k, v in f.stored_new.items()) or "0"
        table.add_row(f.path, f.format, str(f.read), new, str(len(f.bad)), str(f.skipped_spans))
    console.print(table)
    if report.redact:
        red = ", ".join(f"{k} {v}" for k, v in sorted(report.redactions.items())) or "none found"
        console.print(f"redacted: {red}")
    else:
        console.print("redaction: off (--no-redact)")
    if report.normalised:
        console.print(f"normalised: {report.normalised} NUL/lone-surrogate character(s) -> U+FFFD")
    if report.n_bad:
        _print_bad_lines(report, console)
    if report.unknown_interactions:
        examples = ", ".join(report.unknown_examples)
        console.print(
            f"warning: feedback for {report.unknown_interactions} interaction id(s) not in "
            f"the store (e.g. {examples}); it is stored, but no figure counts it until the "
            "interaction arrives",
            markup=False,
            highlight=False,
            style="yellow",
        )


def _print_bad_lines(report: IngestReport, console: Any) -> None:
    console.print(f"[yellow]warning: {report.n_bad} bad line(s) skipped:[/yellow]")
    bad = [b for f in report.files for b in f.bad]
    for b in bad[:_SHOWN_BAD_LINES]:
        console.print(f"  {b}", markup=False, highlight=False)
    if len(bad) > _SHOWN_BAD_LINES:
        console.print(f"  … and {len(bad) - _SHOWN_BAD_LINES} more (see --json)")


def ingest_with_progress(files: Sequence[str | Path], store: Store, **options: Any) -> IngestReport:
    """:func:`ingest_files` with a progress bar on a terminal's stderr for inputs of 4 MiB or more.

    ``options`` are :func:`ingest_files`'s keywords (``redactor``, ``batch_size``, ``fmt``…).
    """
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    err = Console(stderr=True)
    total = sum(Path(f).stat().st_size for f in files)
    show = err.is_terminal and total >= 4 * 1024 * 1024
    description = "[progress.description]{task.description}"
    columns = (description, BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not show) as bar:
        task = bar.add_task("ingest", total=total)
        done: dict[Path, int] = {}

        def progress(path: Path, pos: int) -> None:
            done[path] = pos
            bar.update(task, completed=sum(done.values()), description=path.name)

        return ingest_files(files, store, progress=progress, **options)
