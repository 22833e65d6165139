"""``pilotgate eval run`` and ``pilotgate eval compare``: score a target, compare versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pilotgate.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["eval_group"]

_STORE_HELP = "Store URL (default: PILOTGATE_STORE, plan, local)."


@click.group("eval")
def eval_group() -> None:
    """Evaluate a target on an eval set, and compare two runs (e.g. v1 vs v2)."""


def _write_json(path: str | None, doc: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(
            json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )


def _console() -> Console:
    from rich.console import Console

    return Console(width=140)


@eval_group.command("run")
@click.option("--target", "-t", required=True, help="python:pkg.mod:fn, openai:URL, http:URL.")
@click.option("--model", default=None, help="Model name for an openai: target.")
@click.option("--cases", type=click.Path(dir_okay=False), help="Cases JSONL (or ingest JSONL).")
@click.option("--eval-set", help="A stored eval set: NAME or NAME@VERSION.")
@click.option(
    "--scorer",
    "-s",
    "scorers",
    multiple=True,
    help="NAME or NAME:key=value,... (repeatable), e.g. label, judge:target=openai:URL,repeats=3.",
)
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--name", default=None, help="A name for the run.")
@click.option(
    "--feature",
    default=None,
    help="Feature name recorded with the run (default: the plan's [feature] name).",
)
@click.option(
    "--version",
    "version",
    default=None,
    help="Feature version (default: the plan's [feature] version; labels compare verdicts; "
    "part of the response-cache key).",
)
@click.option("--resume", default=None, help="Continue an interrupted run: its RUN_ID.")
@click.option("--no-cache", is_flag=True, help="Call the target even for cached inputs.")
@click.option(
    "--retries", type=click.IntRange(0, 10), default=3, show_default=True, help="On 429/503."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option(
    "--clusters",
    type=click.IntRange(min=1),
    default=None,
    help="Cluster inputs that carry no cluster into K groups (k-means on embeddings).",
)
@click.option(
    "--embedder", default="minilm", show_default=True, help="Embedding backend for --clusters."
)
@click.option("--store", "store_url", default=None, help=_STORE_HELP)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the result.")
@click.option("--rows", "rows_path", type=click.Path(dir_okay=False), help="Per-case JSONL.")
def run_cmd(
    target: str,
    model: str | None,
    cases: str | None,
    eval_set: str | None,
    scorers: tuple[str, ...],
    concurrency: int,
    name: str | None,
    feature: str | None,
    version: str | None,
    resume: str | None,
    no_cache: bool,
    retries: int,
    seed: int,
    clusters: int | None,
    embedder: str,
    store_url: str | None,
    json_path: str | None,
    rows_path: str | None,
) -> None:
    """Call the target on every case, score the outputs and store the run.

    Finished cases are stored as they complete (--resume RUN_ID continues a killed
    run); responses are cached by target and input, so an unchanged re-run makes
    no target calls.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from pilotgate.evaluate import run_eval

    if not scorers:
        raise ConfigError("no --scorer given", fix="e.g. --scorer label or --scorer exact")
    from pilotgate._cli._options import ensure_reachable, plan_scope
    from pilotgate.plan import resolve_settings
    from pilotgate.targets import resolve_target

    plan = resolve_settings(store=store_url).plan
    if plan is not None:
        feature, version = plan_scope(feature, version, plan)
    tgt = resolve_target(
        target,
        model=model,
        retries=retries,
        plan_targets=plan.targets if plan is not None else None,
    )
    ensure_reachable(tgt.config)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("evaluating", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_eval(
            tgt,
            cases,
            list(scorers),
            eval_set=eval_set,
            store=store_url,
            concurrency=concurrency,
            name=name,
            resume=resume,
            use_cache=not no_cache,
            feature=feature,
            version=version,
            model=model,
            retries=retries,
            seed=seed,
            clusters=clusters,
            embedder=embedder,
            progress=progress,
            on_start=lambda rid: click.echo(f"run {rid} (resume with --resume {rid})", err=True),
        )
    _render_run(result.document)
    _write_json(json_path, result.document)
    if rows_path:
        with Path(rows_path).open("w", encoding="utf-8") as fh:
            for row in result.rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def _ci(doc: dict[str, Any]) -> str:
    lo, hi = doc.get("ci95") or [None, None]
    if lo is None or hi is None:
        return "—"
    return f"{100 * lo:.1f}–{100 * hi:.1f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def _render_run(doc: dict[str, Any]) -> None:
    from rich.table import Table

    console = _console()
    title = (
        f"eval run {doc['run_id']} — {doc['target']} on {doc['cases']['ref']}: "
        f"{doc['n_cases']} cases, {doc['calls']} target calls, {doc['cache_hits']} cached, "
        f"{doc['resumed_skipped']} resumed, {doc['n_errors']} errors"
    )
    table = Table(title=title)
    for col in ("scorer", "n", "mean %", "95% CI", "pass %", "judge agreement"):
        table.add_column(col)
    for key, s in doc["scorers"].items():
        judge = s.get("judge")
        agree = "—"
        if judge:
            if judge.get("agreement") is not None:
                agree = f"{_pct(judge['agreement'])} % over {judge['repeats']} repeats"
            elif judge["repeats"] > 1:
                agree = "no verdicts to compare"
            else:
                agree = "not measured (repeats=1)"
            if judge.get("unparsed"):
                agree += f"; {judge['unparsed']} cases without a verdict"
        table.add_row(key, str(s["n"]), _pct(s["mean"]), _ci(s), _pct(s["pass_rate"]), agree)
    console.print(table)
    keys = list(doc["scorers"])
    for section in ("by_tag", "by_cluster"):
        groups = doc.get(section) or {}
        if not groups or not keys:
            continue
        t = Table(title=f"{section.replace('_', ' ')} ({keys[0]})")
        for col in ("group", "n", "mean %", "95% CI"):
            t.add_column(col)
        for g, stats in list(groups.items())[:15]:
            s = stats[keys[0]]
            t.add_row(g, str(stats["n"]), _pct(s["mean"]), _ci(s))
        console.print(t)
    if doc["status"] != "ok":
        console.print(f"[yellow]run {doc['status']}: resume with --resume {doc['run_id']}[/]")


@eval_group.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--scorer", "-s", "scorers", multiple=True, help="Scorer key(s) to compare.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resampling.")
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="A judge agreeing with itself less often than this cannot make B better.",
)
@click.option("--name", default=None, help="A name for the stored comparison.")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when B is significantly worse.")
@click.option("--store", "store_url", default=None, help=_STORE_HELP)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the result.")
def compare_cmd(
    run_a: str,
    run_b: str,
    scorers: tuple[str, ...],
    seed: int,
    min_agreement: float,
    name: str | None,
    fail_on_regression: bool,
    store_url: str | None,
    json_path: str | None,
) -> None:
    """Compare eval run RUN_B against RUN_A on their shared cases (paired)."""
    from pilotgate.evaluate import compare_runs

    result = compare_runs(
        run_a,
        run_b,
        store=store_url,
        scorers=list(scorers) or None,
        seed=seed,
        min_agreement=min_agreement,
        name=name,
    )
    _render_compare(result.document)
    _write_json(json_path, result.document)
    if fail_on_regression and result.document["outcome"] == "worse":
        raise SystemExit(1)


