"""A whole synthetic hub: its database and its daily logs as logrotate leaves them.

Used by the demo, the workflow equivalence tests and the benchmarks.  The
traffic is shaped like a hub's: visits of several requests a few minutes
apart (some across midnight, some across a month's end), downloads, static
assets, 304s and 404s, logins from the visitors' addresses, tool sessions
with jobs, crawlers, and one crawler that first shows up in the middle of
the period (ten days in): what the import learns from that day must filter
the days after it, and only those.  Logrotate runs a few minutes after midnight, so
each day's file ends with the first minutes of the next day, and the last
day of a month hands a few rows to the next month.

Everything is deterministic for a seed.  Addresses come from the ranges
reserved for documentation plus a few private ones.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from . import hubschema, synth

ROTATE_AFTER_MIDNIGHT = timedelta(minutes=5)
NEW_CRAWLER = "Mozilla/5.0 (compatible; LateCrawler/3.1; +https://latecrawler.example.org/bot)"
PRIVATE = ("10.1.2.3", "10.9.8.7", "192.168.4.4")


@dataclass
class Hub:
    site: str
    first_day: date
    last_day: date                 # the last day with logs (inclusive)
    visits_per_day: int = 40
    seed: int = 1
    users: int = 40

    def days(self):
        d = self.first_day
        while d <= self.last_day:
            yield d
            d += timedelta(days=1)


# Who is on the hub now: visitors from the public Internet (several countries), so the
# who-is-online map of a synthetic hub has markers with the default offline provider.
ONLINE_ADDRESSES = ("8.8.8.8", "8.8.4.4", "81.2.69.160", "133.1.2.3", "193.0.6.139", "200.160.2.3")

def visitor_pool(rng: random.Random, n: int = 220) -> list[str]:
    pool = [net + str(i) for net in synth.DOC_NETS for i in range(1, 255)]
    rng.shuffle(pool)
    return pool[:n] + list(PRIVATE)


def _visit(rng, start: datetime, ip: str, agent: str, uid: int | None, pid: int) -> list[tuple]:
    """One visitor's requests: pages, assets, downloads a few minutes apart."""
    events, when = [], start
    for _ in range(rng.randint(3, 12)):
        roll = rng.random()
        fill = {"r": rng.randint(1, 60), "t": rng.choice(synth.TOOLS), "u": uid or rng.randint(1001, 1040)}
        referrer, status, method = "https://hub.example.org/", 200, "GET"
        if roll < 0.45:
            url = rng.choice(synth.PAGES).format(**fill)
        elif roll < 0.7:
            url = rng.choice(synth.STATIC)
        elif roll < 0.8:
            url = rng.choice(synth.DOWNLOADS).format(**fill)
        elif roll < 0.88:
            url, status = rng.choice(synth.PAGES).format(**fill), 304
        elif roll < 0.93:
            url, status = f"/resources/{fill['r']}/missing", 404
        else:
            url, method, referrer = "/login", "POST", "https://hub.example.org/login"
        size = 0 if status == 304 else rng.randint(200, 90000)
        events.append((when, synth.access_line(when, ip, f"{method} {url} HTTP/1.1", status, size, referrer,
                                               agent, pid, uid)))
        when += timedelta(seconds=rng.randint(20, 400))
    return events


