"""The hand-written dotted-quad parser agrees with the standard library on good and hostile input."""

import ipaddress
import random

import pytest

from hzflow.enrich.geo import dotted, ip_number


def by_stdlib(text):
    try:
        return int(ipaddress.IPv4Address(text.strip()))
    except (ipaddress.AddressValueError, ValueError, AttributeError):
        return None


HOSTILE = ["", " ", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "0.0.0.0", "255.255.255.255", "256.1.1.1",
           "1.2.3.-4", "1.2.3.+4", "1..3.4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "１.2.3.4", "1.2.3.²",
           "0x1.2.3.4", "1.2.3.4/32", "::1", "2001:db8::1", "1.2.3.1000", "1.2.3.0000", "a.b.c.d", "1,2,3,4",
           "1.2.3.٣", None, 17]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_addresses_parse_as_the_standard_library_does(text):
    assert ip_number(text) == by_stdlib(text)


def test_random_addresses_round_trip():
    rng = random.Random(7)
    for _ in range(20_000):
        text = ".".join(str(rng.choice((rng.randrange(256), rng.randrange(1000), 0))) for _ in range(4))
        assert ip_number(text) == by_stdlib(text)
        if ip_number(text) is not None:
            assert dotted(ip_number(text)) == text
