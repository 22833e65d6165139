"""Fixtures of the load tests."""

from h1canned import canned

__all__ = ["canned"]
