"""Readers never hang on special files or symlink loops, read every real file once, and
refuse URLs they cannot read with a message (issue #12, "Readers that never hang or
crash"); s3:// logs are read, see test_s3.py."""

from __future__ import annotations

import os
import shutil
import socket
import sys

import pytest

from abkit.errors import InputError
from abkit.io.sources import SkippedFilesWarning, resolve_sources

from io_helpers import ROOT, cli, limited, report_json

AB = ROOT / "data" / "ab_example.csv"
posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


@posix
def test_fifo_named_on_the_command_line_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)
    # nobody writes to the FIFO: opening it would block forever; the timeout guards that
    r = limited(f"""
        import sys
        from abkit.cli import main
        sys.exit(main(["report", {str(fifo)!r}]))
    """, timeout=30)
    assert r.returncode == 2, r.stderr
    assert "is a fifo, not a regular file" in r.stderr
    assert "log.csv" in r.stderr


@posix
def test_device_named_on_the_command_line_is_refused(capsys):
    code, _, err = cli(["report", "/dev/null"], capsys)
    assert code == 2
    assert "is a device, not a regular file" in err


@posix
def test_special_files_inside_a_folder_are_skipped_and_named(tmp_path, capsys):
    d = tmp_path / "logs"
    d.mkdir()
    shutil.copy(AB, d / "a.csv")
    os.mkfifo(d / "pipe.csv")
    sock = socket.socket(socket.AF_UNIX)
    path = str(d / "s.csv")
    if len(path) < 100:
        sock.bind(path)
    try:
        with pytest.warns(SkippedFilesWarning, match=r"pipe\.csv \(fifo\)"):
            src = resolve_sources(d)
        assert [f.name for f in src.files] == ["a.csv"]
        assert any("pipe.csv (fifo)" in s for s in src.skipped)
        if len(path) < 100:
            assert any("s.csv (socket)" in s for s in src.skipped)
        with pytest.warns(SkippedFilesWarning):
            doc = report_json(d, capsys)  # the report runs on the regular file alone
        n_lines = sum(1 for _ in open(AB)) - 1
        assert doc["data"]["rows_read"] == n_lines
    finally:
        sock.close()


@posix
def test_folder_of_only_special_files_names_them(tmp_path, capsys):
    os.mkfifo(tmp_path / "only.csv")
    code, _, err = cli(["report", str(tmp_path)], capsys)
    assert code == 2
    assert "holds no log files" in err and "only.csv (fifo)" in err


@posix
@pytest.mark.parametrize("how", ["folder", "glob"])
def test_symlink_loop_ends_and_each_real_file_is_read_once(tmp_path, how):
    d = tmp_path / "logs"
    (d / "sub").mkdir(parents=True)
    shutil.copy(AB, d / "sub" / "a.csv")
    os.symlink(d, d / "sub" / "loop")          # sub/loop -> logs (a cycle)
    os.symlink(d / "sub", d / "again")         # a second way to reach sub/a.csv
    os.symlink(d / "sub" / "a.csv", d / "alias.csv")  # a file symlink to the same file
    arg = str(d) if how == "folder" else str(d / "**" / "*.csv")
    r = limited(f"""
        from abkit.io.sources import resolve_sources
        src = resolve_sources({arg!r})
        print(len(src.files), src.files[0].name)
    """, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "a.csv"]


def test_recursive_glob_matches_like_the_shell(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ("top.csv", "a/x.csv", "a/b/y.csv", "a/b/y.txt", "a/.hidden.csv"):
        (tmp_path / p).write_text("v\n1\n")
    got = resolve_sources(str(tmp_path / "**" / "*.csv")).files
    assert sorted(f.name for f in got) == ["top.csv", "x.csv", "y.csv"]
    got = resolve_sources(str(tmp_path / "a" / "**" / "y.csv")).files
    assert [f.name for f in got] == ["y.csv"]


@pytest.mark.parametrize("url", ["https://example.com/a.csv", "gs://b/x.parquet",
                                 "s3a://bucket/logs/"])
def test_urls_are_refused_with_a_clear_message(url, capsys):
    code, _, err = cli(["report", url], capsys)
    assert code == 2
    assert "abkit reads local files" in err
    if url.startswith("s3a"):
        assert "write it as s3://" in err and "--engine spark" in err


def test_s3_url_with_no_reachable_endpoint_is_exit_2_naming_it(capsys, monkeypatch):
    # s3:// logs are read (tests/io/test_s3.py); with no S3 to reach, the error names the
    # URL and the settings to check, never a traceback
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = cli(["report", "s3://bucket/logs/"], capsys)
    assert code == 2
    assert "s3://bucket/logs/: cannot reach the S3 endpoint" in err
    assert "AWS_ENDPOINT_URL" in err and "Traceback" not in err


def test_delimiter_and_decimal_options_are_checked():
    with pytest.raises(InputError, match="needs another --delimiter"):
        resolve_sources(AB, decimal=",")
    with pytest.raises(InputError, match="one character"):
        resolve_sources(AB, delimiter=";;")
    src = resolve_sources(AB, delimiter=";", decimal=",")
    assert (src.delimiter, src.decimal) == (";", ",")
