"""hzflow's command line, by audience: the stage commands (cli.stage), the operator's (cli.operator),
the reference's own extra commands (cli.reference); the reference's spellings are translated first (refcli).

Stage names and positional arguments are the reference pipeline's, so an
operator's habits and the parity runner work unchanged.  Every command that
writes has --dry-run.  Errors an operator can act on print one line and exit
non-zero (hzflow.errors lists the codes); no command ends in a traceback on
bad input, and a closed pipe is a quiet exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback

from .. import config as cfgmod
from .. import errors, fleet, markers, refcli, version
from . import fleet_cli, operator, reference, stage
from .common import adder


class _Version(argparse.Action):
    """--version, looked up only when asked (importlib.metadata is slow to load)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"hzflow {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hzflow", description="hzflow: the usage-metrics pipeline for HUBzero "
                                "science gateways, as a Snakemake workflow")
    p.add_argument("--version", action=_Version, nargs=0, help="print hzflow's version and exit")
    p.add_argument("--config", metavar="FILE", help=f"hzflow config file (default: ${cfgmod.ENV_VAR})")
    p.add_argument("--fleet", metavar="FILE", help="a fleet file: cron, plan, status and report of every hub "
                   "in it (default: $HZFLOW_FLEET, when no hub config is given)")
    p.add_argument("--hub", metavar="NAME", help="with --fleet: any command, for this hub of the fleet")
    add = adder(p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    operator.register(add)
    stage.register(add)
    reference.register(add)
    return p


_OWN_OPTIONS = {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
# hzflow's options that take a value, anywhere on the line.
_VALUED = ("--config", "--fleet", "--hub")


def _split_passthrough(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """For cron and plan: hzflow's own words, and everything else verbatim for snakemake."""
    words, i, command_at = list(argv), 0, None
    while i < len(words):
        if words[i] in _VALUED:
            i += 2
            continue
        if words[i].startswith(tuple(f"{o}=" for o in _VALUED)):
            i += 1
            continue
        command_at = i
        break
    if command_at is None or words[command_at] not in operator.PASSTHROUGH:
        return words, None
    own, rest, j = words[:command_at + 1], [], command_at + 1
    while j < len(words):
        w = words[j]
        if w in _VALUED and j + 1 < len(words):
            own += [w, words[j + 1]]
            j += 2
            continue
        if w.startswith(tuple(f"{o}=" for o in _VALUED)):
            own.append(w)
        elif w in _OWN_OPTIONS:
            own.append(w)
        else:
            rest.append(w)
        j += 1
    return own, rest


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv = refcli.translate(argv)
    except errors.UsageError as e:
        print(f"hzflow: {e}", file=sys.stderr)
        return errors.CONFIG
    own, passthrough = _split_passthrough(argv)
    parser = build_parser()
    args = parser.parse_args(own)
    if passthrough is not None:
        args.snakemake_args = passthrough
    if getattr(args, "marker", None):          # a workflow job: its log says what ran, and which hzflow
        print(f"=== hzflow {version()}: {' '.join(own)} ({time.strftime('%Y-%m-%d %H:%M:%S')})", flush=True)
    settings = None
    umask, environment = os.umask(markers.UMASK), dict(os.environ)
    try:
        fleet_file = fleet_mode(args)
        if fleet_file and not args.hub:
            return fleet_cli.run(fleet_file, args)
        settings = fleet_hub(fleet_file, args.hub) if fleet_file else cfgmod.load(args.config)
        os.environ.update(cfgmod.config_homes(settings))
        return args.func(settings, args) or 0
    except KeyboardInterrupt:
        print("hzflow: interrupted; an open transaction was rolled back", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    except Exception as e:  # the last line of defence: say what failed in one line
        code, message = errors.classify(e)
        if code == errors.UNEXPECTED and not isinstance(e, errors.UsageError):
            traceback.print_exc()
        print(f"hzflow: {args.command}: {message}", file=sys.stderr)
        if settings is not None and getattr(args, "marker", None):
            from .. import stages
            stages.note_job_failure(settings, args.command, args, e)
        return code
    finally:                        # called in-process (tests, tick): leave the caller's process as it was
        os.umask(umask)
        os.environ.clear()
        os.environ.update(environment)


def fleet_mode(args) -> str | None:
    """The fleet file a command is for: --fleet, or $HZFLOW_FLEET when no hub config is named at all."""
    if args.fleet:
        if args.config:
            raise errors.UsageError("give --config (one hub) or --fleet (with --hub for one of its hubs), not both")
        return args.fleet
    if args.hub:
        if os.environ.get(fleet.ENV_VAR) and not args.config:
            return os.environ[fleet.ENV_VAR]
        raise errors.UsageError("--hub names a hub of a fleet: give --fleet FILE too")
    if not args.config and not os.environ.get(cfgmod.ENV_VAR) and os.environ.get(fleet.ENV_VAR):
        return os.environ[fleet.ENV_VAR]
    return None


def fleet_hub(fleet_file: str, name: str) -> cfgmod.Settings:
    return fleet.Fleet.load(fleet_file).hub(name)


def _reader_went_away() -> int:
    """`hzflow status | head`: the reader closed the pipe; stop quietly, as a pipe's writer does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 128 + signal.SIGPIPE

