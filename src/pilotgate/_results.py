"""The one shape of a result document: a ``SCHEMA`` name and ``to_json()``.

Every capability's entry point returns a result object (``EvalResult``, ``GateResult``,
``LoadResult``…) that the CLI writes with ``--json``, the store keeps as the run's
summary and users' scripts read. They share this small protocol, so one writer serves
them all and a reader can tell a document's kind and version from ``SCHEMA`` alone
(``"pilotgate.<command>/<version>"``, the document's ``"schema"`` field). Public as
:class:`pilotgate.records.ResultDocument`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["ResultDocument"]


@runtime_checkable
class ResultDocument(Protocol):
    """A result that writes itself as a versioned JSON document.

    Attributes:
        SCHEMA: the document's ``"schema"`` value, ``"pilotgate.<command>/<version>"``;
            fields may be added to a version, never removed.
    """

    SCHEMA: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        """The document: plain JSON types, ``"schema"`` equal to ``SCHEMA``."""
        ...
