"""The access- and auth-log layouts and every import filter, without a database."""

import gzip
from datetime import date

import pytest

from hzflow.imports import access, auth
from hzflow.imports import logparse as lp

ANY_DATE = lp.LineDates(None, 0, date(2030, 1, 1))

NEW = ('{day} 10:00:00 EDT 4242 - "{req}" {status} {size} 192.0.2.7 "{ref}" "{agent}" '
       'TLSv1.3 0 {size} {uid} sess123 cookie auth comp view task action item')
OLD = ('{day} 10:00:00 EDT - "{req}" {status} {size} 192.0.2.8 "{ref}" "{agent}" TLSv1.2 0 {size} oldcookie')


def line(req="GET /resources/1 HTTP/1.1", status=200, size=500, ref="-", agent="Mozilla/5.0",
         day="2025-07-10", uid="1001", layout=NEW):
    return layout.format(req=req, status=status, size=size, ref=ref, agent=agent, day=day, uid=uid)


def kept(*lines, filters=None, dates=ANY_DATE):
    rows, result = [], access.ScanResult()
    access.scan(lines, filters or access.Filters(), rows.append, result, dates)
    return [r.rstrip("\n").split("\t") for r in rows], result


def test_current_layout_fields_land_in_their_columns():
    rows, _ = kept(line())
    assert rows == [["2025-07-10 10:00:00", "/resources/1", "192.0.2.7", "1001", "4242", "-",
                     "Mozilla/5.0", "sess123", "cookie", "auth", "comp", "view", "task", "action",
                     "item", "0"]]


def test_old_layout_has_no_pid_and_keeps_the_cookie():
    rows, _ = kept(line(layout=OLD))
    assert rows == [["2025-07-10 10:00:00", "/resources/1", "192.0.2.8", "0", "", "-",
                     "Mozilla/5.0", "", "oldcookie", "", "", "", "", "", "", "0"]]


def test_malformed_lines_are_counted_and_sampled_not_fatal():
    rows, result = kept("garbage", line(), "# comment")
    assert len(rows) == 1 and result.malformed == 2
    assert result.malformed_samples == ["garbage", "# comment"]


@pytest.mark.parametrize("kwargs, reason", [
    (dict(status=404), "status"),
    (dict(status=304, size=0), "status"),
    (dict(size=0), "status"),
    (dict(req="DELETE /x HTTP/1.1"), "status"),
    (dict(req="HEAD /x HTTP/1.1"), "status"),
    (dict(req="GET /events/site.css HTTP/1.1"), "url"),
    (dict(req="GET /events/site.css?v=1&t=2 HTTP/1.1"), "url"),
    (dict(req="GET /favicon.ico HTTP/1.1"), "url"),
    (dict(req="GET /app/templates/x/y.html HTTP/1.1"), "url"),
    (dict(req="GET /administrator/index.php HTTP/1.1"), "url"),
    (dict(req="GET /api/v1/x HTTP/1.1"), "url"),
    (dict(req="GET /cron/tick HTTP/1.1"), "url"),
    (dict(req="GET /pipermail/list/ HTTP/1.1"), "url"),
    (dict(req="GET /robots.txt HTTP/1.1"), "url"),
    (dict(req="GET /projects/p/svn/!svn/ver/1 HTTP/1.1"), "url"),
    (dict(req="GET /login?return=abc HTTP/1.1"), "no_referrer_crawl"),
    (dict(req="GET /resources/browse/?page=2 HTTP/1.1"), "no_referrer_crawl"),
    (dict(req="GET /citations/browse HTTP/1.1"), "no_referrer_crawl"),
    (dict(req="GET /members/browse?x HTTP/1.1"), "no_referrer_crawl"),
    (dict(req="GET /register HTTP/1.1"), "no_referrer_crawl"),
    (dict(req="GET /events/2021/5 HTTP/1.1", day="2025-07-10"), "old_events"),
    (dict(agent="Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)", day="2023-01-01"), "old_msie"),
])
def test_each_filter_drops_its_lines(kwargs, reason):
    rows, result = kept(line(**kwargs))
    assert rows == [] and result.skipped == {reason: 1}


@pytest.mark.parametrize("kwargs", [
    dict(req="GET /resources/777/style.css HTTP/1.1"),          # /resources/ overrides the suffix rule
    dict(req="POST /events/posted HTTP/1.1"),
    dict(req="GET /login?return=abc HTTP/1.1", ref="https://hub.example.org/"),
    dict(req="GET /events/2023/5 HTTP/1.1", day="2025-07-10"),  # within three years
    dict(req="GET /events/2019/5 HTTP/1.1", ref="https://hub.example.org/events"),
    dict(agent="Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)", day="2021-12-31"),
    dict(req="/events/no-method"),                               # a bare path is a GET
])
def test_lines_the_filters_must_keep(kwargs):
    rows, result = kept(line(**kwargs))
    assert len(rows) == 1, result.skipped


def test_exclude_list_matches_case_insensitive_substrings_and_bots_exactly():
    filters = access.Filters(ips=["192.0.2.7"], agents=["gatus"], urls=["/secret"],
                             bots=frozenset({"ExactBot/1.0"}))
    rows, result = kept(line(), line(layout=OLD, agent="x GATUS y"),
                        line(layout=OLD, req="GET /SECRET/x HTTP/1.1"),
                        line(layout=OLD, agent="ExactBot/1.0"), line(layout=OLD, agent="exactbot/1.0"),
                        filters=filters)
    assert result.skipped == {"exclude_list": 3, "bot_agent": 1}
    assert [r[6] for r in rows] == ["exactbot/1.0"]


