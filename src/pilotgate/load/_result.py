"""Results of load runs and their ``pilotgate.load/1`` JSON form; exact merging of shards."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pilotgate.errors import InputError
from pilotgate.load._config import LoadConfig, Shard
from pilotgate.load._metrics import (
    latency_block,
    request_counts,
    schedule_block,
    slo_block,
    timeline,
)
from pilotgate.load._pypool import harness_warnings, merge_harness
from pilotgate.load._samples import Samples

__all__ = ["SCHEMA", "LevelsResult", "LoadResult", "merge_files", "merge_results"]

SCHEMA = "pilotgate.load/1"


@dataclass
class LoadResult:
    """One load level: its configuration, the target, and every request's raw sample."""

    SCHEMA: ClassVar[str] = SCHEMA

    config: LoadConfig
    target: str
    samples: Samples
    elapsed_s: float
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    client: str = ""  # which HTTP client sent the requests ("raw", "aiohttp", "python")
    run_id: str | None = None  # the stored run, when run_load(store=…) recorded it
    harness: dict[str, Any] | None = None  # python: targets: the worker pool and its peaks
    interrupted: bool = False  # Ctrl-C stopped this level early: its figures are partial

    @property
    def window_s(self) -> float:
        """The span throughput is measured over: from the start to the last request's end."""
        if not len(self.samples):
            return self.elapsed_s
        return max(float(self.samples["end"].max()), 1e-9)

    @property
    def latency(self) -> dict[str, dict[str, float | None]]:
        return latency_block(self.samples)

    @property
    def requests(self) -> dict[str, Any]:
        return request_counts(self.samples)

    def level_json(self, *, include_samples: bool = False) -> dict[str, Any]:
        """The per-level fields (the document body without the schema header)."""
        cfg = self.config
        req = self.requests
        win = self.window_s
        doc: dict[str, Any] = {
            "label": cfg.label,
            "load": {
                "concurrency": cfg.concurrency,
                "rate": cfg.rate,
                "arrival": cfg.arrival if cfg.open_loop else None,
                "ramp_to": cfg.ramp_to,
                "max_inflight": cfg.max_inflight,
            },
            "requests": req,
            "latency_ms": self.latency,
            "throughput": {
                "requests_per_s": round(req["ok"] / win, 4) if win > 0 else None,
                "output_tokens_per_s": round(req["output_tokens"] / win, 4) if win > 0 else None,
            },
            "schedule": schedule_block(self.samples, cfg),
            "slo": slo_block(self.samples, cfg.slo, win),
            "ratelimit": {
                "last": self.samples.ratelimit,
                "min_remaining": self.samples.ratelimit_min,
            },
            "elapsed_s": round(self.elapsed_s, 4),
            "client": self.client,
            "harness": self.harness,
            "partial": self.interrupted,
            "warnings": harness_warnings(self.harness),
            "timeline": timeline(self.samples, cfg.slo),
        }
        if include_samples:
            doc["samples"] = self.samples.to_json()
        return doc

    def to_json(self, *, include_samples: bool = False) -> dict[str, Any]:
        """The ``pilotgate.load/1`` document; ``include_samples`` makes it mergeable."""
        cfg = self.config
        return {
            "schema": self.SCHEMA,
            "profile": cfg.profile_name,
            "target": self.target,
            "started_at": self.started_at,
            "config": cfg.model_dump(mode="json"),
            **self.level_json(include_samples=include_samples),
            "interrupted": self.interrupted,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], *, where: str = "document") -> LoadResult:
        """Rebuild a result from a document written with samples (``--shard`` or ``--samples``)."""
        if doc.get("schema") != SCHEMA and "label" not in doc:
            raise InputError(f"not a {SCHEMA} document", where=where)
        if "samples" not in doc:
            raise InputError(
                "the document has no raw samples, so it cannot be merged exactly",
                where=where,
                fix="write shards with --shard K/N (or --samples) and --json",
            )
        return cls(
            config=LoadConfig.model_validate(doc["config"]),
            target=str(doc.get("target", "")),
            samples=Samples.from_json(doc["samples"]),
            elapsed_s=float(doc.get("elapsed_s", 0.0)),
            started_at=str(doc.get("started_at", "")),
            client=str(doc.get("client", "")),
            harness=doc.get("harness"),
            interrupted=bool(doc.get("partial", False)),
        )


