"""Importing existing logs into the store: JSONL, CSV and OTLP/JSON files.

Also the record validation and the OpenTelemetry GenAI span mapping that the collector
shares, so a record is accepted (or explained) the same way however it arrives.
"""

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
