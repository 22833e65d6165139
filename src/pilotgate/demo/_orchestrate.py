"""``pilotgate demo``: the whole flow on the bundled feature, in a few minutes on 2 cores.

It starts the provider simulator and the Northwind support assistant on free loopback
ports, replays the simulated production stream through the assistant into a fresh store,
then runs every capability that is installed and writes the report. Each capability is one
step here; a step that fails is reported and the rest still run.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pilotgate.records import parse_ingest_line

__all__ = ["DemoConfig", "DemoContext", "DemoStep", "run_demo"]


@dataclass
class DemoConfig:
    """What the demo does and where it writes.

    Attributes:
        out_dir: everything goes here: the store, the plan, data files, report.html.
        seed: one seed for every random process.
        n_requests: size of the simulated production stream.
        concurrency: sessions replayed at once.
        switch_day: from this pilot day on, traffic goes to v2 (the week-two fix).
    """

    out_dir: Path = Path("pilotgate-demo")
    seed: int = 0
    n_requests: int = 5000
    concurrency: int = 48
    switch_day: int = 7
    days: int = 14
    expected_users: int = 8
    load_seconds: float = 6.0
    slo_p99_ms: float = 2500.0


@dataclass
class DemoStep:
    name: str
    status: str = "pending"
    seconds: float = 0.0
    summary: str = ""
    error: str | None = None


@dataclass
class DemoContext:
    """State shared by the demo's steps."""

    config: DemoConfig
    store_url: str
    llm_url: str = ""
    feature_urls: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


def run_demo(
    config: DemoConfig,
    *,
    on_step: Callable[[DemoStep], None] | None = None,
    extra_steps: list[tuple[str, Callable[[DemoContext], str]]] | None = None,
) -> tuple[DemoContext, list[DemoStep]]:
    """Run the demo end to end; returns the context and the step log."""
    from pilotgate.demo._services import demo_services

    out = config.out_dir
    if (out / "pilotgate.db").exists():
        for name in ("pilotgate.db", "pilotgate.db-wal", "pilotgate.db-shm"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(config=config, store_url=f"sqlite:///{out / 'pilotgate.db'}")
    log: list[DemoStep] = []
    with demo_services(seed=config.seed) as services:
        ctx.llm_url = services.llm_url
        ctx.feature_urls = services.feature_urls
        steps: list[tuple[str, Callable[[DemoContext], str]]] = [
            ("pilot plan", write_plan),
            ("replay production", replay_production),
            ("write data files", write_data_files),
        ]
        steps += extra_steps or []
        for name, fn in steps:
            step = DemoStep(name)
            t0 = time.perf_counter()
            try:
                step.summary = fn(ctx)
                step.status = "ok"
            except Exception as exc:  # a failed step is reported; the others still run
                step.status = "failed"
                step.error = f"{type(exc).__name__}: {exc}"
            step.seconds = time.perf_counter() - t0
            log.append(step)
            if on_step is not None:
                on_step(step)
    return ctx, log


def write_plan(ctx: DemoContext) -> str:
    """The pilot plan with its success criteria, before any data exists."""
    from pilotgate.demo._plan import write_demo_plan

    cfg = ctx.config
    path = write_demo_plan(
        cfg.out_dir / "pilotgate.toml",
        store_url=ctx.store_url,
        feature_urls=ctx.feature_urls,
        users=cfg.expected_users,
        slo_p99_ms=cfg.slo_p99_ms,
        days=cfg.days,
    )
    ctx.files["plan"] = path
    return f"{path.name}: criteria declared before the pilot starts"


def replay_production(ctx: DemoContext) -> str:
    """Send the production stream through the assistant, sessions in parallel."""
    from pilotgate.demo.data import production_stream
    from pilotgate.store import Store

    cfg = ctx.config
    stream = production_stream(seed=cfg.seed, n=cfg.n_requests, days=cfg.days)
    records = asyncio.run(_replay(ctx, stream))
    parsed = [parse_ingest_line(r) for r in records]
    with Store(ctx.store_url) as store:
        counts = store.ingest(parsed)
    ctx.results["production"] = stream
    return (
        f"{counts['interaction']} interactions, {counts['feedback']} feedback, "
        f"{counts['step']} steps"
    )


async def _replay(ctx: DemoContext, stream: list[Any]) -> list[dict[str, Any]]:
    from pilotgate.demo import SupportAssistant
    from pilotgate.demo.data import react, to_ingest_records

    cfg = ctx.config
    t0 = stream[0].ts if stream else None
    sessions: dict[str, list[Any]] = defaultdict(list)
    for req in stream:
        sessions[req.session_id].append(req)
    assistants = {v: SupportAssistant(ctx.llm_url + "/v1", version=v) for v in ("v1", "v2")}
    out: list[dict[str, Any]] = []
    sem = asyncio.Semaphore(cfg.concurrency)

    async def run_session(sid: str, reqs: list[Any]) -> None:
        rng = random.Random(f"{cfg.seed}:{sid}")
        async with sem:
            for req in reqs:
                day = (req.ts - t0).days if t0 is not None else 0
                version = "v1" if day < cfg.switch_day else "v2"
                start = time.perf_counter()
                try:
                    reply = await assistants[version].answer(req.text)
                except Exception as exc:
                    ms = (time.perf_counter() - start) * 1000
                    out.extend(
                        to_ingest_records(
                            req,
                            None,
                            None,
                            latency_ms=ms,
                            error=type(exc).__name__,
                            version=version,
                        )
                    )
                    continue
                ms = (time.perf_counter() - start) * 1000
                reaction = react(req, reply, rng)
                out.extend(to_ingest_records(req, reply, reaction, latency_ms=ms))
                if reaction.abandoned:
                    break

    try:
        await asyncio.gather(*(run_session(s, r) for s, r in sessions.items()))
    finally:
        for a in assistants.values():
            await a.aclose()
    return out


def write_data_files(ctx: DemoContext) -> str:
    """The demo set and the production inputs as files, for file-based commands."""
    import json

    from pilotgate.demo.data import demo_set

    out = ctx.config.out_dir
    demo_path = out / "demo_set.jsonl"
    with demo_path.open("w", encoding="utf-8") as fh:
        for case in demo_set(seed=ctx.config.seed):
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    prod_path = out / "production_cases.jsonl"
    stream = ctx.results.get("production", [])
    with prod_path.open("w", encoding="utf-8") as fh:
        for req in stream:
            case = {
                "id": req.id,
                "input": req.text,
                "expected": req.true_intent,
                "tags": list(req.tags),
                "source": "production",
            }
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    ctx.files.update(demo_set=demo_path, production=prod_path)
    return f"{demo_path.name}, {prod_path.name}"


def clean(out_dir: Path) -> None:
    shutil.rmtree(out_dir, ignore_errors=True)


_ = timedelta
