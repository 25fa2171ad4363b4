"""Hostile input: thousands of generated lines, each stored verbatim or counted under exactly one reason.

A seeded generator mixes ordinary lines with hostile ones: binary bytes, NUL,
invalid UTF-8, 100 KB fields, carriage returns inside lines, format strings,
SQL-injection strings, impossible dates, dates far from the file's day,
absurd years, IPv6 clients, edge IPv4 addresses.  Every line is tagged with
what must happen to it.  The import must not crash, must not change the set
of tables, must count every line exactly once, must store the lines meant to
be stored verbatim, and must give exactly the rows that importing only the
storable lines gives.  HZFLOW_FUZZ_SEED picks another seed.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

from hzflow_dev import synth

SEED = int(os.environ.get("HZFLOW_FUZZ_SEED", "1207"))
DAY = datetime(2026, 4, 10)
HOSTILE_TEXT = ("'; DROP TABLE web; --", "\" OR 1=1 --", "%s%s%n%x", "{0}{1}{__class__}", "$(rm -rf /)",
                "\\N", "\\", "<script>alert(1)</script>", "\u202e\u0000", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃", "A" * 102_400)
EDGE_IPS = ("0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.0.1", "192.0.2.1", "100.64.0.1")


def storable(rng, when) -> str:
    agent = rng.choice(synth.BROWSERS)
    url = f"/resources/{rng.randint(1, 50)}"
    if rng.random() < 0.3:
        agent = f"Mozilla/5.0 {rng.choice(HOSTILE_TEXT)[:2000]}".replace('"', "'")
    if rng.random() < 0.3:
        query = rng.choice(HOSTILE_TEXT)[:3000].replace(" ", "%20").replace('"', "%22")
        url = f"/search?q={query}"
    ip = rng.choice(EDGE_IPS) if rng.random() < 0.2 else synth.doc_ip(rng)
    return synth.access_line(when, ip, f"GET {url} HTTP/1.1", 200, rng.randint(100, 9000),
                             "https://hub.example.org/", agent, rng.randint(1, 99999))


def access_lines(rng, n: int) -> list[tuple[bytes, str]]:
    """(raw line, what must happen): 'stored', or the reason it is counted under."""
    out = []
    for _ in range(n):
        when = DAY + timedelta(seconds=rng.randint(0, 86399))
        roll = rng.random()
        if roll < 0.45:
            out.append((storable(rng, when).encode(), "stored"))
        elif roll < 0.55:
            bad = storable(rng, when).replace(f"{when:%Y-%m-%d}", rng.choice(
                ("2026-04-31", "2026-02-30", "2026-13-01", "2026-00-10")), 1)
            out.append((bad.encode(), "impossible_date"))
        elif roll < 0.62:
            far = rng.choice((datetime(1970, 1, 1), datetime(1000, 6, 6), datetime(2099, 1, 1),
                              datetime(9999, 12, 31, 23, 59, 59), DAY + timedelta(days=3), DAY - timedelta(days=5)))
            out.append((storable(rng, far).encode(), "out_of_range"))
        elif roll < 0.68:
            ip = rng.choice(("2001:db8::1", "::1", "fe80::1%eth0", "2001:db8:0:0:0:0:0:7"))
            out.append((synth.access_line(when, ip, "GET /resources/1 HTTP/1.1", 200, 10, "-", "Mozilla/5.0", 1)
                        .encode(), "ipv6"))
        elif roll < 0.76:
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))).replace(b"\n", b" ").replace(b"\r", b" ")
            out.append((junk, "malformed"))
        elif roll < 0.80:
            out.append((b"\x00" * rng.randint(1, 50), "malformed"))
        elif roll < 0.84:
            out.append((b"\xff\xfe" + storable(rng, when).encode()[:60], "malformed"))
        elif roll < 0.88:
            line = storable(rng, when)
            out.append((line.replace('" 200', '" 404').encode(), "status"))
        elif roll < 0.92:
            out.append((("%s %n %x " * 20).encode(), "malformed"))
        elif roll < 0.96:
            out.append((f"{when:%Y-%m-%d %H:%M:%S} UTC 1 - \"GET /x HTTP/1.1\" 200 10".encode(), "malformed"))
        else:
            out.append((storable(rng, when).replace("UTC", "U\rC").encode(), "malformed_split"))
    return out


def auth_lines(rng, n: int) -> list[tuple[bytes, str]]:
    out = []
    for _ in range(n):
        when = DAY + timedelta(seconds=rng.randint(0, 86399))
        roll = rng.random()
        uid = rng.randint(1, 10**6)
        user = f"user{uid}"
        if roll < 0.4:
            out.append((synth.auth_line(when, uid, user, synth.doc_ip(rng), rng.choice(("login", "simulation"))).encode(),
                        "stored"))
        elif roll < 0.5:
            out.append((synth.auth_line(when, uid, user, synth.doc_ip(rng), "logout").encode(), "action"))
        elif roll < 0.6:
            bad = synth.auth_line(when, uid, user, "192.0.2.1", "login").replace(f"{when:%Y-%m-%d}", "2026-04-31")
            out.append((bad.encode(), "impossible_date"))
        elif roll < 0.67:
            out.append((synth.auth_line(datetime(1970, 1, 1), uid, user, "192.0.2.1", "login").encode(), "out_of_range"))
        elif roll < 0.75:
            name = rng.choice(HOSTILE_TEXT)[:200].replace("\n", " ").replace("\r", " ").replace("]", ")")
            line = synth.auth_line(when, uid, f"{name}", synth.doc_ip(rng), "login")
            out.append((line.encode(), "stored"))
        elif roll < 0.85:
            out.append((bytes(rng.randrange(1, 256) for _ in range(rng.randint(1, 120)))
                        .replace(b"\n", b" ").replace(b"\r", b" "), "malformed"))
        elif roll < 0.9:
            out.append((b"\x00\x00\x00", "malformed"))
        else:
            out.append((synth.auth_line(when, uid, user, "2001:db8::5", "login").encode(), "malformed"))
    return out


def write(path, lines) -> None:
    path.write_bytes(b"\n".join(raw for raw, _ in lines) + b"\n")


def test_thousands_of_hostile_access_lines(ready_hub, make_hub, tmp_path):
    rng = random.Random(SEED)
    lines = access_lines(rng, 2400)
    log = tmp_path / "testhub-access.log-20260410"
    write(log, lines)
    tables = ready_hub.query("SHOW TABLES")
    r = ready_hub.hzflow("import-apache", log)
    assert "Traceback" not in r.stderr
    import json
    report = json.loads(r.stdout)
    assert ready_hub.query("SHOW TABLES") == tables
    counted = report["kept"] + report["malformed"] + sum(report["skipped"].values())
    assert counted == report["lines"]
    expected = {}
    for _, fate in lines:
        expected[fate] = expected.get(fate, 0) + 1
    split = expected.pop("malformed_split", 0)              # a lone CR ends a line: two malformed halves
    assert report["kept"] == expected["stored"] == ready_hub.query("SELECT COUNT(*) FROM web")[0][0]
    for reason in ("impossible_date", "out_of_range", "ipv6", "status"):
        assert report["skipped"].get(reason, 0) == expected[reason], reason
    assert report["malformed"] == expected["malformed"] + 2 * split
    stored = {raw.decode().split('" ', 2)[0] for raw, fate in lines if fate == "stored"}
    assert len(stored) > 100
    rows = ready_hub.dump("web", "datetime, content, ip, useragent, referrer", "id")

    alone = make_hub(tmp_path / "alone").init()
    alone.query("DELETE FROM bot_useragents")
    only = tmp_path / "alone" / "testhub-access.log-20260410"
    write(only, [(raw, fate) for raw, fate in lines if fate == "stored"])
    alone.hzflow("import-apache", only)
    assert alone.dump("web", "datetime, content, ip, useragent, referrer", "id") == rows
    agents = {a for (a,) in ready_hub.query("SELECT useragent FROM web")}
    assert any("DROP TABLE" in a for a in agents) and any("☃" in a for a in agents)   # verbatim


def test_thousands_of_hostile_auth_lines(ready_hub, make_hub, tmp_path):
    rng = random.Random(SEED + 1)
    lines = auth_lines(rng, 2400)
    log = tmp_path / "cmsauth.log-20260410"
    write(log, lines)
    tables = ready_hub.query("SHOW TABLES")
    r = ready_hub.hzflow("import-auth", log)
    import json
    report = json.loads(r.stdout)
    assert ready_hub.query("SHOW TABLES") == tables and "Traceback" not in r.stderr
    assert report["kept"] + report["malformed"] + sum(report["skipped"].values()) == report["lines"] == len(lines)
    expected = {}
    for _, fate in lines:
        expected[fate] = expected.get(fate, 0) + 1
    assert report["kept"] == expected["stored"]
    for reason in ("impossible_date", "out_of_range", "action"):
        assert report["skipped"].get(reason, 0) == expected[reason], reason
    assert report["malformed"] == expected["malformed"]
    rows = ready_hub.dump("userlogin", "datetime, user, uidNumber, ip, action", "datetime, user, ip")
    alone = make_hub(tmp_path / "alone").init()
    only = tmp_path / "alone" / "cmsauth.log-20260410"
    write(only, [(raw, fate) for raw, fate in lines if fate == "stored"])
    alone.hzflow("import-auth", only)
    assert alone.dump("userlogin", "datetime, user, uidNumber, ip, action", "datetime, user, ip") == rows
