#!/usr/bin/env bash
# The demo: a synthetic hub on a private MariaDB server, run through the
# whole pipeline with `hzflow cron`, offline.  Output lands in ./demo-out/.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
PYTHONPATH="$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}" exec .venv/bin/python -m hzflow_dev.demo "$@"
