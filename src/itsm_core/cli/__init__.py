"""The ``itsm-core`` command: a demo desk, SLA reports over exports, calendars, diagrams.

This is the one room of the project that reads files and prints. Every
command turns bad input into one clear line on stderr and a non-zero exit,
never a traceback. Each command lives in its own module with an
``add_parser(commands)`` function; :data:`COMMANDS` lists them in the order
``--help`` shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from itsm_core._version import __version__
from itsm_core.cli import demo, desk_tools, imports, report, stats, timeline
from itsm_core.cli._common import EXIT_ERROR, EXIT_INVALID, EXIT_OK, InputError
from itsm_core.cli.demo import demo_desk, simulate_week
from itsm_core.errors import ItsmError

__all__ = ["COMMANDS", "demo_desk", "main", "simulate_week"]

#: The functions that add each command to the parser, in ``--help`` order.
COMMANDS: tuple[Callable[[Any], None], ...] = (
    demo.add_parser,
    report.add_parser,
    imports.add_parser,
    stats.add_parser,
    timeline.add_parser,
    desk_tools.add_parsers,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itsm-core",
        description="itsm_core from the command line: demo, SLA reports, calendars, diagrams.",
    )
    parser.add_argument("--version", action="version", version=f"itsm-core {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 unreadable input, 2 invalid)."""
    stdout = out or sys.stdout
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, stdout)
    except InputError as exc:
        print(f"itsm-core: {exc}", file=sys.stderr)
        return exc.status
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        print(
            f"itsm-core: the output cannot encode {bad!a} as {exc.encoding}; "
            "set PYTHONIOENCODING=utf-8 or write to a file",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except (
        BrokenPipeError
    ):  # pragma: no cover - the reader went away (``| head``): a subprocess test
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ItsmError as exc:
        print(f"itsm-core: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"itsm-core: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
