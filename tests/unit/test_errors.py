"""Every failure names its real cause, with the exit status an operator's monitoring can act on."""

from __future__ import annotations

import errno

import pymysql
import pytest

from hzflow import cli, doctor, errors
from hzflow.imports import logparse as lp


@pytest.mark.parametrize("exc, code, words", [
    (OSError(errno.ENOSPC, "No space left on device", "/var/lib/hzflow/tmp/rows-1/chunk-00001.tsv"),
     errors.RESOURCES, "no space left on /var/lib/hzflow/tmp/rows-1/chunk-00001.tsv"),
    (PermissionError(errno.EACCES, "Permission denied", "/var/lib/hzflow/state"), errors.RESOURCES, "permission"),
    (pymysql.err.InterfaceError(0, ""), errors.DATABASE, "connection to MariaDB was lost"),
    (pymysql.err.OperationalError(2013, "Lost connection"), errors.DATABASE, "free space of its datadir"),
    (pymysql.err.DataError(1292, "Incorrect datetime value"), errors.DATABASE, "[1292]"),
    (errors.UnreadableLog("x.gz: cannot read"), errors.INPUT, "input error"),
    (errors.ResolverUnavailable("dns down"), errors.SERVICE, "dns down"),
    (errors.ConfigError("bad key"), errors.CONFIG, "config error"),
    (ValueError("boom"), errors.UNEXPECTED, "ValueError"),
])
def test_each_failure_is_named_for_what_it_is(exc, code, words):
    got, message = errors.classify(exc)
    assert got == code and words in message


def test_the_most_severe_failure_decides_cron_s_exit_status():
    assert errors.most_severe([errors.SERVICE, errors.INPUT]) == errors.INPUT
    assert errors.most_severe([errors.INPUT, errors.DATABASE, errors.UNEXPECTED]) == errors.DATABASE
    assert errors.most_severe([errors.RESOURCES, errors.CONFIG]) == errors.CONFIG
    assert errors.most_severe([]) == errors.OK


def test_a_write_error_while_reading_a_log_is_not_blamed_on_the_log(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("a\nb\n")
    counts = lp.LineCounts()
    with pytest.raises(OSError) as caught:
        with lp.reading(log, counts) as lines:
            for _ in lines:
                raise OSError(errno.ENOSPC, "No space left on device", "/tmp/out.tsv")
    assert not isinstance(caught.value, errors.UnreadableLog)


def test_a_config_that_is_not_utf8_exits_2_without_a_traceback(tmp_path, capsys):
    p = tmp_path / "c.yaml"
    p.write_bytes(b"site: caf\xe9\n")
    assert cli.main(["--config", str(p), "status"]) == errors.CONFIG
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "Traceback" not in err


def test_doctor_warns_before_a_disk_fills_up(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    f = doctor.Findings(lambda _line: None)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(100 << 30, 99 << 30, 1 << 30))
    doctor._space(f, "MariaDB datadir", tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(100 << 30, 91 << 30, 9 << 30))
    doctor._space(f, "work directory", tmp_path)
    assert len(f.problems) == 1 and "only 1.0 GiB" in f.problems[0] and len(f.warnings) == 1
