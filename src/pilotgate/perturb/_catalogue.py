"""Imports every built-in perturbation module so each registers itself."""

from __future__ import annotations

from pilotgate.perturb import (  # noqa: F401
    _adversarial,
    _casing,
    _character,
    _formatting,
    _language,
    _multipart,
    _scope,
    _truncation,
    _wording,
)
