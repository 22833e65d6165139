"""``pilotgate simulate``: serve the OpenAI-compatible provider simulator until Ctrl-C."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["simulate"]


class _DistParam(click.ParamType[Any]):
    """A number, or ``kind:name=value,...`` (e.g. ``lognormal:median=300,sigma=0.5``)."""

    name = "DIST"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from pydantic import ValidationError

        from pilotgate.simulator import Dist

        if isinstance(value, Dist):
            return value
        try:
            return Dist.parse(str(value))
        except (ValueError, ValidationError) as exc:
            msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            msg = msg.removeprefix("Value error, ")
            self.fail(f"{msg} (e.g. 300 or lognormal:median=300,sigma=0.5)", param, ctx)


DIST = _DistParam()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port (0: a free one).")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False), help="TOML profile.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every reply.")
@click.option("--ttft-ms", type=DIST, help="Time to first token, ms (number or DIST).  [300]")
@click.option("--token-ms", type=DIST, help="Gap between tokens, ms (number or DIST).  [20]")
@click.option("--output-tokens", type=DIST, help="Reply length, tokens (number or DIST).  [60]")
@click.option("--capacity", type=click.IntRange(min=1), help="Requests served at once.")
@click.option("--max-queue", type=click.IntRange(min=0), help="Queue length beyond which: 503.")
@click.option("--rpm", type=click.FloatRange(min=0, min_open=True), help="Requests per minute.")
@click.option("--tpm", type=click.FloatRange(min=0, min_open=True), help="Tokens per minute.")
@click.option("--error-rate", type=click.FloatRange(0, 1), help="Probability of a 500.")
@click.option("--stall-at-s", type=click.FloatRange(min=0), help="When a stall starts (s).")
@click.option("--stall-ms", type=click.FloatRange(min=0), help="How long the stall lasts (ms).")
@click.option(
    "--api-key",
    help="Require 'Authorization: Bearer KEY' (or x-api-key: KEY on /v1/messages); 401 otherwise.",
)
def simulate(host: str, port: int, profile_path: str | None, seed: int, **overrides: Any) -> None:
    """Serve a provider simulator: OpenAI chat completions and Anthropic messages.

    POST /v1/chat/completions (OpenAI) and POST /v1/messages (Anthropic), streamed or not.

    Behaviour comes from --profile FILE (TOML) with any flag overriding its key.
    DIST is a number or kind:name=value,... with kind constant (value), uniform
    (low, high), normal (mean, std) or lognormal (median, sigma); min/max clamp.
    """
    from pilotgate.simulator import load_profile, profile_from_mapping

    data: dict[str, Any] = {}
    if profile_path:
        data = load_profile(profile_path).model_dump(exclude_unset=True)
    data.update({k: v for k, v in overrides.items() if v is not None})
    profile = profile_from_mapping(data, where="command line")
    _serve(profile, seed, host, port)


def _serve(profile: Any, seed: int, host: str, port: int) -> None:
    from pilotgate.simulator import Simulator, serve_forever

    def started(sim: Simulator) -> None:
        summary = ", ".join(f"{k}={v}" for k, v in profile.describe().items())
        click.echo(
            f"pilotgate simulator: OpenAI base URL {sim.base_url}, "
            f"Anthropic base URL {sim.url}  (seed {seed})"
        )
        click.echo(f"  {summary}")
        click.echo("  Ctrl-C to stop", err=True)

    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}, reachable beyond this machine", err=True)
    st = serve_forever(profile, seed=seed, host=host, port=port, on_start=started)
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(st.by_status.items())) or "none"
    click.echo(f"stopped after {st.requests} requests ({codes})", err=True)
