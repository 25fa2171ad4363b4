#!/usr/bin/env bash
# Benchmarks: print throughput figures (not a test; nothing here fails on time).
case " $* " in *" fleet-slurm "*) export HZFLOW_TEST_SLURM=1 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
PYTHONPATH="$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}" exec .venv/bin/python -m hzflow_dev.bench "$@"
