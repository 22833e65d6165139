"""The ``pilotgate`` command line: a thin layer that parses, calls the public API, renders.

Commands live one module per group under ``pilotgate._cli`` and are imported only when
invoked (or when ``--help`` lists them), so ``pilotgate --version`` stays instant.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from pilotgate._version import __version__
from pilotgate.errors import PilotgateError

__all__ = ["main", "cli"]

# command name -> (module, attribute). Every module must exist: a missing one is an
# ImportError on use (and fails tests/cli/test_cli_commands.py), never a silently absent command.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("pilotgate._cli.plan_cmd", "init"),
    "validate": ("pilotgate._cli.plan_cmd", "validate"),
    "demo": ("pilotgate._cli.demo_cmd", "demo"),
    "serve": ("pilotgate._cli.serve_cmd", "serve"),
    "simulate": ("pilotgate._cli.simulate_cmd", "simulate"),
    "ingest": ("pilotgate._cli.ingest_cmd", "ingest"),
    "usage": ("pilotgate._cli.usage_cmd", "usage"),
    "keys": ("pilotgate._cli.keys_cmd", "keys"),
    "cases": ("pilotgate._cli.cases_cmd", "cases"),
    "eval": ("pilotgate._cli.eval_cmd", "eval_group"),
    "shift": ("pilotgate._cli.shift_cmd", "shift"),
    "perturb": ("pilotgate._cli.perturb_cmd", "perturb"),
    "robustness": ("pilotgate._cli.robustness_cmd", "robustness"),
    "load": ("pilotgate._cli.load_cmd", "load"),
    "pilot": ("pilotgate._cli.pilot_cmd", "pilot"),
    "gate": ("pilotgate._cli.gate_cmd", "gate"),
    "report": ("pilotgate._cli.report_cmd", "report"),
    "store": ("pilotgate._cli.store_cmd", "store"),
}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        cmd = getattr(module, spec[1])
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pilotgate")
@click.option("--verbose", "-v", is_flag=True, help="Show the full traceback on errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """pilotgate: from an AI demo that worked to a pilot that holds.

    Instrument the live feature, build eval sets from production, measure shift,
    stress prompts, load test at 3x, and gate the pilot on criteria declared up front.
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, turning :class:`PilotgateError` into one line and exit 2."""
    from pilotgate._invocation import set_invocation

    if argv is None:  # the console script, not a caller inside another program
        from pilotgate._stdout import install

        install()
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    set_invocation(args)
    try:
        return cli.main(args=args, prog_name="pilotgate", standalone_mode=False)
    except PilotgateError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    finally:
        set_invocation(None)
