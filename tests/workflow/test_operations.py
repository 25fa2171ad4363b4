"""What an operator does besides the plain cron line: options, rebuilds, failures, the current month."""

from __future__ import annotations

import gzip
import json
import os
from datetime import timedelta

import pytest
import yaml

from hzflow import markers, months, plan
from hzflow_dev import synth
from hzflow_dev.ptrserver import PtrServer

from conftest import months_back
from logtree import marker_times, write_day

pytestmark = pytest.mark.workflow


def closed(tree, today):
    return months.between(months.of(min(tree.days)), months.preceding(months.of(today)))


def changed(before, after):
    return {k for k in after if before.get(k) != after[k]}


# ------------------------------------------------------------ options reach snakemake
@pytest.mark.parametrize("spelling", ["marker", "month", "stage/month"])
def test_forcerun_of_one_month_reruns_it_and_what_depends_on_it(tree, today, spelling):
    tree.hzflow("cron")
    first = closed(tree, today)[0]
    target = {"marker": str(markers.marker(tree.settings, "sessionized", first)), "month": first,
              "stage/month": f"sessionized/{first}"}[spelling]
    before = marker_times(tree)
    option = "-R" if spelling != "month" else "--forcerun"
    tree.hzflow("cron", option, target)
    expected_stage = "sessionized" if spelling != "month" else "imported"
    assert f"{expected_stage}/{first}.json" in changed(before, marker_times(tree))
    assert {f"summarized/{m}.json" for m in closed(tree, today)} <= changed(before, marker_times(tree))
    assert not any(k.startswith("imported/day/") for k in changed(before, marker_times(tree)))


def test_f_forces_just_the_target_and_until_stops_early(tree, today):
    first = closed(tree, today)[0]
    tree.hzflow("cron", "--until", f"dns-resolved/{first}")
    built = marker_times(tree)
    assert f"dns-resolved/{first}.json" in built and not any(k.startswith("sessionized/") for k in built)
    tree.hzflow("cron", "--cores", "2")
    before = marker_times(tree)
    tree.hzflow("cron", "-f", f"summarized/{first}")
    assert changed(before, marker_times(tree)) == {f"summarized/{first}.json"}


def test_dry_run_report_and_config_after_the_command(tree, tmp_path):
    r = tree.hzflow("cron", "-n", "--cores", "1")
    assert r.returncode == 0 and not (tree.work / "state").exists()
    assert "import_days" in tree.hzflow("plan", "--cores", "1").stdout
    tree.hzflow("cron")
    report = tmp_path / "report.html"
    tree.hzflow("cron", "--report", report)
    assert report.stat().st_size > 1000 and "resolve_month" in report.read_text(errors="replace")
    moved = tree.root / "elsewhere.yaml"
    tree.config_path.rename(moved)
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "hzflow.cli", "status", "--config", str(moved)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "yes" in r.stdout


def test_rebuild_forces_one_stage_of_the_months_asked_for(tree, today):
    tree.hzflow("cron")
    months_closed = closed(tree, today)
    before = marker_times(tree)
    plan = tree.hzflow("rebuild", months_closed[0], "--stage", "sessionized", "--dry-run").stdout
    assert "sessionize_month" in plan and marker_times(tree) == before
    tree.hzflow("rebuild", months_closed[0], "--stage", "sessionized", "--through", months_closed[0])
    assert changed(before, marker_times(tree)) == {f"sessionized/{months_closed[0]}.json",
                                                   f"summarized/{months_closed[0]}.json"}
    before = marker_times(tree)
    tree.hzflow("rebuild", months_closed[0], "--stage", "summarized")
    assert changed(before, marker_times(tree)) == {f"summarized/{m}.json" for m in months_closed}
    r = tree.hzflow("rebuild", months.of(today), "--stage", "summarized", check=False)
    assert r.returncode == 2 and "current month" in r.stderr


# ------------------------------------------------------------ doctor, order, quiet failures
def test_doctor_is_clean_after_init_and_cron(tree):
    tree.hzflow("cron")
    tree.hzflow("cron")
    r = tree.hzflow("doctor", check=False)
    assert r.returncode == 0, r.stdout


def test_an_upgrade_without_init_stops_cron_before_any_work_and_init_lets_it_run(tree):
    """A newer hzflow over a database one migration behind: cron and plan say to run `hzflow init` (exit 2)
    and write nothing; after init the same cron builds everything."""
    tree.query("DROP TABLE hzflow_born_country")
    tree.query("DELETE FROM hzflow_migrations WHERE id = 6")
    for command in ("cron", "plan"):
        r = tree.hzflow(command, check=False)
        assert r.returncode == 2, r.stdout + r.stderr
    assert tree.query("SELECT COUNT(*) FROM web") == [(0,)]
    tree.hzflow("init")
    tree.hzflow("cron")
    assert tree.query("SELECT COUNT(*) FROM web")[0][0] > 0
    assert "nothing to do" in tree.hzflow("plan").stdout


