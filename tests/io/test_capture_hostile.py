"""Data Capture and ground-truth readers under hostile lines: deep nesting, huge lines, gzip
bombs. Each is rejected per line with a reason and counted; nothing raises (issue #12).
The big cases run in a child under a 2 GiB address-space limit and a timeout."""

from __future__ import annotations

import json

from abkit.io.datacapture import read_capture, read_ground_truth

from io_helpers import CAP, GT, cap_rec, gt_rec, limited, write_lines

DEEP = 200_000  # far past Python's recursion limit


def test_deep_json_line_is_rejected_with_a_reason(tmp_path):
    deep = '{"captureData": ' + "[" * DEEP + "]" * DEEP + "}"
    write_lines(tmp_path, CAP, [cap_rec("a"), deep, cap_rec("b")])
    r = read_capture(tmp_path / "ep", variants=["variant-live"])
    acc = r.accounting
    assert (acc.records_read, acc.records_used) == (3, 2)
    assert acc.rejected == {"nested_too_deeply": 1}
    assert "nested too deeply" in acc.examples["nested_too_deeply"]
    assert ":2:" in acc.examples["nested_too_deeply"]


def test_deep_json_inside_a_payload_is_rejected(tmp_path):
    payload = "[" * DEEP + "]" * DEEP
    line = cap_rec("a", out=payload, enc_out="JSON", ct_out="application/json")
    write_lines(tmp_path, CAP, [line, cap_rec("b")])
    acc = read_capture(tmp_path / "ep", variants=["variant-live"], features=["a", "b"]
                       ).accounting
    assert acc.rejected == {"nested_too_deeply": 1} and acc.records_used == 1


def test_deep_json_in_ground_truth(tmp_path):
    deep = '{"groundTruthData": ' + "{\"a\":" * DEEP + "1" + "}" * DEEP + "}"
    write_lines(tmp_path, GT, [gt_rec("x"), deep])
    acc = read_ground_truth(tmp_path / "gt" / "ep").accounting
    assert (acc.records_read, acc.records_used) == (2, 1)
    assert acc.rejected == {"nested_too_deeply": 1}


def test_gzip_bomb_line_is_rejected_and_counted_under_a_memory_limit(tmp_path):
    # one 300 MB line of zeros (about 300 KB compressed), between two good records
    import gzip

    p = tmp_path / CAP
    p.parent.mkdir(parents=True)
    with gzip.open(p, "wb", compresslevel=9) as fh:
        fh.write(cap_rec("a").encode() + b"\n")
        chunk = b"0" * (1 << 20)
        for _ in range(300):
            fh.write(chunk)
        fh.write(b"\n" + cap_rec("b").encode() + b"\n")
    r = limited(f"""
        import json
        from abkit.io.datacapture import read_capture
        acc = read_capture({str(tmp_path / 'ep')!r}, variants=["variant-live"]).accounting
        print(json.dumps([acc.records_read, acc.records_used, acc.rejected]))
    """, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout) == [3, 2, {"oversized_line": 1}]


def test_decompressed_size_is_bounded(tmp_path):
    lines = [cap_rec(f"e{i}") for i in range(4000)]  # about 1.2 MB
    write_lines(tmp_path, CAP, lines, gz=True)
    r = limited(f"""
        import json
        from abkit.io.datacapture import discover, read_capture
        discover.MAX_FILE_BYTES = 512 * 1024  # a small cap stands in for 16 GiB
        acc = read_capture({str(tmp_path / 'ep')!r}, variants=["variant-live"]).accounting
        print(json.dumps([acc.records_read, acc.records_used, acc.rejected,
                          acc.examples["decompressed_too_large"]]))
    """, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    read, used, rejected, example = json.loads(r.stdout)
    assert rejected == {"decompressed_too_large": 1}
    assert read == used + 1 and 0 < used < 4000
    assert "decompresses to more than 524,288 bytes" in example


def test_oversized_ground_truth_line(tmp_path):
    r = limited(f"""
        import json
        from pathlib import Path
        from abkit.io.datacapture import discover, read_ground_truth
        discover.MAX_LINE_BYTES = 1000
        p = Path({str(tmp_path / GT)!r}); p.parent.mkdir(parents=True)
        good = json.dumps({{"groundTruthData": {{"data": "1", "encoding": "CSV"}},
                            "eventMetadata": {{"eventId": "x"}}}})
        p.write_text(good + "\\n" + "x" * 5000 + "\\n" + good.replace('"x"', '"y"') + "\\n")
        acc = read_ground_truth({str(tmp_path / "gt" / "ep")!r}).accounting
        print(json.dumps([acc.records_read, acc.records_used, acc.rejected]))
    """)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout) == [3, 2, {"oversized_line": 1}]


def test_capture_tree_with_symlink_loop_fifo_and_alias_reads_each_file_once(tmp_path):
    import os

    import pytest

    from abkit.io.sources import SkippedFilesWarning

    f = write_lines(tmp_path, CAP, [cap_rec("a"), cap_rec("b")])
    hour = f.parent
    os.symlink(tmp_path / "ep", hour / "loop")            # a folder loop inside the tree
    os.mkfifo(hour / "pipe.jsonl")                         # never opened
    r = limited(f"""
        import json, warnings
        from abkit.io.datacapture import read_capture
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                r = read_capture({str(tmp_path / 'ep')!r}, variants=["variant-live"])
                print(json.dumps([r.accounting.records_read, len(r.files)]))
            except Exception as e:
                print(json.dumps([type(e).__name__, str(e)[:300]]))
        print(json.dumps([str(x.message) for x in w]))
    """, timeout=30)
    assert r.returncode == 0, r.stderr[-2000:]
    first, warns = r.stdout.splitlines()
    got = json.loads(first)
    assert got == [2, 1], got  # the loop leads back to a folder already walked
    assert any("pipe.jsonl (fifo)" in w for w in json.loads(warns))
    os.unlink(hour / "loop")
    with pytest.warns(SkippedFilesWarning, match="pipe.jsonl"):
        r2 = read_capture(tmp_path / "ep", variants=["variant-live"])
    assert r2.accounting.records_read == 2 and len(r2.files) == 1


def test_fifo_named_as_capture_root_is_refused(tmp_path):
    import os

    import pytest

    from abkit.errors import InputError

    os.mkfifo(tmp_path / "x.jsonl")
    with pytest.raises(InputError, match="is a fifo"):
        read_capture(tmp_path / "x.jsonl", variants=["v"])
