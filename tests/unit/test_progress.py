"""The progress line of long steps: at a steady interval, with the rate and what is left."""

from __future__ import annotations

from hzflow import progress


def test_a_line_at_most_every_interval_with_rate_and_time_left(monkeypatch):
    clock = iter([0.0, 1.0, 5.0, 10.5, 12.0, 21.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    said = []
    p = progress.Progress(said.append, "lines read", every=10.0, total=4000)
    for done in (100, 500, 1050, 1200, 2100):
        p.tick(done, "3 unanswered" if done == 2100 else "")
    assert said == ["  lines read: 1,050/4,000 (100/s, about 30 s left)",
                    "  lines read: 2,100/4,000 (100/s, about 19 s left, 3 unanswered)"]