def test_a_crawler_first_recorded_on_a_later_day_does_not_filter_an_earlier_day(ready_hub, today):
    first = months_back(today, 1)
    early, late = first + timedelta(days=2), first + timedelta(days=9)
    agent = "Mozilla/5.0 (compatible; NewBot/1.0; +https://newbot.example.org/)"
    for day in (late, early):                # written late day first: file order is not import order
        path = ready_hub.apache / f"{ready_hub.site}-access.log-{day:%Y%m%d}"
        ready_hub.apache.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(synth.access_line(synth.datetime(day.year, day.month, day.day, h), "192.0.2.9",
                                                  f"GET /resources/{h} HTTP/1.1", 200, 900, "-", agent, 7) + "\n"
                                for h in range(9, 12)))
    ready_hub.hub_logs.mkdir(parents=True, exist_ok=True)    # a hub without a login that month
    ready_hub.write_config(start_month=months.of(first), months={"no_data": [months.of(first)]})
    ready_hub.hzflow("cron", "--until", f"imported/{months.of(first)}")
    days = ready_hub.query("SELECT DATE(datetime), COUNT(*) FROM web WHERE useragent = %s GROUP BY 1", (agent,))
    assert [(str(d), n) for d, n in days] == [(str(early), 3)]       # its first day kept, the later filtered


def test_an_unreadable_day_fails_its_month_only_and_cron_says_so(tree, today):
    bad_day = tree.days[0]
    bad = next(tree.apache.glob(f"*{bad_day:%Y%m%d}*"))
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage-that-is-no-gzip")
    r = tree.hzflow("cron", "-q", check=False)
    assert r.returncode == 4
    assert "resolve_month" in r.stdout or "imported" in r.stdout
    assert "log:" in r.stdout and "cannot read" in r.stdout
    built = marker_times(tree)
    bad_month = months.of(bad_day)
    assert f"imported/{bad_month}.json" not in built and f"imported/day/{bad_day}.json" not in built
    others = [m for m in closed(tree, today) if m != bad_month]
    assert all(f"sessionized/{m}.json" in built for m in others)
    status = json.loads(tree.hzflow("status", "--json", check=False).stdout)
    assert not status["ok"] and any(f["unit"] == str(bad_day) for f in status["failures"])
    write_day(tree, bad_day, seed=5, gz=False)                    # the operator restores the log
    bad.unlink()
    r = tree.hzflow("cron", "-q")
    assert r.stdout == "" and f"summarized/{bad_month}.json" in marker_times(tree)
    assert json.loads(tree.hzflow("status", "--json").stdout)["ok"]


def test_logs_are_gzipped_while_they_import_and_moved_only_once_committed(tree):
    """The import gzips a day's logs beside imported/ while it loads them: a day whose import fails keeps
    its log in place and leaves no copy; a copy a killed run left behind is replaced, never kept."""
    logs = {p.name: (p.read_bytes(), p.stat().st_mtime) for p in tree.apache.glob("*access*")}
    plain = sorted(name for name in logs if not name.endswith(".gz"))
    bad, killed = plain[0], plain[1]
    garbage = os.urandom(300_000).replace(b"\n", b"\n\x00")
    (tree.apache / bad).write_bytes(garbage)
    imported = tree.root / "apache" / "imported"
    imported.mkdir(parents=True)
    (imported / f".{killed}.gz.partial").write_bytes(b"half a gzip stream, as kill -9 left it")
    assert tree.hzflow("cron", "-q", check=False).returncode == 4
    assert (tree.apache / bad).read_bytes() == garbage                       # the failed day's log in place
    assert not [p.name for p in imported.iterdir() if p.name.startswith(".")]     # no copy, no leftover
    archived = {p.name: p.read_bytes() for p in imported.glob("*.gz")}
    expected = {name.removesuffix(".gz") + ".gz": content for name, (content, _) in logs.items() if name != bad}
    assert sorted(archived) == sorted(expected)
    assert all(gzip.decompress(archived[name]) == gzip.decompress(content) if content[:2] == b"\x1f\x8b"
               else gzip.decompress(archived[name]) == content for name, content in expected.items())
    assert (imported / f"{killed}.gz").stat().st_mtime == logs[killed][1]      # the log's own time kept


# ------------------------------------------------------------ missing input
def test_a_missing_log_directory_is_an_error_not_a_success(ready_hub, today):
    ready_hub.write_config(start_month=months.of(months_back(today, 2)))
    r = ready_hub.hzflow("cron", "-q", check=False)
    assert r.returncode == 4 and "no logs" in r.stdout
    assert not list((ready_hub.work / "state").rglob("dns-resolved/*.json"))
    doctor = ready_hub.hzflow("doctor", check=False)
    assert doctor.returncode == 1 and "does not exist" in doctor.stdout and "without a single log" in doctor.stdout
    assert ready_hub.hzflow("status", check=False).returncode == 4         # the most severe: logs missing


