"""Fixtures of the load tests."""

from tests.load.h1canned import canned

__all__ = ["canned"]
