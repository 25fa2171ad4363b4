#!/usr/bin/env bash
# The test suite: unit, database (private MariaDB), workflow (real snakemake),
# and golden parity against ../shared/parity when it is present.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec .venv/bin/python -m pytest "$@"