def test_a_month_declared_without_data_is_built_with_zeros(tree, today):
    gap = months.of(months_back(today, 2))                  # later months have logs: it is complete
    for log in list(tree.apache.glob(f"*{gap.replace('-', '')}*")) + list(tree.hub_logs.glob(f"*{gap.replace('-', '')}*")):
        log.unlink()
    r = tree.hzflow("cron", check=False)
    assert r.returncode == 4 and gap in r.stdout
    assert f"summarized/{gap}.json" not in marker_times(tree)
    tree.write_config(start_month=gap, months={"no_data": [gap]})
    tree.hzflow("cron")
    assert f"summarized/{gap}.json" in marker_times(tree)
    assert tree.query("SELECT value FROM summary_misc_vals WHERE rowid = 4 AND period = 1 AND datetime = %s",
                      (f"{gap}-00",)) == [("0",)]


# ------------------------------------------------------------ the current month
def test_the_current_month_waits_for_its_close_unless_live_numbers_are_asked_for(tree, today):
    current = months.of(today)
    if not any(months.of(d) == current for d in tree.days):
        write_day(tree, today - timedelta(days=1) if today.day > 1 else today, seed=3)
    tree.hzflow("cron")
    built = marker_times(tree)
    assert f"dns-resolved/{current}.json" in built and f"summarized/{current}.json" not in built
    status = tree.hzflow("status").stdout
    assert "wait for its close" in status
    assert tree.query("SELECT COUNT(*) FROM summary_user_vals WHERE datetime = %s", (f"{current}-00",)) == [(0,)]
    tree.write_config(start_month=months.of(min(tree.days)), months={"publish_partial": True})
    tree.hzflow("cron")
    assert f"summarized/{current}.json" in marker_times(tree)
    assert tree.query("SELECT COUNT(*) FROM summary_user_vals WHERE datetime = %s", (f"{current}-00",))[0][0] > 0


def test_a_finished_month_closes_when_its_last_day_or_a_later_day_arrives(ready_hub, today):
    last_month = months.preceding(months.of(today))
    ready_hub.write_config(start_month=last_month, months={"grace_days": 31})
    write_day(ready_hub, months.first_day(last_month), seed=1)
    ready_hub.hzflow("cron")
    assert f"summarized/{last_month}.json" not in marker_times(ready_hub)
    write_day(ready_hub, months.last_day(last_month), seed=2)
    ready_hub.hzflow("cron")
    assert f"summarized/{last_month}.json" in marker_times(ready_hub)


# ------------------------------------------------------------ DNS
def test_a_partly_failing_resolver_never_blocks_the_month(tree, today):
    silent = {f"{net}{i}" for net in synth.DOC_NETS for i in range(1, 255, 3)}
    with PtrServer(synthetic="hosts.example.net", unanswered=silent) as dns:
        tree.write_config(start_month=months.of(min(tree.days)),
                          dns={"nameservers": [dns.nameserver], "timeout": 0.3, "tries": 1, "retry_minutes": 1})
        r = tree.hzflow("cron", "-q")
    assert r.stdout == ""
    built = marker_times(tree)
    assert all(f"summarized/{m}.json" in built for m in closed(tree, today))
    status = json.loads(tree.hzflow("status", "--json").stdout)
    waiting = {row["month"]: row["dns_unanswered"] for row in status["months"] if row["dns_unanswered"]}
    assert waiting and "without a DNS answer yet" in tree.hzflow("status").stdout
    unresolved = tree.query("SELECT COUNT(*) FROM web WHERE host IS NULL OR host = ''")[0][0]
    assert unresolved > 0
    month = min(waiting)
    path = markers.marker(tree.settings, "dns-resolved", month)
    record = markers.read(path)
    assert record["dns_attempt"] == 0 and record["dns_retry_after"] > months.now_iso()
    assert "note_dns_retry" not in tree.hzflow("plan").stdout          # not due yet
    record["dns_retry_after"] = "2000-01-01T00:00:00"                  # the wait is over
    markers.write(path, record)
    tree.write_config(start_month=months.of(min(tree.days)))           # and the resolver answers again
    assert "note_dns_retry" in tree.hzflow("plan").stdout
    tree.hzflow("cron", "-q")
    assert markers.read(path)["dns_unanswered"] == 0
    assert tree.query("SELECT COUNT(*) FROM web WHERE (host IS NULL OR host = '') AND datetime >= %s "
                      "AND datetime < %s", months.bounds(month))[0][0] == 0