def traffic(hub: Hub) -> tuple[list[tuple], list[tuple]]:
    """(access events, auth events) as (datetime, line), over the hub's whole period."""
    rng = random.Random(hub.seed)
    pool = visitor_pool(rng)
    access, auth = [], []
    crawler_from = hub.first_day + timedelta(days=min(10, (hub.last_day - hub.first_day).days // 2))
    for day in hub.days():
        midnight = datetime.combine(day, time())
        for k in range(hub.visits_per_day):
            if k == 0:
                start = midnight + timedelta(hours=23, minutes=50)          # crosses midnight
            else:
                start = midnight + timedelta(seconds=rng.randint(0, 86399))
            ip = rng.choice(pool)
            uid = rng.randint(1001, 1000 + hub.users) if rng.random() < 0.3 else None
            access += _visit(rng, start, ip, rng.choice(synth.BROWSERS), uid, 10000 + k)
            if uid:
                auth.append((start, synth.auth_line(start, uid, f"user{uid}", ip,
                                                    rng.choice(("login", "login", "simulation")))))
        for k in range(hub.visits_per_day // 4):
            when = midnight + timedelta(seconds=rng.randint(0, 86399))
            agent = NEW_CRAWLER if day >= crawler_from and k % 3 == 0 else rng.choice(synth.CRAWLERS)
            url = rng.choice(synth.PAGES).format(r=rng.randint(1, 60), t=rng.choice(synth.TOOLS), u=1001)
            access.append((when, synth.access_line(when, "203.0.113.250", f"GET {url} HTTP/1.1", 200,
                                                   rng.randint(200, 9000), "-", agent, 20000 + k)))
        for _ in range(hub.visits_per_day // 10):
            when = midnight + timedelta(seconds=rng.randint(0, 86399))
            uid = rng.randint(1001, 1000 + hub.users)
            auth.append((when, synth.auth_line(when, uid, f"user{uid}", synth.doc_ip(rng),
                                               rng.choice(("login", "simulation", "logout", "invalid")))))
    return sorted(access), sorted(auth)


def _file_day(when: datetime, first: date) -> date:
    """The file a line lands in: logrotate cuts a few minutes after midnight."""
    return max((when - ROTATE_AFTER_MIDNIGHT).date(), first)


def write_logs(hub: Hub, root: Path, today: date) -> list[Path]:
    """The hub's logs under root/apache and root/hubzero, placed and compressed as on a real hub.

    Days older than a week are gzipped; the 1st of each month sits in
    daily/YYYY/, the 15th in daily.holding/ (both places the reference
    looks at too).
    """
    access, auth = traffic(hub)
    by_day: dict[tuple[str, date], list[str]] = {}
    for kind, events in (("access", access), ("auth", auth)):
        for when, line in events:
            day = _file_day(when, hub.first_day)
            if day <= hub.last_day:
                by_day.setdefault((kind, day), []).append(line)
    written = []
    for (kind, day), lines in sorted(by_day.items()):
        stamp = f"{day:%Y%m%d}"
        if kind == "access":
            base = root / "apache"
            place = base / ("daily" if day.day not in (1, 15) else f"daily/{day:%Y}" if day.day == 1
                            else "daily.holding")
            name = f"{hub.site}-access.log-{stamp}"
        else:
            place, name = root / "hubzero" / "daily", f"cmsauth.log-{stamp}"
        place.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        path = place / name
        if (today - day).days > 7:
            path = path.with_name(name + ".gz")
            path.write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            path.write_text(text)
        written.append(path)
    (root / "apache" / "daily").mkdir(parents=True, exist_ok=True)
    (root / "hubzero" / "daily").mkdir(parents=True, exist_ok=True)
    return written


def log_day(path: Path) -> str:
    """YYYYMMDD of a log written by write_logs."""
    return path.name.split("log-")[1][:8]


def logs_in_date_order(root: Path) -> list[Path]:
    """Every log under root/apache and root/hubzero (wherever it lies), by day, access before auth:
    the order the stage commands import them in."""
    logs = list((root / "apache").rglob("*access*")) + list((root / "hubzero").rglob("cmsauth*"))
    return sorted(logs, key=lambda p: (log_day(p), "cmsauth" in p.name))


def build_database(hub: Hub, server, hub_db: str, now: datetime | None = None) -> None:
    """The hub database: users, profiles, resources, tools, tool sessions with jobs, live sessions."""
    rng = random.Random(hub.seed + 1)
    conn = server.connect()
    with conn.cursor() as cur:
        hubschema.create(cur, hub_db)
        cur.execute(f"USE `{hub_db}`")
        orgs = ("universityundergraduate", "universitygraduate", "universityfaculty", "industry",
                "government", "k12student")
        countries = ("US", "US", "US", "IN", "DE", "BR", "JP", "NG")
        users = [(1000 + i, f"Demo User {i}", f"user{1000 + i}", f"user{1000 + i}@example.org",
                  datetime(2024, 1, 1) + timedelta(days=rng.randint(0, 600))) for i in range(1, hub.users + 1)]
        cur.executemany("INSERT INTO jos_users (id, name, username, email, registerDate) "
                        "VALUES (%s, %s, %s, %s, %s)", users)
        cur.executemany("INSERT INTO jos_xprofiles (uidNumber, name, username, email, registerDate, "
                        "orgtype, organization, countryresident, countryorigin, emailConfirmed) "
                        "VALUES (%s, %s, %s, %s, %s, %s, 'Example University', %s, %s, %s)",
                        [(*u, rng.choice(orgs), rng.choice(countries), rng.choice(countries),
                          1 if rng.random() < 0.9 else -1) for u in users])
        cur.executemany("INSERT INTO jos_user_profiles (user_id, profile_key, profile_value) VALUES (%s, %s, %s)",
                        [(u[0], key, rng.choice(orgs if key == "orgtype" else countries).lower())
                         for u in users for key in ("orgtype", "countryresident", "countryorigin")])
        tool_names = dict(enumerate(synth.TOOLS, start=1))
        cur.executemany("INSERT INTO jos_resources (id, title, type, published, alias, path, created, publish_up) "
                        "VALUES (%s, %s, %s, 1, %s, %s, '2024-01-01', '2024-01-01')",
                        [(r, f"Resource {r}", 7 if r <= 5 else 3, tool_names.get(r, f"res{r}"),
                          "" if r <= 5 else f"/resources/{r}/download/slides.pdf") for r in range(1, 61)])
        cur.executemany("INSERT INTO jos_tool_version (id, toolname, instance, title, version, state, "
                        "released) VALUES (%s, %s, %s, %s, '1.0', 1, '2024-01-01')",
                        [(i + 1, t, f"{t}_r1", t.title()) for i, t in enumerate(synth.TOOLS)])
        sessions, jobs = [], []
        for day in hub.days():
            for k in range(rng.randint(2, 8)):
                hour = 23 if k == 0 and day.day == 1 else rng.randint(8, 20)
                start = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59))
                sessnum = len(sessions) + 1
                sessions.append((sessnum, f"user{rng.randint(1001, 1000 + hub.users)}", synth.doc_ip(rng),
                                 f"exec{rng.randint(1, 4)}", start, rng.choice(synth.TOOLS),
                                 rng.uniform(60, 4000), rng.uniform(10, 3000), rng.uniform(1, 900)))
                for job in range(rng.randint(1, 3)):
                    jobs.append((sessnum, job + 1, "simulation", start + timedelta(minutes=5 * job),
                                 rng.uniform(5, 900), rng.uniform(1, 600)))
        cur.executemany("INSERT INTO sessionlog (sessnum, username, remoteip, exechost, start, appname, "
                        "walltime, viewtime, cputime) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", sessions)
        cur.executemany("INSERT INTO joblog (sessnum, job, event, start, walltime, cputime) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", jobs)
        stamp = int((now or datetime.now()).timestamp())
        cur.executemany("INSERT INTO jos_session (session_id, time, ip, username, guest, userid) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        [(f"demo{i}", stamp - rng.randint(0, 3000), rng.choice(ONLINE_ADDRESSES),
                          f"user{1001 + i}" if i % 3 == 0 else "", 0 if i % 3 == 0 else 1,
                          1001 + i if i % 3 == 0 else 0) for i in range(12)])
    conn.close()
