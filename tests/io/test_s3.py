"""``s3://`` inputs against a local S3 emulator (moto's server mode on 127.0.0.1): the
reports equal the local runs, globs and prefixes pick the same files, Data Capture trees
stage into the same layout, and every S3 failure is exit 2 naming the URL and the fix, with
no traceback and no credential in the message (issue #13)."""

from __future__ import annotations

import gc
import gzip
import json
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

from abkit.errors import InputError  # noqa: E402
from abkit.io import s3  # noqa: E402
from abkit.io.sources import resolve_sources  # noqa: E402

from io_helpers import ROOT, cli  # noqa: E402

DATA = ROOT / "data"
BUCKET = "abkit-logs"
SECRET = "SECRETabc123doNotShow"  # the fake secret key: it must never appear in a message
CAPTURE = DATA / "shadow" / "datacapture"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _layout(local: Path) -> None:
    """The files every test reads, locally (the S3 copy mirrors them key for key)."""
    import duckdb

    (local / "logs").mkdir(parents=True)
    shutil.copy(DATA / "ab_example.csv", local / "logs" / "ab_example.csv")
    with open(DATA / "ab_example.csv", "rb") as src, \
            gzip.open(local / "logs" / "ab_example.csv.gz", "wb") as out:
        shutil.copyfileobj(src, out)
    (local / "parquet").mkdir()
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{DATA / 'ab_example.csv'}')) TO "
               f"'{local / 'parquet' / 'ab_example.parquet'}' (FORMAT parquet)")
    (local / "jsonl").mkdir()
    shutil.copy(DATA / "ab_requests.jsonl.gz", local / "jsonl" / "ab_requests.jsonl.gz")
    lines = (DATA / "ab_example.csv").read_text().splitlines(keepends=True)
    head, body = lines[0], lines[1:]
    (local / "split" / "nested").mkdir(parents=True)
    third = len(body) // 3
    (local / "split" / "part-1.csv").write_text(head + "".join(body[:third]))
    (local / "split" / "part-2.csv").write_text(head + "".join(body[third:2 * third]))
    (local / "split" / "nested" / "part-3.csv").write_text(head + "".join(body[2 * third:]))
    (local / "split" / "_SUCCESS").write_text("")
    (local / "split" / ".hidden.csv").write_text(head)
    (local / "rejects").mkdir()
    (local / "rejects" / "broken.csv").write_text(
        head + "".join(body[:500]) + "u9,control,1\n" + '"unclosed,treatment,0,1,1,1,1,1\n'
        + "".join(body[500:1000]))
    (local / "mixed").mkdir()
    (local / "mixed" / "a.csv").write_text(head + body[0])
    (local / "mixed" / "b.csv").write_text("other,columns\n1,2\n")
    (local / "notes").mkdir()
    (local / "notes" / "README.txt").write_text("not a log\n")
    shutil.copytree(CAPTURE, local / "datacapture")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A moto S3 server on a free local port, holding :func:`_layout` under ``BUCKET``;
    yields (endpoint URL, local mirror folder)."""
    port = _free_port()
    srv = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    endpoint = f"http://127.0.0.1:{port}"
    local = tmp_path_factory.mktemp("s3-mirror")
    _layout(local)
    import boto3  # installed with moto; it sets the private ACL S3 gives new objects

    up = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key=SECRET)
    up.create_bucket(Bucket=BUCKET)
    for f in sorted(local.rglob("*")):
        if f.is_file():
            up.put_object(Bucket=BUCKET, Key=f.relative_to(local).as_posix(),
                          Body=f.read_bytes())
    yield endpoint, local
    srv.stop()


@pytest.fixture
def aws(server, monkeypatch, tmp_path):
    """Fake credentials and the emulator's endpoint in the environment, nothing from the
    machine's own AWS setup, and a private temporary folder to watch the staging in."""
    import os

    for k in list(os.environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    endpoint, local = server
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return local, tmp


def _report(arg, capsys, *extra) -> dict:
    code, out, err = cli(["report", *([arg] if isinstance(arg, str) else arg), "--format",
                          "json", *extra], capsys)
    assert code == 0, err
    return json.loads(out)


def _same(doc: dict) -> dict:
    """A report without what may differ between a local and an S3 run."""
    return {k: v for k, v in doc.items() if k not in ("generated_at", "input")}


def _url(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


# with a spec: spec inference samples "the first rows", which DuckDB does not order across
# files or threads (preserve_insertion_order = false), so an inferred metric kind can differ
# between two runs of the same local files
AB_SPEC = ("--spec", str(DATA / "ab_example.toml"))


@pytest.mark.parametrize("key, extra", [
    ("logs/ab_example.csv", AB_SPEC),
    ("logs/ab_example.csv.gz", AB_SPEC),
    ("parquet/ab_example.parquet", AB_SPEC),
    ("jsonl/ab_requests.jsonl.gz", ("--spec", str(DATA / "ab_requests.toml"))),
])
def test_report_on_s3_equals_the_local_run(aws, capsys, key, extra):
    local, tmp = aws
    here = _report(str(local / key), capsys, *extra)
    there = _report(_url(key), capsys, *extra)
    assert _same(there) == _same(here)
    assert there["input"]["label"] == _url(key)
    assert there["input"]["format"] == here["input"]["format"]
    gc.collect()
    assert list(tmp.iterdir()) == []  # the staged copies are gone


@pytest.mark.parametrize("pattern, expect", [
    ("split/*.csv", ["split/part-1.csv", "split/part-2.csv"]),
    ("split/**/*.csv", ["split/nested/part-3.csv", "split/part-1.csv", "split/part-2.csv"]),
    ("split/part-[12].csv", ["split/part-1.csv", "split/part-2.csv"]),
    # a folder holds every log file, hidden ones too (as a local folder walk)
    ("split/", ["split/.hidden.csv", "split/nested/part-3.csv", "split/part-1.csv",
                "split/part-2.csv"]),
    ("split", ["split/.hidden.csv", "split/nested/part-3.csv", "split/part-1.csv",
               "split/part-2.csv"]),
    ("*/ab_example.csv", ["logs/ab_example.csv"]),
])
def test_globs_and_prefixes_pick_the_files_a_local_run_picks(aws, pattern, expect):
    local, _ = aws
    src = resolve_sources(_url(pattern))
    assert list(src.names) == [_url(k) for k in expect]
    mine = resolve_sources(str(local / pattern))
    assert [Path(f).relative_to(local).as_posix() for f in mine.files] == sorted(expect)
    assert all(f.read_bytes() == (local / k).read_bytes() for f, k in zip(src.files, expect))


def test_glob_report_equals_the_local_glob_report(aws, capsys):
    local, _ = aws
    here = _report(str(local / "split" / "**" / "*.csv"), capsys, *AB_SPEC)
    there = _report(_url("split/**/*.csv"), capsys, *AB_SPEC)
    assert _same(there) == _same(here)
    assert there["input"]["label"].startswith("3 csv files (s3://abkit-logs/split/")


def test_s3_and_local_inputs_mix(aws):
    local, _ = aws
    src = resolve_sources([_url("split/part-1.csv"), local / "split" / "part-2.csv"])
    assert src.names == (_url("split/part-1.csv"), str(local / "split" / "part-2.csv"))


def test_rejected_lines_are_accounted_as_for_the_local_file(aws, capsys):
    local, _ = aws
    here = _report(str(local / "rejects" / "broken.csv"), capsys, *AB_SPEC)
    there = _report(_url("rejects/broken.csv"), capsys, *AB_SPEC)
    assert here["data"]["rows_rejected"].get("unparseable_line")
    d_here, d_there = dict(here["data"]), dict(there["data"])
    ex_here, ex_there = d_here.pop("examples"), d_there.pop("examples")
    assert d_there == d_here
    assert ex_there.keys() == ex_here.keys()
    assert _same({**there, "data": None}) == _same({**here, "data": None})



def test_shadow_report_on_an_s3_capture_tree_equals_the_local_run(aws, capsys):
    local, tmp = aws
    spec = ("--spec", str(DATA / "shadow" / "shadow.toml"))
    here = _report(str(CAPTURE / "churn-endpoint"), capsys, *spec)
    there = _report(_url("datacapture/churn-endpoint"), capsys, *spec)
    # the same report, every local path of the tree shown as its URL
    as_urls = json.dumps(_same(here)).replace(f"{CAPTURE}/", _url("datacapture/"))
    assert json.dumps(_same(there)) == as_urls
    assert there["input"]["label"] == _url("datacapture/churn-endpoint")
    assert all(f.startswith(_url("datacapture/churn-endpoint/")) for f in there["input"]["files"])
    assert len(there["input"]["files"]) == len(here["input"]["files"])
    gc.collect()
    assert list(tmp.iterdir()) == []  # the staged tree is gone

def test_endpoint_url_s3_wins_over_endpoint_url(aws, monkeypatch):
    endpoint = s3._endpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    assert resolve_sources(_url("logs/ab_example.csv")).names == (_url("logs/ab_example.csv"),)


def _error(capsys, url) -> str:
    code, out, err = cli(["report", url], capsys)
    assert code == 2, err
    assert "Traceback" not in err and SECRET not in err and SECRET not in out
    return err


@pytest.mark.parametrize("url, words", [
    ("s3://no-such-bucket-abkit/logs/a.csv", ["no such bucket 'no-such-bucket-abkit'"]),
    ("s3://no-such-bucket-abkit/logs/", ["no such bucket"]),
    ("s3://no-such-bucket-abkit/logs/*.csv", ["no such bucket"]),
    (f"s3://{BUCKET}/logs/missing.csv", ["no such S3 object or prefix", "aws s3 ls"]),
    (f"s3://{BUCKET}/nothing/here/", ["no such S3 object or prefix"]),
    (f"s3://{BUCKET}/logs/*.tsv", ["no S3 objects match", "check the pattern"]),
    (f"s3://{BUCKET}/notes/", ["holds no log files", "README.txt"]),
    ("s3://", ["not an S3 URL with a bucket name"]),
])
def test_s3_errors_name_the_url_and_the_fix(aws, capsys, url, words):
    err = _error(capsys, url)
    for w in words:
        assert w in err
    assert url in err


def test_reader_errors_show_urls_not_temporary_paths(aws):
    from abkit.engine.duckdb_engine import DuckDBLogs

    src = resolve_sources(_url("mixed/"))
    with pytest.raises(InputError) as e, s3.url_errors():
        DuckDBLogs(src).columns()
    msg = str(e.value)
    assert "s3://abkit-logs/mixed/b.csv" in msg and str(src.staging.root) not in msg


def test_unreachable_endpoint(aws, capsys, monkeypatch):
    dead = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    err = _error(capsys, _url("logs/ab_example.csv"))
    assert "cannot reach the S3 endpoint " + dead in err and "AWS_ENDPOINT_URL" in err


def test_no_credentials_means_anonymous_and_denied_names_the_fix(aws, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert not s3._has_credentials()
    err = _error(capsys, _url("logs/ab_example.csv"))
    assert "access denied" in err and "no AWS credentials were found" in err
    assert "AWS_ACCESS_KEY_ID" in err


def test_endpoint_credentials_in_the_url_are_not_shown(aws, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://user:{SECRET}@127.0.0.1:{_free_port()}")
    err = _error(capsys, _url("logs/ab_example.csv"))
    assert "cannot" in err


def test_staging_is_removed_on_error_and_when_dropped(aws):
    _, tmp = aws
    with pytest.raises(InputError, match="differs from|mixes"):
        from abkit.engine.duckdb_engine import DuckDBLogs

        DuckDBLogs(resolve_sources(_url("mixed/"))).columns()
    gc.collect()
    assert list(tmp.iterdir()) == []
    with pytest.raises(InputError, match="mixes formats"):
        resolve_sources([_url("logs/ab_example.csv"), _url("parquet/ab_example.parquet")])
    assert list(tmp.iterdir()) == []
    src = resolve_sources(_url("split/"))
    root = src.staging.root
    assert root.parent == tmp and len(list(root.rglob("*.csv"))) == 4
    assert (root.stat().st_mode & 0o777) == 0o700
    del src
    gc.collect()
    assert not root.exists()


def test_keys_that_would_leave_the_staging_folder_are_refused(aws):
    with s3.Staging() as staging:
        for bad in ("s3://b/../x.csv", "s3://b/a//x.csv", "s3://b/./x.csv"):
            with pytest.raises(InputError, match="path segment"):
                staging.local(bad)
        assert staging.local("s3://b/a/x.csv") == staging.root / "b" / "a" / "x.csv"


def test_capture_tree_is_staged_in_the_same_layout(aws):
    from abkit.io.datacapture import read_capture

    local, tmp = aws
    kw = dict(output_field="predictions[0].score", variants=["variant-live", "variant-shadow"])
    here = read_capture(CAPTURE / "churn-endpoint", **kw)
    with s3.staged_tree(_url("datacapture/churn-endpoint")) as (root, staging):
        there = read_capture(root, **kw)
        names = [staging.url(f) for f in there.files]
    assert there.endpoint == here.endpoint == "churn-endpoint"
    assert there.accounting.records_read == here.accounting.records_read
    assert there.accounting.rejected == here.accounting.rejected
    assert there.frame.drop(columns=[c for c in there.frame if "file" in c]).equals(
        here.frame.drop(columns=[c for c in here.frame if "file" in c]))
    assert names == [_url("datacapture/" + Path(f).relative_to(CAPTURE).as_posix())
                     for f in here.files]
    assert list(tmp.iterdir()) == []


def test_capture_tree_errors_leave_nothing_behind(aws):
    _, tmp = aws
    with pytest.raises(InputError, match="no such S3 object or prefix"):
        s3.stage_tree(_url("datacapture/no-endpoint"))
    with pytest.raises(InputError, match="no such bucket"):
        s3.stage_tree("s3://no-such-bucket-abkit/datacapture/x")
    assert list(tmp.iterdir()) == []


def test_staged_paths_in_nested_values_are_shown_as_urls(aws):
    with s3.Staging() as staging:
        p = str(staging.local("s3://b/k/x.csv"))
        got = staging.rewrite_all({"a": [f"{p}:3: bad", (p,)], "n": 1, "other": "/x/y.csv"})
        assert got == {"a": ["s3://b/k/x.csv:3: bad", ("s3://b/k/x.csv",)], "n": 1,
                       "other": "/x/y.csv"}
        assert staging.url(p) == "s3://b/k/x.csv" and staging.url("/x/y.csv") is None


def test_an_over_long_line_on_s3_is_named_by_its_url(aws, capsys, monkeypatch):
    """The line guard's rejection example names the object, not its staged copy."""
    import functools

    import boto3

    from abkit.engine import duckdb_engine
    from abkit.io.line_guard import guard_files

    local, tmp = aws
    lines = (local / "logs" / "ab_example.csv").read_text().splitlines()
    body = "\n".join(lines[:30] + ["u9," + "x" * 400] + lines[30:]) + "\n"
    boto3.client("s3", endpoint_url=s3._endpoint(), region_name="us-east-1").put_object(
        Bucket=BUCKET, Key="long/ab.csv.gz", Body=gzip.compress(body.encode()))
    monkeypatch.setattr(duckdb_engine, "guard_files", functools.partial(guard_files,
                                                                        line_cap=300))
    doc = _report(_url("long/ab.csv.gz"), capsys, *AB_SPEC)
    assert doc["data"]["rows_rejected"]["oversized_line"] == 1
    assert doc["data"]["examples"]["oversized_line"].startswith(
        _url("long/ab.csv.gz") + ", line 31: ")
    gc.collect()
    assert list(tmp.iterdir()) == []
