"""Importing existing logs into the store: JSONL, CSV and OTLP/JSON files.

Also the record validation and the OpenTelemetry GenAI span mapping that the collector
shares, so a record is accepted (or explained) the same way however it arrives.

Names load on first use: importing the package (as the import's worker process,
``python -m pilotgate.ingest._worker``, does) loads none of them, so the worker, which
only decodes, validates and redacts, starts without the store and SQLAlchemy (~0.4 s of
CPU less per import).
"""

from typing import TYPE_CHECKING

from pilotgate._lazy import lazy_names

if TYPE_CHECKING:  # type checkers see the real names; at run time __getattr__ loads them
    from pilotgate.ingest._fate import BatchFate, store_batch, store_records, write_isolated
    from pilotgate.ingest._otlp import otlp_json_records, otlp_protobuf_records, span_to_record
    from pilotgate.ingest._otlp_logs import otlp_json_log_records, otlp_protobuf_log_records
    from pilotgate.ingest._readers import detect_format, read_records
    from pilotgate.ingest._run import FileReport, IngestReport, ingest_files
    from pilotgate.ingest._sanitise import NORMALISED
    from pilotgate.ingest._terminal import ingest_with_progress, print_ingest
    from pilotgate.ingest._validate import InvalidRecord, RecordError, validate_record

__all__ = [
    "NORMALISED",
    "BatchFate",
    "FileReport",
    "IngestReport",
    "InvalidRecord",
    "RecordError",
    "detect_format",
    "ingest_files",
    "ingest_with_progress",
    "otlp_json_log_records",
    "otlp_json_records",
    "otlp_protobuf_log_records",
    "otlp_protobuf_records",
    "print_ingest",
    "read_records",
    "span_to_record",
    "store_batch",
    "store_records",
    "validate_record",
    "write_isolated",
]

#: where each name lives
_LAZY = {
    "BatchFate": "pilotgate.ingest._fate",
    "store_batch": "pilotgate.ingest._fate",
    "store_records": "pilotgate.ingest._fate",
    "write_isolated": "pilotgate.ingest._fate",
    "otlp_json_records": "pilotgate.ingest._otlp",
    "otlp_protobuf_records": "pilotgate.ingest._otlp",
    "span_to_record": "pilotgate.ingest._otlp",
    "otlp_json_log_records": "pilotgate.ingest._otlp_logs",
    "otlp_protobuf_log_records": "pilotgate.ingest._otlp_logs",
    "detect_format": "pilotgate.ingest._readers",
    "read_records": "pilotgate.ingest._readers",
    "FileReport": "pilotgate.ingest._run",
    "IngestReport": "pilotgate.ingest._run",
    "ingest_files": "pilotgate.ingest._run",
    "NORMALISED": "pilotgate.ingest._sanitise",
    "ingest_with_progress": "pilotgate.ingest._terminal",
    "print_ingest": "pilotgate.ingest._terminal",
    "InvalidRecord": "pilotgate.ingest._validate",
    "RecordError": "pilotgate.ingest._validate",
    "validate_record": "pilotgate.ingest._validate",
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
