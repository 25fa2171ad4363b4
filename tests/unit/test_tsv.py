"""LOAD DATA input lines: the fast join of plain fields equals escaping every field."""

import random

from hzflow.db import tsv_field, tsv_row

ALPHABET = ["a", "Z", "9", " ", "é", "\t", "\n", "\r", "\0", "\\", "\\N", "N"]


def test_a_row_joined_as_it_is_equals_the_escaped_row_on_hostile_fields():
    rng = random.Random(11)
    for _ in range(5000):
        fields = tuple("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4)))
                       for _ in range(rng.randint(1, 6)))
        assert tsv_row(fields) == "\t".join(map(tsv_field, fields)) + "\n", fields


def test_nulls_and_numbers_are_written_as_load_data_reads_them():
    assert tsv_row(("a", None, 3, "b\tc")) == "a\t\\N\t3\tb\\tc\n"
