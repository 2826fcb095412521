"""The pairs reduction's SQL helpers against the pandas reference they stand in for.

``iso_time_sql`` lets DuckDB read a pair's time when its text has a strict ISO 8601 form;
whatever DuckDB reads must then be what ``pandas.to_datetime(..., utc=True,
format="ISO8601")`` (the reference, :meth:`abkit.engine.pairs.PairsReduction.frame`) reads.
``load_rows`` numbers the rows in file order on every thread."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from abkit.engine.duckdb_pair_sql import drop_rows, iso_time_sql, load_rows
from abkit.engine.duckdb_pairs import _times
from abkit.engine.duckdb_engine import DuckDBLogs
from abkit.io.sources import resolve_sources


def _duckdb_times(texts: list[str | None]) -> pd.Series:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE t AS SELECT * FROM (SELECT unnest(?) AS s, "
                "generate_subscripts(?, 1) AS i) ORDER BY i", [texts, texts])
    got = con.sql(f"SELECT {iso_time_sql('s')} AS p FROM t ORDER BY i").to_arrow_table()
    return pd.Series(got["p"].to_numpy().astype("datetime64[us]")).dt.tz_localize("UTC")


def _same_as_pandas(texts: list[str | None], ours: pd.Series) -> None:
    """The texts DuckDB read, parsed by pandas on their own (as the fast path is taken only
    when DuckDB read every text of a column), give DuckDB's values and unit."""
    read = ours.notna()
    kept = [t for t, r in zip(texts, read) if r]
    ref = pd.to_datetime(pd.Series(kept, dtype=object), utc=True, errors="coerce",
                         format="ISO8601")
    assert str(ref.dtype) == "datetime64[us, UTC]"
    pd.testing.assert_series_equal(ours[read].reset_index(drop=True), ref)


HAND = ["2026-11-20T08:00:00Z", "2026-11-20 08:00:00", "2026-11-20T08:00:00.5Z",
        "2026-11-20T08:00:00.123456+05:30", "2026-11-20T08:00:00-23:59",
        "2024-02-29T23:59:59.999999Z", "1000-01-01T00:00:00", "9999-12-31T23:59:59+00:00",
        "2026-02-29T00:00:00", "2026-13-01T00:00:00", "2026-04-31T00:00:00Z",
        "2026-11-20T24:00:00", "2026-11-20T08:60:00", "2026-11-20T08:00:60",
        "2026-11-20T08:00:00.1234567Z", "0999-01-01T00:00:00", "2026-11-20t08:00:00z",
        "2026-11-20T08:00:00+24:00", " 2026-11-20T08:00:00", "2026-11-20", "20261120T080000",
        "1732089600", "", None]


def test_duckdb_reads_an_iso_time_as_pandas_does_or_leaves_it():
    ours = _duckdb_times(HAND)
    assert ours.notna().tolist() == [True] * 8 + [False] * (len(HAND) - 8)
    _same_as_pandas(HAND, ours)


def test_random_times_in_the_strict_form_agree_with_pandas():
    """Digits drawn at random in every field (impossible dates, hours and offsets
    included): wherever DuckDB reads a value, pandas reads the same one."""
    rng = np.random.default_rng(20261204)
    n = 20_000

    def d(k: int, hi: int) -> np.ndarray:
        return np.char.zfill(rng.integers(0, hi, n).astype(str), k)

    frac = np.where(rng.random(n) < 0.5, "",
                    np.char.add(".", np.char.zfill(rng.integers(0, 10**6, n).astype(str), 6)))
    frac = np.array([f[: 1 + rng.integers(1, 7)] if f else f for f in frac])
    off = rng.choice(["", "Z", "+", "-"], n)
    off = np.array([o + f"{rng.integers(0, 30):02d}:{rng.integers(0, 60):02d}"
                    if o in "+-" and o else o for o in off])
    texts = [f"{y}-{mo}-{da}{sep}{h}:{mi}:{s}{f}{o}" for y, mo, da, sep, h, mi, s, f, o in zip(
        rng.integers(1000, 10000, n).astype(str), d(2, 14), d(2, 33), rng.choice(["T", " "], n),
        d(2, 25), d(2, 61), d(2, 61), frac, off)]
    ours = _duckdb_times(texts)
    assert 0.2 < ours.notna().mean() < 0.95  # both paths are exercised
    _same_as_pandas(texts, ours)


def test_the_pairs_times_come_parsed_or_as_text():
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    parsed = _times(pa.table({"_tp": pa.array([0, None], ts)}))  # every pair's time read
    assert list(parsed) == ["time_utc"]
    assert parsed["time_utc"].dtype == np.dtype("datetime64[us]")
    assert str(parsed["time_utc"][1]) == "NaT"
    text = _times(pa.table({"_t": pa.array(["2026-11-20T08:00:00Z", "later"])}))
    assert list(text["time"]) == ["2026-11-20T08:00:00Z", "later"]  # left to pandas
    none = _times(pa.table({"_tp": pa.array([None, None], ts)}))
    assert list(none) == ["time"] and list(none["time"]) == [None, None]  # pandas decides


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_rows_are_numbered_in_file_order_on_any_number_of_threads(tmp_path, threads):
    n = 300_000  # several of the CSV reader's buffers and row groups
    path = tmp_path / "log.csv"
    pd.DataFrame({"k": np.arange(n)[::-1], "v": np.arange(n) % 7}).to_csv(path, index=False)
    logs = DuckDBLogs(resolve_sources([str(path)]), threads=threads)
    got = load_rows(logs, "_t", {"_k": f"CAST({logs.text('k')} AS BIGINT)"})
    assert got == (n, 0, "")
    m = load_rows(logs, "_t", {"_k": f"CAST({logs.text('k')} AS BIGINT) + {n}"}, create=False)
    assert m == (n, 0, "")
    # the file holds k = n-1 ... 0: row i has k = n-1-i; each input is numbered from 0
    pos = logs.con.execute("SELECT list(_pos ORDER BY _k) FROM _t").fetchone()[0]
    assert pos == list(range(n - 1, -1, -1)) * 2
    # an empty first input: the next one is still numbered from 0
    empty = tmp_path / "empty.csv"
    empty.write_text("k,v\n")
    e_logs = DuckDBLogs(resolve_sources([str(empty)]), threads=threads)
    e_logs.con = logs.con
    assert load_rows(e_logs, "_u", {"_k": f"CAST({e_logs.text('k')} AS BIGINT)"}) == (0, 0, "")
    assert load_rows(logs, "_u", {"_k": f"CAST({logs.text('k')} AS BIGINT)"},
                     create=False) == (n, 0, "")
    assert logs.con.execute("SELECT list(_pos ORDER BY _k) FROM _u").fetchone()[0] == list(
        range(n - 1, -1, -1))
    drop_rows(logs.con, "_t")
    assert logs.con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                            "table_name LIKE '\\_t%' ESCAPE '\\'").fetchone()[0] == 0
