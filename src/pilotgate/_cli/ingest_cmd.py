"""``pilotgate ingest FILE…``: import JSONL, CSV or OTLP/JSON logs into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pilotgate._cli._options import write_json
from pilotgate.errors import InputError

__all__ = ["ingest", "parse_patterns", "redaction_options"]


def parse_patterns(values: tuple[str, ...]) -> dict[str, str]:
    """``NAME=REGEX`` options as a mapping (shared by ``serve``)."""
    out: dict[str, str] = {}
    for v in values:
        name, sep, regex = v.partition("=")
        if not sep or not name or not regex:
            raise click.BadParameter(f"{v!r}: use NAME=REGEX, e.g. employee_id=EMP-\\d{{5}}")
        out[name.strip()] = regex
    return out


def redaction_options(f: Any) -> Any:
    """The --no-redact / --redact-pattern options every receiving command shares."""
    f = click.option(
        "--redact-pattern",
        "redact_patterns",
        multiple=True,
        metavar="NAME=REGEX",
        help="Also redact matches of REGEX as [NAME] (repeatable).",
    )(f)
    f = click.option("--no-redact", is_flag=True, help="Store text as it is (no PII redaction).")(f)
    f = click.option(
        "--raw-ids",
        is_flag=True,
        help="Keep user_id and session_id as they are (with redaction on they are "
        "stored as keyed hashes by default).",
    )(f)
    return f


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", "store_url", help="Store URL (default: PILOTGATE_STORE, plan, local).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "otlp"]),
    help="Format of every file (default: from the extension; .json is OTLP/JSON).",
)
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(min=1))
@redaction_options
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write a JSON doc.")
def ingest(
    files: tuple[str, ...],
    store_url: str | None,
    fmt: str | None,
    batch_size: int,
    no_redact: bool,
    raw_ids: bool,
    redact_patterns: tuple[str, ...],
    json_path: str | None,
) -> None:
    """Import existing logs: ingest JSONL, CSV (header = field names) or OTLP/JSON.

    Re-importing is a no-op (records are keyed by id). Bad lines are reported with
    their line numbers and skipped; the good ones are kept. PII is redacted unless
    --no-redact; user and session ids are then stored as keyed hashes unless --raw-ids.
    """
    from rich.console import Console

    from pilotgate.ingest import print_ingest
    from pilotgate.plan import resolve_settings
    from pilotgate.redact import Redactor
    from pilotgate.store import open_store

    patterns = parse_patterns(redact_patterns)
    for f in files:
        if not Path(f).is_file():
            raise InputError("file not found", where=f, fix="check the path")
    with open_store(resolve_settings(store=store_url).store) as store:
        redactor = None if no_redact else Redactor(patterns=patterns)
        err = Console(stderr=True)
        report = _run(files, store, redactor, batch_size, fmt, not raw_ids, err)
    print_ingest(report)
    if json_path:
        write_json(json_path, report.to_json())
    if report.read == 0:
        first = next((b for f in report.files for b in f.bad), None)
        raise InputError(
            "nothing could be read" + (f"; first problem: {first}" if first else ""),
            where=", ".join(files),
            fix="see the ingest format in docs/collector.md (one JSON record per line)",
        )


def _run(
    files: tuple[str, ...],
    store: Any,
    redactor: Any,
    batch_size: int,
    fmt: str | None,
    pseudonymise_ids: bool,
    err: Any,
) -> Any:
    """:func:`~pilotgate.ingest.ingest_files` with a progress bar for large inputs."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from pilotgate.ingest import ingest_files

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

        return ingest_files(
            files,
            store,
            redactor=redactor,
            batch_size=batch_size,
            progress=progress,
            fmt=fmt,
            pseudonymise_ids=pseudonymise_ids,
        )
