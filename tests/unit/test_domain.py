"""The legacy domain rules, case by case."""

from datetime import date

import pytest

from hzflow.enrich.domain import get_domain
from hzflow.enrich.window import legacy_week_window, spec_bounds


@pytest.mark.parametrize("host, domain", [
    ("www.example.com", "example.com"),
    ("cs.purdue.edu", "purdue.edu"),                 # three-letter TLD: no promotion
    ("host.physics.example.ac.uk", "example.ac.uk"),  # generic second level under a ccTLD
    ("a.b.co.jp", "b.co.jp"),
    ("host.co.jp", "host.co.jp"),
    ("www.tu.de", "www.tu.de"),                     # two-letter label under a two-letter ccTLD
    ("www.kth.se", "kth.se"),
    ("x.y.ub.cc", "ub.cc"),                         # the 'ub' exception
    ("radar.navy.mil", "radar.navy.mil"),
    ("a.b.af.mil", "b.af.mil"),
    ("www.school.k12.in.us", "school.k12.in.us"),
    ("main.library.lib.oh.us", "library.lib.oh.us"),
    ("www.city.oh.us", "city.oh.us"),
    ("www.school.k12.in.uk", "k12.in.uk"),          # locality rule is for .us only
    ("dsl-1-2-3-4-isp.net", "isp.net"),             # long dashed label keeps its last part
    ("a_b_c_d_e.org", "e.org"),
    ("a-b-c.org", "a-b-c.org"),
    ("localhost", "?"),
    ("?", "?"),
    ("", "?"),
    (None, "?"),
    (".example.com", "example.com"),
    ("example.", "example."),
])
def test_get_domain(host, domain):
    assert get_domain(host) == domain


@pytest.mark.parametrize("spec, bounds", [
    ("2025-07", (date(2025, 7, 1), date(2025, 8, 1))),
    ("2025-12", (date(2025, 12, 1), date(2026, 1, 1))),
    ("2024", (date(2024, 1, 1), date(2025, 1, 1))),
    ("2024-02-29", (date(2024, 2, 29), date(2024, 3, 1))),
    ("2025-01..2025-03", (date(2025, 1, 1), date(2025, 4, 1))),
    ("..2025-03", (None, date(2025, 3, 1))),
    ("2025-03..", (date(2025, 3, 1), None)),
])
def test_date_specs(spec, bounds):
    assert spec_bounds(spec) == bounds


def test_the_legacy_window_starts_a_day_early():
    assert legacy_week_window(date(2025, 3, 1), date(2025, 4, 1)) == (date(2025, 2, 28), date(2025, 4, 1))


@pytest.mark.parametrize("spec", ["2025-13", "july", "2025-03..2025-01"])
def test_bad_date_specs_are_refused(spec):
    from hzflow.errors import UsageError
    with pytest.raises(UsageError):
        spec_bounds(spec)
