"""abkit.io.line_guard: over-long lines and decompression bombs found in one bounded pass,
checked against a plain split of the bytes (the independent reference)."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abkit.errors import InputError
from abkit.io import line_guard
from abkit.io.line_guard import guard_files, scan_lines


def _reference(data: bytes, cap: int) -> list[int]:
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines = lines[:-1]
    return [i + 1 for i, line in enumerate(lines) if len(line) > cap]


def _expected_copy(data: bytes, bad: list[int]) -> bytes:
    parts = data.split(b"\n")
    return b"\n".join(b"" if i + 1 in bad else p for i, p in enumerate(parts))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lengths=st.lists(st.sampled_from([0, 1, 7, 39, 41, 90, 200]), min_size=1,
                        max_size=30),
       newline_at_end=st.booleans(), gz=st.booleans(), chunk=st.sampled_from([5, 16, 64]))
def test_scan_and_copy_match_a_plain_split(tmp_path_factory, monkeypatch, lengths,
                                           newline_at_end, gz, chunk):
    monkeypatch.setattr(line_guard, "CHUNK", chunk)  # set anew for every example
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if newline_at_end else b"")
    path = tmp_path_factory.mktemp("g") / ("f.csv.gz" if gz else "f.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    scan = scan_lines(path, line_cap=40, file_cap=10**9)
    assert scan.oversized == _reference(data, 40)
    assert scan.cut_line is None
    if scan.oversized:
        line_guard._filtered_copy(scan, path.with_suffix(".out"))
        assert path.with_suffix(".out").read_bytes() == _expected_copy(data, scan.oversized)


@pytest.mark.parametrize("gz", [False, True])
def test_the_cap_cuts_at_a_line_end(tmp_path, monkeypatch, gz):
    monkeypatch.setattr(line_guard, "CHUNK", 64)
    data = b"".join(b"row%04d\n" % i for i in range(500))  # 4,000 bytes
    path = tmp_path / ("f.csv.gz" if gz else "f.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    scan = scan_lines(path, line_cap=100, file_cap=1000)
    assert scan.cut_line is not None and scan.cut_byte <= 1000
    kept = data[:scan.cut_byte]
    assert kept.endswith(b"\n") and scan.cut_line == kept.count(b"\n") + 1
    assert scan.cut_byte == 1000  # the last line end within the cap (every 8th byte)
    g = guard_files([path], line_cap=100, file_cap=1000)
    try:
        assert g.rejected == {"decompressed_too_large": 1}
        assert g.files[0].read_bytes() == kept
        assert g.name(str(g.files[0])) == str(path)
        assert f"{path}, line {scan.cut_line}" in g.examples["decompressed_too_large"]
    finally:
        g.close()
    assert not g.files[0].exists()


def test_a_clean_file_is_read_as_it_is(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("a,b\n1,2\n")
    g = guard_files([path])
    assert g.files == (path,) and g.rejected == {} and g.folder is None


def test_an_over_long_header_is_an_input_error(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(b"a" * 200 + b"\n1\n")
    with pytest.raises(InputError, match="header line is longer"):
        guard_files([path], line_cap=100)


@pytest.mark.slow
def test_a_gzip_bomb_line_costs_bounded_memory(tmp_path):
    """A 1 GiB line inside a ~1 MB gzip: found in one streamed pass, never held."""
    import resource

    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b"variant,y\n" + b"a,1\n" * 10 + b"a,")
        block = b"9" * (1 << 24)
        for _ in range(64):
            f.write(block)
        f.write(b"\n" + b"b,2\n" * 10)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    g = guard_files([path])
    try:
        assert g.rejected == {"oversized_line": 1}
        assert "line 12" in g.examples["oversized_line"]
        assert g.files[0].read_bytes() == b"variant,y\n" + b"a,1\n" * 10 + b"\n" + b"b,2\n" * 10
    finally:
        g.close()
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200
