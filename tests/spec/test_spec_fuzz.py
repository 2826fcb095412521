"""A hypothesis fuzz of the spec parser (issue #12): whatever the values and the text, the
only exception is SpecError, and its message is bounded in length."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abkit.errors import SpecError
from abkit.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [tomllib.loads(p.read_text()) for p in
           sorted((ROOT / "data").glob("*.toml")) + sorted((ROOT / "data" / "shadow").glob("*.toml"))]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(10 ** 18, 10 ** 400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=300),
    st.sampled_from(["1m", "1 min", "5%", "500%", "canary", "Canary", "blue-green", "0", "",
                     "2026-11-20T10:00:00Z", "Linear10PercentEvery1Minute"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                                 inner, max_size=4)), max_leaves=12)


def _slots(d, path=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield path + (k,)
            yield from _slots(v, path + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield path + (i,)
            yield from _slots(v, path + (i,))


def _check(call) -> None:
    try:
        call()
    except SpecError as e:
        assert len(str(e)) < 2000, str(e)[:300]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SAMPLES) - 1), st.data(), VALUES)
def test_any_value_at_any_key_is_a_spec_error_or_fine(which, data, value):
    spec = copy.deepcopy(SAMPLES[which])
    slots = list(_slots(spec))
    path = data.draw(st.sampled_from(slots))
    node = spec
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    _check(lambda: parse_spec(spec, source="fuzz.toml"))


TEXT = st.text(alphabet=st.sampled_from(list("[]{}=:,-&*<>!#'\"\n \tabcx019.%")), max_size=400)


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_is_a_spec_error_or_a_spec(tmp_path, suffix, text):
    p = tmp_path / f"fuzz{suffix}"
    p.write_text(text, encoding="utf-8")
    _check(lambda: load_spec(p))
