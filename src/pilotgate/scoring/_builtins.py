"""Imports the built-in scorer modules so each registers itself."""

from __future__ import annotations

from pilotgate.scoring import _embedding, _judge, _labels, _schema, _text  # noqa: F401
