"""``pilotgate ingest FILE…``: import JSONL, CSV or OTLP/JSON logs into the store."""

from __future__ import annotations

from pathlib import Path

import click

from pilotgate._cli._options import (
    FILE,
    json_option,
    parse_patterns,
    redaction_options,
    store_option,
    write_json,
)
from pilotgate.errors import InputError

__all__ = ["ingest"]


# fmt: off
@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=FILE)
@store_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "otlp"]),
              help="Format of every file (default: from the extension; .json is OTLP/JSON).")
@click.option("--batch-size", type=click.IntRange(min=1),
              help="Records per transaction (default: 2000 on SQLite, 8000 on PostgreSQL).")
@redaction_options
@json_option("pilotgate.ingest/1")
# fmt: on
def ingest(
    files: tuple[str, ...], store_url: str | None, fmt: str | None, batch_size: int | None,
    no_redact: bool, raw_ids: bool, redact_patterns: tuple[str, ...], json_path: str | None,
) -> None:  # fmt: skip
    """Import existing logs: ingest JSONL, CSV (header = field names) or OTLP/JSON.

    Re-importing is a no-op (records are keyed by id). Bad lines are reported with
    their line numbers and skipped; the good ones are kept. PII is redacted unless
    --no-redact; user and session ids are then stored as keyed hashes unless --raw-ids.
    """
    from pilotgate.ingest import ingest_with_progress, print_ingest
    from pilotgate.plan import resolve_settings
    from pilotgate.redact import Redactor
    from pilotgate.store import open_store

    patterns = parse_patterns(redact_patterns)
    for f in files:
        if not Path(f).is_file():
            raise InputError("file not found", where=f, fix="check the path")
    with open_store(resolve_settings(store=store_url).store) as store:
        redactor = None if no_redact else Redactor(patterns=patterns)
        report = ingest_with_progress(files, store, redactor=redactor, batch_size=batch_size,
                                      fmt=fmt, pseudonymise_ids=not raw_ids)  # fmt: skip
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