def _render_compare(doc: dict[str, Any]) -> None:
    from rich.table import Table

    console = _console()
    a, b = doc["labels"]["a"], doc["labels"]["b"]
    table = Table(title=f"{b} vs {a} on {doc['n_shared']} shared cases")
    for col in ("scorer", a, b, "diff (pt)", "95% CI (pt)", "test", "p", "+", "−", "outcome"):
        table.add_column(col)
    for key, s in doc["scorers"].items():
        lo, hi = s["ci95"]
        table.add_row(
            key,
            _pct(s["mean_a"]),
            _pct(s["mean_b"]),
            f"{100 * s['diff']:+.1f}",
            f"[{100 * lo:+.1f}, {100 * hi:+.1f}]",
            s["test"],
            f"{s['p_value']:.3g}",
            str(s["improved"]),
            str(s["regressed"]),
            s["outcome"],
        )
    console.print(table)
    head = doc["scorers"][doc["primary"]]
    for direction in ("regressed", "improved"):
        flips = head["flipped"][direction][:5]
        if not flips:
            continue
        t = Table(title=f"{direction} ({head[direction]} cases, first {len(flips)})")
        for col in ("case", "input", f"output {a}", f"output {b}"):
            t.add_column(col, overflow="fold", max_width=45)
        for f in flips:
            t.add_row(
                f["case_id"],
                str(f["input"])[:120],
                str(f["output_a"])[:120],
                str(f["output_b"])[:120],
            )
        console.print(t)
    console.print(f"[bold]{doc['verdict']}[/]")
