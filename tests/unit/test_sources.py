"""Source discovery: places, priority, dates from names."""

import yaml

from hzflow import config as hzconfig
from hzflow import sources


def settings(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"site": "hub", "db": {}, "paths": {
        "apache_daily": str(tmp_path / "a/daily"), "apache_imported": str(tmp_path / "a/imported"),
        "hub_daily": str(tmp_path / "h/daily"), "hub_imported": str(tmp_path / "h/imported")}}))
    return hzconfig.load(p)


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    return path


def test_all_places_are_searched_and_the_higher_priority_copy_wins(tmp_path):
    s = settings(tmp_path)
    daily = touch(tmp_path / "a/daily/hub-access.log-20250701")
    year = touch(tmp_path / "a/daily/2025/hub-access.log-20250702.gz")
    holding = touch(tmp_path / "a/daily.holding/hub-access.log-20250703")
    touch(tmp_path / "a/daily.holding/hub-access.log-20250701")          # duplicate date
    imported = touch(tmp_path / "a/imported/hub-access.log-20250630.gz")
    touch(tmp_path / "a/daily/other-access.log-20250704")                # another site
    touch(tmp_path / "a/daily/hub-access.log-20250705.gz.~1~")           # backup copy
    warnings = []
    found = sources.discover(s, "access", warn=warnings.append)
    assert {d: src.path for d, src in found.items()} == {
        "2025-06-30": imported, "2025-07-01": daily, "2025-07-02": year, "2025-07-03": holding}
    assert len(warnings) == 1 and "2025-07-01" in warnings[0]


def test_auth_and_access_logs_are_grouped_by_day(tmp_path):
    s = settings(tmp_path)
    touch(tmp_path / "a/daily/hub-access.log-20250701")
    touch(tmp_path / "h/daily/cmsauth.log-20250701")
    touch(tmp_path / "h/imported/cmsauth.log-20250702.gz")
    by_day = sources.discover_all(s)
    assert {d: sorted(k) for d, k in by_day.items()} == {"2025-07-01": ["access", "auth"],
                                                        "2025-07-02": ["auth"]}


def test_canonical_names_ignore_compression():
    assert sources.canonical_name("/x/hub-access.log-20250701.gz") == "hub-access.log-20250701"
    assert sources.day_of("cmsauth.log-20250230-x-20250301") == "2025-03-01"
