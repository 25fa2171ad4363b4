"""What every command family shares: argument types, output, and the way a subcommand is added."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from .. import months


def say(text: str) -> None:
    print(text, flush=True)


def month(text: str) -> str:
    if not months.is_month(text):
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}")
    return text


def month_or_day(text: str) -> str:
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}"
    return month(text)


def positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return n


def day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, got {text!r}") from None


def print_report(report: dict) -> None:
    print(json.dumps(report, indent=2, sort_keys=True, default=str), flush=True)


def this_month(a) -> str:
    return getattr(a, "month", None) or getattr(a, "month_pos", None) or months.current()


def adder(sub):
    """add(name, func, help, dry_run=True, aliases=()): a subcommand that takes --config anywhere."""
    def add(name, func, help, dry_run=True, aliases=()):
        sp = sub.add_parser(name, help=help, description=help, aliases=list(aliases))
        sp.set_defaults(func=func)
        for option in ("--config", "--fleet", "--hub"):
            sp.add_argument(option, metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if dry_run:
            sp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        return sp
    return add


def month_arg(sp, what="default: this month"):
    sp.add_argument("month", type=month, nargs="?", help=what)


def wait_option(sp):
    sp.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                    help="wait this long for a running cron to end (default 600); then exit 7, nothing done")


def marker_option(sp, help="write this marker when the stage is done"):
    sp.add_argument("--marker", type=Path, help=help)
