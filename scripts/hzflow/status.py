"""hzflow status: per month, which stage markers exist and which days are still pending."""

from __future__ import annotations

from . import layout, sources


def run(settings, say=print) -> int:
    by_day = sources.discover_all(settings, warn=lambda m: say(f"warning: {m}"))
    months = layout.target_months(settings, list(by_day))
    stages = layout.month_stages(settings)
    say(f"site {settings.site}: {len(by_day)} day(s) with logs, months {months[0]} .. {months[-1]}")
    say(f"{'month':<8} " + " ".join(f"{s:<12}" for s in stages) + " days  pending")
    for month in months:
        days = [d for d in by_day if d.startswith(month)]
        pending = [d for d in days if not layout.day_marker(settings, d).exists()]
        marks = []
        for stage in stages:
            path = layout.marker(settings, stage, month)
            marks.append("yes" if path.exists() else "-")
        detail = ", ".join(d[8:] for d in pending[:10]) + (" …" if len(pending) > 10 else "")
        say(f"{month:<8} " + " ".join(f"{m:<12}" for m in marks)
            + f" {len(days):>4}  {len(pending):>3}{'  (days ' + detail + ')' if pending else ''}")
    return 0

