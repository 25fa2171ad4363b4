"""Synthetic, deterministic hub logs for the demo, the tests and the benchmarks.

Addresses come from ranges reserved for documentation (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24) and, for benchmark-sized pools, the
benchmarking range 198.18.0.0/15: nothing here names a real client.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")

BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
)
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; ExampleCrawler/1.0; +https://crawler.example.org/)",
    "python-requests/2.32.3",
)
PAGES = ("/", "/resources/{r}", "/resources/{r}/about", "/tools/{t}", "/members/{u}",
         "/groups/community", "/events/2026/workshop", "/publications/{r}", "/search?q=dft",
         "/resources/{r}/supportingdocs", "/tools/{t}/invoke", "/courses/intro/outline")
DOWNLOADS = ("/resources/{r}/download/slides.pdf", "/resources/{r}/download/data.csv",
             "/resources/{r}/download/notebook.ipynb", "/resources/{r}/manual.pdf")
STATIC = ("/app/templates/hub/css/main.css", "/core/assets/js/jquery.js", "/favicon.ico",
          "/app/site/media/images/logo.png")
TOOLS = ("qdot", "crystalviewer", "pntoy", "abacus", "mosfet")


def doc_ip(rng: random.Random) -> str:
    return rng.choice(DOC_NETS) + str(rng.randint(1, 254))


def bench_ip_pool(n: int, rng: random.Random) -> list[str]:
    """n distinct addresses from 198.18.0.0/15."""
    picks = rng.sample(range(1, 131070), n)
    return [f"198.{18 + p // 65536}.{(p // 256) % 256}.{p % 256}" for p in picks]


def access_line(when: datetime, ip: str, request: str, status: int, size: int,
                referrer: str, agent: str, pid: int, uid: int | None = None) -> str:
    """One line in the current 23-field layout."""
    uid_field = str(uid) if uid else "-"
    session = f"{pid:x}{ip.replace('.', '')}"[:26] if uid else "-"
    return (f"{when:%Y-%m-%d %H:%M:%S} UTC {pid} - \"{request}\" {status} {size} {ip} "
            f"\"{referrer}\" \"{agent}\" TLSv1.3 0 {size} {uid_field} {session} - - - - - - -")


def auth_line(when: datetime, uid: int, user: str, ip: str, action: str) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S} {uid} [{user}] {ip} {action}"


def access_day(day: date, n_lines: int, rng: random.Random, ips: list[str] | None = None,
               n_users: int = 40, n_resources: int = 60) -> list[str]:
    """A day of access-log lines with a realistic mix.

    30% pages, 35% static assets, 4% downloads, 15% crawlers, 8% 304s, 4% 404s,
    4% login POSTs: about 45% of the lines are kept on a first import.
    """
    lines = []
    start = datetime(day.year, day.month, day.day)
    step = 86400 / max(n_lines, 1)
    for i in range(n_lines):
        when = start + timedelta(seconds=int(i * step))
        ip = rng.choice(ips) if ips else doc_ip(rng)
        roll = rng.random()
        fill = {"r": rng.randint(1, n_resources), "t": rng.choice(TOOLS), "u": rng.randint(1001, 1000 + n_users)}
        agent, referrer, status, method = rng.choice(BROWSERS), "-", 200, "GET"
        uid = None
        if roll < 0.30:
            url = rng.choice(PAGES).format(**fill)
            referrer = "https://hub.example.org/" if rng.random() < 0.6 else "-"
            uid = fill["u"] if rng.random() < 0.3 else None
        elif roll < 0.65:
            url = rng.choice(STATIC)
            referrer = "https://hub.example.org/"
        elif roll < 0.69:
            url = rng.choice(DOWNLOADS).format(**fill)
            referrer = "https://hub.example.org/resources"
        elif roll < 0.84:
            url, agent = rng.choice(PAGES).format(**fill), rng.choice(CRAWLERS)
        elif roll < 0.92:
            url, status = rng.choice(PAGES).format(**fill), 304
        elif roll < 0.96:
            url, status = f"/resources/{fill['r']}/missing", 404
        else:
            url, method = "/login", "POST"
            referrer = "https://hub.example.org/login"
        size = 0 if status == 304 else rng.randint(200, 90000)
        lines.append(access_line(when, ip, f"{method} {url} HTTP/1.1", status, size, referrer,
                                 agent, 10000 + i % 5000, uid))
    return lines


def auth_day(day: date, n_events: int, rng: random.Random, n_users: int = 40) -> list[str]:
    lines = []
    start = datetime(day.year, day.month, day.day)
    for _ in range(n_events):
        when = start + timedelta(seconds=rng.randint(0, 86399))
        uid = rng.randint(1001, 1000 + n_users)
        action = rng.choices(("login", "simulation", "logout", "invalid"), (5, 3, 4, 1))[0]
        lines.append(auth_line(when, uid, f"user{uid}", doc_ip(rng), action))
    lines.sort()
    return lines