def test_slashes_collapse_and_downloads_are_flagged():
    rows, result = kept(line(req="GET ///resources//9/download/data.nc HTTP/1.1"),
                        line(req="GET /resources/foo.pdf HTTP/1.1"),
                        line(req="GET /resources/1/about HTTP/1.1"))
    assert [(r[1], r[15]) for r in rows] == [("/resources/9/download/data.nc", "1"),
                                             ("/resources/foo.pdf", "1"), ("/resources/1/about", "0")]
    assert result.downloads == 2 and dict(result.hits_by_day) == {"2025-07-10": 3}


def test_fields_with_tabs_backslashes_and_bad_bytes_are_escaped_for_load_data(tmp_path):
    path = tmp_path / "x.log"
    bad = line(agent="bad BYTE byte").encode().replace(b"BYTE", b"\xff")
    path.write_bytes(line(agent="a\\b\tc").encode() + b"\n" + bad + b"\n")
    with open(tmp_path / "out.tsv", "w") as rows:
        result = access.scan_file(path, access.Filters(), ANY_DATE, 5, rows.write)
    out = (tmp_path / "out.tsv").read_text().splitlines()
    assert result.kept == 2
    assert out[0].split("\t")[6] == "a\\\\b\\tc"
    assert out[1].split("\t")[6] == "bad \ufffd byte"


def test_truncated_gzip_is_an_unreadable_log(tmp_path):
    path = tmp_path / "site-access.log-20250710.gz"
    data = gzip.compress(("\n".join([line()] * 2000) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(lp.UnreadableLog, match="cannot read the log to the end"):
        access.scan_file(path, access.Filters(), ANY_DATE, 5)


@pytest.mark.parametrize("text, expected", [
    ("2025-07-10 08:00:00 1001 [alice] 192.0.2.1 login", ("2025-07-10 08:00:00", 1001, "alice", "192.0.2.1", "login")),
    ("2025-07-10 08:00:00 carol 192.0.2.2 simulation", ("2025-07-10 08:00:00", 0, "carol", "192.0.2.2", "simulation")),
    ("[2014-03-01 09:00:00] production.INFO: 77 [dave] 192.0.2.3 login [] []",
     ("2014-03-01 09:00:00", 77, "dave", "192.0.2.3", "login")),
    ("[2014-03-01 09:00:00] production.INFO: - 192.0.2.3 login", ("2014-03-01 09:00:00", 0, "", "192.0.2.3", "login")),
])
def test_auth_layouts(text, expected):
    assert auth._event(text) == expected


def test_auth_keeps_logins_and_simulations_only_and_drops_monitoring_accounts():
    lines = ["2025-07-10 08:00:00 1 [alice] 192.0.2.1 login",
             "2025-07-10 08:00:01 1 [alice] 192.0.2.1 logout",
             "2025-07-10 08:00:02 2 [hubstatus] 192.0.2.1 login",
             "2025-07-10 08:00:03 3 [bob] 203.0.113.9 simulation",
             "not an auth line"]
    rows, result = [], auth.AuthScan()
    auth.scan(lines, ["203.0.113."], rows.append, result, ANY_DATE)
    assert rows == ["2025-07-10 08:00:00\t1\talice\t192.0.2.1\tlogin\n"]
    assert result.skipped == {"action": 1, "excluded": 2} and result.malformed == 1


def test_automated_agents_are_recognised():
    assert lp.looks_automated("curl/8.4") and lp.looks_automated("Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert not lp.looks_automated("Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0")


def test_the_fast_pattern_splits_every_line_it_accepts_exactly_like_the_full_one():
    import random

    from hzflow_dev import synth
    rng = random.Random(11)
    lines = synth.access_day(synth.date(2026, 7, 1), 300, rng) + [line(), line(agent='x "quoted" y')]
    accepted = 0
    for base in lines:
        for _ in range(40):
            i = rng.randrange(len(base))
            variant = rng.choice([base[:i] + rng.choice(' "_\t-x1.\\\xa0') + base[i:], base[:i] + base[i + 1:]])
            fast = lp.ACCESS_CURRENT_FAST.match(variant) if variant.count('"') == 6 else None
            if fast:
                accepted += 1
                full = lp.ACCESS_CURRENT.match(variant)
                assert full and fast.groups() == full.groups(), variant
    assert accepted > 5000


def test_the_example_lines_of_the_install_guide_parse_as_it_says():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "install.md").read_text()
    section = guide.split("## 4.")[1].split("## 5.")[0]
    blocks = [b.split("```")[0].strip().splitlines() for b in section.split("```\n")[1::2]]
    current, old, auth_lines = blocks
    fields = access._fields(current[0])
    assert fields[:2] == ("2026-10-15", "14:03:27") and fields[8] == "1042" and fields[13] == "com_resources"
    assert len(current[0].split('"')) == 7 and fields[-1] == "1234"
    fields = access._fields(old[0])
    assert fields[:2] == ("2011-03-02", "09:41:05") and fields[11] == old[0].split()[-1] and fields[8] == ""
    events = [auth._event(line) for line in auth_lines]
    assert [e[0] for e in events] == ["2026-10-15 14:02:58"] * 2 + ["2011-03-02 09:40:12"]
    assert [e[1:3] for e in events] == [(1042, "jdoe"), (1042, "jdoe"), (0, "jdoe")]