# ------------------------------------------------------------ the dry-run parser, on real output
def test_the_plan_reads_snakemake_s_machine_readable_summary(tree, today):
    jobs = plan.jobs_of(tree.settings, [])
    rules = {j.rule for j in jobs}
    assert {"import_days", "resolve_month", "sessionize_month", "summarize"} <= rules
    resolve = [j for j in jobs if j.rule == "resolve_month"]
    assert len(resolve) == len({months.of(d) for d in tree.days})          # one job, two markers, per month
    assert {j.unit for j in resolve} == {months.of(d) for d in tree.days}
    assert all(j.reason == "not built yet" for j in jobs)
    lines = plan.plan_lines(jobs)
    assert lines[0].startswith("import_days") and "pending days" in lines[0]
    tree.hzflow("cron")
    assert plan.jobs_of(tree.settings, []) == []
    write_day(tree, min(tree.days) + timedelta(days=1), seed=42)   # a new day of a built month, whatever today is
    reasons = {j.rule: j.reason for j in plan.jobs_of(tree.settings, [])}
    assert reasons["import_days"] == "not built yet" and reasons["resolve_month"] != "not built yet"
    first = months.of(min(tree.days))
    forced = {(j.rule, j.unit): j.reason for j in plan.jobs_of(tree.settings, ["-f", f"summarized/{first}"])}
    assert forced[("summarize", first)] == "forced"


# ------------------------------------------------------------ rows of another month, secrets
def test_rows_a_later_file_brings_into_a_finished_month_rebuild_that_month(tree, today):
    tree.hzflow("cron")
    first = closed(tree, today)[0]
    last_day = months.last_day(first)
    before = marker_times(tree)
    late = months.first_day(months.following(first)) + timedelta(days=5)      # a new day of the next month
    path = tree.apache / f"{tree.site}-access.log-{late:%Y%m%d}"
    ok = synth.access_line(synth.datetime(late.year, late.month, late.day, 9), "192.0.2.44",
                           "GET /resources/7 HTTP/1.1", 200, 500, "https://hub.example.org/", "Mozilla/5.0", 3)
    stray = [synth.access_line(synth.datetime(last_day.year, last_day.month, last_day.day, 23, 58), "192.0.2.45",
                               "GET /resources/8 HTTP/1.1", 200, 500, "https://hub.example.org/", "Mozilla/5.0", 3),
             synth.access_line(synth.datetime(late.year, late.month, late.day - 2, 9), "192.0.2.46",
                               "GET /resources/9 HTTP/1.1", 200, 500, "https://hub.example.org/", "Mozilla/5.0", 3)]
    path.write_text("\n".join([ok, *stray]) + "\n")
    tree.hzflow("cron")
    record = markers.read(markers.day_marker(tree.settings, str(late)))
    assert record["files"]["access"]["skipped"]["out_of_range"] == 2          # further than a day away
    # within the tolerance: the last minutes of the finished month in the next month's first file
    nxt = months.first_day(months.following(first))
    edge = tree.apache / f"{tree.site}-access.log-{nxt:%Y%m%d}"
    if edge.exists() or any(tree.root.rglob(f"*access.log-{nxt:%Y%m%d}*")):
        pytest.skip("the tree already has that day")
    edge.write_text(stray[0] + "\n")
    tree.hzflow("cron")
    tree.hzflow("cron")                          # the day's record names the month it reached
    after = marker_times(tree)
    assert {f"dns-resolved/{first}.json", f"sessionized/{first}.json", f"summarized/{first}.json"} <= changed(
        before, after)
    host, domain, country = tree.query("SELECT host, domain, ipcountry FROM web WHERE ip = '192.0.2.45'")[0]
    assert host and domain and country                       # enriched with its month
    assert tree.query("SELECT hits FROM webhits WHERE datetime = %s", (str(last_day),)) == [(1,)]


def test_a_failing_run_never_writes_the_password_and_a_readable_config_is_refused(tree, tmp_path):
    secret = "Pa55-w0rd-5ecret-XYZ"
    data = yaml.safe_load(tree.config_path.read_text())
    data["db"]["password"] = secret
    tree.config_path.write_text(yaml.safe_dump(data))
    tree.config_path.chmod(0o644)
    for command in (["cron", "-q"], ["doctor"], ["status"], ["init"]):
        r = tree.hzflow(*command, check=False)
        if command[0] in ("cron", "doctor", "init"):
            assert r.returncode != 0 and "chmod 600" in r.stdout + r.stderr, command
        assert secret not in r.stdout + r.stderr
    tree.config_path.chmod(0o600)
    r = tree.hzflow("cron", "-q", check=False)               # wrong password: every job fails
    assert r.returncode == 3 and secret not in r.stdout + r.stderr
    for path in tree.root.rglob("*"):
        if path.is_file() and path != tree.config_path:
            assert secret.encode() not in path.read_bytes(), path