@dataclass
class LevelsResult:
    """Several load levels of one command (``--expected`` or ``--sweep``) and the knee."""

    SCHEMA: ClassVar[str] = SCHEMA

    levels: list[LoadResult]
    run_id: str | None = None  # the stored run, when run_levels(store=…) recorded it

    @property
    def knee(self) -> LoadResult | None:
        """The highest load level that met the SLO (None without an SLO, or if none did)."""
        best = None
        for r in self.levels:
            met = slo_block(r.samples, r.config.slo, r.window_s)["met"]
            if met and (best is None or r.config.load_value > best.config.load_value):
                best = r
        return best

    def to_json(self, *, include_samples: bool = False) -> dict[str, Any]:
        """The top-level fields describe the highest level; ``levels`` holds all of them."""
        if not self.levels:
            raise ValueError("no levels")
        top = max(self.levels, key=lambda r: r.config.load_value)
        doc = top.to_json()
        knee = self.knee
        slo = top.config.slo
        doc["levels"] = [r.level_json(include_samples=include_samples) for r in self.levels]
        doc["interrupted"] = any(r.interrupted for r in self.levels)
        for lvl, r in zip(doc["levels"], self.levels, strict=True):
            lvl["config"] = r.config.model_dump(mode="json")
            lvl["target"] = r.target
            lvl["started_at"] = r.started_at
        doc["knee"] = (
            None
            if knee is None
            else {
                "label": knee.config.label,
                "load": knee.config.load_value,
                "unit": "rate" if knee.config.open_loop else "concurrency",
                "goodput_per_s": slo_block(knee.samples, slo, knee.window_s)["goodput_per_s"],
            }
        )
        doc["curve"] = [
            {
                "label": r.config.label,
                "load": r.config.load_value,
                "e2e_p50_ms": lv["latency_ms"]["e2e"]["p50"],
                "e2e_p99_ms": lv["latency_ms"]["e2e"]["p99"],
                "requests_per_s": lv["throughput"]["requests_per_s"],
                "attainment": lv["slo"]["attainment"],
            }
            for r, lv in zip(self.levels, doc["levels"], strict=True)
        ]
        return doc


def _merge_key(cfg: LoadConfig) -> dict[str, Any]:
    return cfg.model_dump(
        mode="json", exclude={"shard", "workers", "allow_remote", "use_uvloop", "client"}
    )


def merge_results(results: Sequence[LoadResult]) -> LoadResult:
    """Merge shards of one run: the result is exactly what one run over the union reports.

    Raises:
        InputError: the shards belong to different runs (configurations differ).
    """
    if not results:
        raise InputError("nothing to merge", fix="pass the shard documents")
    first = results[0]
    key = _merge_key(first.config)
    for r in results[1:]:
        if _merge_key(r.config) != key:
            raise InputError(
                "shards come from different configurations",
                where=r.config.label or r.target,
                fix="merge only the shards of one run (same options, different --shard)",
            )
    shards = {(r.config.shard.index, r.config.shard.count) for r in results}
    if len(shards) != len(results):
        raise InputError("the same shard appears twice", fix="pass each shard once")
    cfg = first.config.model_copy(update={"shard": Shard()})
    started = sorted(r.started_at for r in results if r.started_at)
    return LoadResult(
        config=cfg,
        target=first.target,
        samples=Samples.concat(r.samples for r in results),
        elapsed_s=max((r.elapsed_s for r in results), default=math.nan),
        started_at=started[0] if started else "",
        client=first.client,
        harness=merge_harness([r.harness for r in results]),
        interrupted=any(r.interrupted for r in results),
    )


def merge_files(paths: Sequence[str]) -> LoadResult | LevelsResult:
    """Merge the ``--json`` documents of ``load --shard K/N`` runs, level by level.

    Raises:
        InputError: a file is unreadable, or the shards do not have the same levels.
    """
    import json
    from pathlib import Path

    docs = []
    for path in paths:
        try:
            docs.append((path, json.loads(Path(path).read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read a load document: {exc}", where=path) from None
    if all("levels" in d for _, d in docs):
        n = {len(d["levels"]) for _, d in docs}
        if len(n) != 1:
            raise InputError("shards have different numbers of levels", where=docs[0][0])
        return LevelsResult(
            [
                merge_results([LoadResult.from_json(d["levels"][i], where=p) for p, d in docs])
                for i in range(n.pop())
            ]
        )
    if any("levels" in d for _, d in docs):
        raise InputError("cannot merge multi-level and single-level documents", where=paths[0])
    return merge_results([LoadResult.from_json(d, where=p) for p, d in docs])
