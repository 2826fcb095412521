"""``s3://`` inputs: list objects with pyarrow's S3 filesystem and stage them locally.

Objects are streamed (in 4 MiB chunks, so memory stays bounded) into a private temporary
folder laid out as ``<folder>/<bucket>/<key>``; the normal readers then read the copies, so
rows are accounted and rejected exactly as for local files (DuckDB's CSV reject counting,
gzip, JSON Lines, Data Capture discovery all run unchanged). The price is local disk the
size of the objects read, removed when the staging is cleaned up (explicitly, when it is
garbage-collected, or at exit). Because the layout keeps bucket and key, every staged path
maps back to its URL (:meth:`Staging.url`, :func:`url_errors`).

Connection settings come from the standard AWS environment: ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL`` (an S3-compatible endpoint such as MinIO or moto), ``AWS_REGION`` /
``AWS_DEFAULT_REGION``, and credentials from the AWS SDK's usual chain (environment,
``~/.aws``, web identity, container or instance role). With no credentials anywhere,
requests are anonymous (public buckets). abkit never reads, logs or shows a credential;
errors name the URL and the fix.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..errors import AbkitError, InputError

__all__ = ["S3Url", "Staging", "expand", "is_s3_url", "stage_tree", "staged_tree",
           "url_errors"]

_S3 = re.compile(r"^s3://", re.IGNORECASE)
_MAGIC = re.compile(r"[*?[]")
_CHUNK = 4 << 20
_WORKERS = 8
_CRED_ENV = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
             "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
             "AWS_CONTAINER_CREDENTIALS_FULL_URI")
_CRED_HINT = ("set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
              "~/.aws/credentials), for an identity allowed s3:ListBucket and s3:GetObject")
_live: "weakref.WeakSet[Staging]" = weakref.WeakSet()


def is_s3_url(s: object) -> bool:
    """Whether ``s`` is an ``s3://`` URL."""
    return isinstance(s, (str, Path)) and bool(_S3.match(str(s)))


@dataclass(frozen=True)
class S3Url:
    """A bucket and a key (``""`` for the bucket's root; may hold glob characters)."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, url: str) -> "S3Url":
        rest = _S3.sub("", str(url), count=1)
        bucket, _, key = rest.partition("/")
        if not bucket or _MAGIC.search(bucket):
            raise InputError(f"{url}: not an S3 URL with a bucket name",
                             "write s3://bucket/key, s3://bucket/prefix/ or "
                             "s3://bucket/prefix/*.parquet")
        return cls(bucket, key)

    @property
    def path(self) -> str:
        """The pyarrow path ``bucket/key``."""
        return f"{self.bucket}/{self.key}".rstrip("/")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


# ------------------------------------------------------------------ connection settings
def _endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _shown_endpoint() -> str:
    ep = _endpoint()
    return re.sub(r"//[^/@]*@", "//", ep) if ep else "AWS S3"  # never a user:password


def _has_credentials() -> bool:
    """Whether the AWS SDK's chain could find credentials (checked without reading them)."""
    if any(os.environ.get(k) for k in _CRED_ENV):
        return True
    home = Path(os.path.expanduser("~"))
    for var, default in (("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials"),
                         ("AWS_CONFIG_FILE", home / ".aws" / "config")):
        if Path(os.environ.get(var) or default).is_file():
            return True
    # an instance role: only on EC2, and only when the metadata service may be asked
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return False
    for probe, mark in (("/sys/hypervisor/uuid", "ec2"),
                        ("/sys/class/dmi/id/board_vendor", "amazon")):
        with contextlib.suppress(OSError):
            if Path(probe).read_text().strip().lower().startswith(mark):
                return True
    return False


def _filesystem(bucket: str):
    """A pyarrow S3 filesystem from the environment (anonymous without credentials)."""
    from pyarrow import fs

    kwargs: dict = {"connect_timeout": 10, "request_timeout": 60,
                    "retry_strategy": fs.AwsStandardS3RetryStrategy(max_attempts=3)}
    ep = _endpoint()
    if ep:
        scheme, sep, host = ep.partition("://")
        kwargs["endpoint_override"] = host.rstrip("/") if sep else ep
        kwargs["scheme"] = scheme.lower() if sep else "https"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region and not ep:
        with contextlib.suppress(Exception):  # the bucket's own region, when AWS says it
            region = fs.resolve_s3_region(bucket)
    if region:
        kwargs["region"] = region
    if not _has_credentials():
        kwargs["anonymous"] = True
    try:
        return fs.S3FileSystem(**kwargs)
    except Exception as e:  # e.g. a malformed endpoint
        raise InputError(f"s3://{bucket}: cannot set up the S3 connection to "
                         f"{_shown_endpoint()} ({type(e).__name__})",
                         "check AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 and AWS_REGION") from None


def _explain(e: BaseException, url: object) -> InputError:
    """One InputError naming ``url`` and the fix for a failed S3 request."""
    text = str(e)
    code = (re.search(r"AWS Error ([A-Z_]+)", text) or re.search(r"(HTTP status \d+)", text))
    what = code.group(1) if code else type(e).__name__
    bucket = S3Url.parse(str(url)).bucket
    if "NO_SUCH_BUCKET" in text:
        return InputError(f"{url}: no such bucket {bucket!r} at {_shown_endpoint()}",
                          "check the bucket name (and AWS_ENDPOINT_URL if it lives "
                          "elsewhere than AWS)")
    if re.search(r"ACCESS_DENIED|INVALID_ACCESS_KEY|SIGNATURE|EXPIRED_TOKEN|HTTP status 40[13]"
                 r"|MISSING_AUTHENTICATION|UNRECOGNIZED_CLIENT|InvalidAccessKeyId", text):
        anon = "" if _has_credentials() else (" (no AWS credentials were found, so the "
                                              "request was anonymous)")
        return InputError(f"{url}: access denied ({what}){anon}", _CRED_HINT)
    if re.search(r"NETWORK_CONNECTION|curlCode|resolve host|Timeout|timed out", text,
                 re.IGNORECASE):
        return InputError(f"{url}: cannot reach the S3 endpoint {_shown_endpoint()}",
                          "check the network, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 and "
                          "AWS_REGION")
    if isinstance(e, FileNotFoundError) or "NO_SUCH_KEY" in text:
        return _not_found(url)
    return InputError(f"{url}: the S3 request failed ({what})",
                      "check the URL, AWS_ENDPOINT_URL, AWS_REGION and the credentials")


def _not_found(url: object) -> InputError:
    return InputError(f"no such S3 object or prefix: {url}",
                      "check the key (`aws s3 ls` the prefix above it)")


# ------------------------------------------------------------------------------ listing
def _objects(filesystem, loc: S3Url, url: object) -> list[str]:
    """Keys of the objects below ``loc`` (a prefix), sorted; folder markers left out."""
    from pyarrow import fs

    try:
        infos = filesystem.get_file_info(fs.FileSelector(loc.path, recursive=True,
                                                         allow_not_found=True))
    except Exception as e:
        raise _explain(e, url) from None
    n = len(loc.bucket) + 1
    return sorted(i.path[n:] for i in infos if i.type == fs.FileType.File)


def _info(filesystem, loc: S3Url, url: object):
    try:
        return filesystem.get_file_info(loc.path)
    except Exception as e:
        raise _explain(e, url) from None


def _require_bucket(filesystem, loc: S3Url, url: object) -> None:
    """Raise the no-such-bucket error when the bucket itself is missing (pyarrow reports a
    missing key in a missing bucket as merely not found)."""
    from pyarrow import fs

    if _info(filesystem, S3Url(loc.bucket, ""), url).type == fs.FileType.NotFound:
        raise _explain(OSError("NO_SUCH_BUCKET"), url)


def expand(url: str, *, match: Callable[[list[str], list[str]], bool],
           is_log: Callable[[str], bool]) -> list[str]:
    """The object URLs ``url`` names: one object, every log object below a prefix (a
    folder), or the objects a glob matches (``*``, ``?``, ``[...]`` within one level,
    ``**`` across levels; ``match(parts, pattern)`` decides, as for local globs).

    Raises :class:`InputError` (naming ``url``) when nothing matches or S3 refuses.
    """
    from pyarrow import fs

    loc = S3Url.parse(url)
    filesystem = _filesystem(loc.bucket)
    parts = loc.key.split("/")
    magic = next((i for i, p in enumerate(parts) if _MAGIC.search(p)), None)
    if magic is not None:
        base = S3Url(loc.bucket, "/".join(parts[:magic]))
        pattern = parts[magic:]
        skip = len(base.key) + 1 if base.key else 0
        keys = [k for k in _objects(filesystem, base, url)
                if match(k[skip:].split("/"), pattern)]
        if not keys:
            _require_bucket(filesystem, loc, url)
            raise InputError(f"no S3 objects match {url!r}",
                             "check the pattern (and quote it in a shell)")
        keys = [k for k in keys if is_log(k)] or keys
        return [f"s3://{loc.bucket}/{k}" for k in keys]
    info = _info(filesystem, loc, url) if loc.key else None
    if info is not None and info.type == fs.FileType.File and not loc.key.endswith("/"):
        return [f"s3://{loc.bucket}/{loc.key}"]
    keys = _objects(filesystem, loc, url)
    if not keys:
        _require_bucket(filesystem, loc, url)
        raise _not_found(url)
    logs = [k for k in keys if is_log(k)]
    if not logs:
        raise InputError(f"S3 prefix {url} holds no log files ({len(keys)} other objects, "
                         f"e.g. s3://{loc.bucket}/{keys[0]})",
                         "abkit reads csv, tsv, parquet and jsonl files (optionally .gz)")
    return [f"s3://{loc.bucket}/{k}" for k in logs]


# ------------------------------------------------------------------------------ staging
def _remove(root: str) -> None:
    shutil.rmtree(root, ignore_errors=True)


class Staging:
    """A private temporary folder holding local copies of S3 objects as
    ``<root>/<bucket>/<key>``.

    Remove it with :meth:`cleanup` (or use it as a context manager); it is also removed when
    the object is garbage-collected, and at interpreter exit.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="abkit-s3-")).resolve()
        os.chmod(self.root, 0o700)
        self._finalizer = weakref.finalize(self, _remove, str(self.root))
        _live.add(self)

    def __enter__(self) -> "Staging":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the folder and every copy in it."""
        self._finalizer()

    def local(self, url: str) -> Path:
        """Where the object ``url`` is (or will be) copied."""
        loc = S3Url.parse(url)
        parts = loc.key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise InputError(f"{url}: abkit cannot copy an S3 key with an empty, '.' or "
                             "'..' path segment", "rename the object")
        return self.root.joinpath(loc.bucket, *parts)

    def url(self, path: str | Path) -> str | None:
        """The ``s3://`` URL of a staged copy, or None for another path."""
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return None
        return "s3://" + rel.as_posix()

    def rewrite(self, text: str) -> str:
        """``text`` with every staged path shown as its URL."""
        return text.replace(f"{self.root}{os.sep}", "s3://")

    def rewrite_all(self, value):
        """:meth:`rewrite` applied to every string in ``value`` (nested dicts, lists and
        tuples are rebuilt; other values are returned as they are)."""
        if isinstance(value, str):
            return self.rewrite(value)
        if isinstance(value, dict):
            return {k: self.rewrite_all(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.rewrite_all(v) for v in value)
        return value

    def fetch(self, urls: Sequence[str]) -> list[Path]:
        """Copy the objects ``urls`` (several at a time, each streamed in chunks); their
        local paths, in order. An object already copied is not fetched again."""
        todo = {u: self.local(u) for u in dict.fromkeys(urls)}
        pending = [(u, p) for u, p in todo.items() if not p.exists()]
        if pending:
            filesystem = _filesystem(S3Url.parse(pending[0][0]).bucket)
            with ThreadPoolExecutor(min(_WORKERS, len(pending))) as pool:
                for _ in pool.map(lambda up: self._copy(filesystem, *up), pending):
                    pass
        return [todo[u] for u in urls]

    def _copy(self, filesystem, url: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        try:
            with filesystem.open_input_stream(S3Url.parse(url).path, compression=None) as src, \
                    open(part, "wb") as out:
                while True:
                    chunk = src.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
        except AbkitError:
            raise
        except OSError as e:
            part.unlink(missing_ok=True)
            if isinstance(e, (FileNotFoundError, PermissionError)) or "AWS Error" in str(e) \
                    or "curlCode" in str(e):
                raise _explain(e, url) from None
            raise InputError(f"{url}: cannot copy it to a temporary folder "
                             f"({e.strerror or type(e).__name__})",
                             "free disk space in the temporary folder (TMPDIR)") from None
        part.replace(dest)


def stage_tree(url: str, *, is_data: Callable[[str], bool] | None = None
               ) -> tuple[Path, Staging]:
    """A local copy of the S3 tree ``url`` (a Data Capture prefix such as
    ``s3://bucket/datacapture/endpoint``, or one object), laid out as in the bucket, so
    that local discovery runs unchanged on it: ``(local root, staging)``.

    The caller owns the staging (:meth:`Staging.cleanup`; it is also removed when dropped).
    ``is_data(key)`` picks the objects to copy (default: all). On error nothing is left
    behind and the message names URLs, not temporary paths.
    """
    from pyarrow import fs

    loc = S3Url.parse(url)
    if _MAGIC.search(loc.key):
        raise InputError(f"{url}: give the capture prefix, not a pattern",
                         "e.g. s3://bucket/datacapture/churn-endpoint")
    staging = Staging()
    try:
        with url_errors():
            filesystem = _filesystem(loc.bucket)
            info = _info(filesystem, loc, url) if loc.key else None
            if info is not None and info.type == fs.FileType.File:
                keys = [loc.key]
            else:
                keys = [k for k in _objects(filesystem, loc, url)
                        if is_data is None or is_data(k)]
                if not keys:
                    _require_bucket(filesystem, loc, url)
                    raise _not_found(url)
            staging.fetch([f"s3://{loc.bucket}/{k}" for k in keys])
            key = loc.key.rstrip("/")
            root = staging.local(f"s3://{loc.bucket}/{key}") if key else \
                staging.root / loc.bucket
    except BaseException:
        staging.cleanup()
        raise
    return root, staging


@contextlib.contextmanager
def staged_tree(url: str, *, is_data: Callable[[str], bool] | None = None
                ) -> Iterator[tuple[Path, Staging]]:
    """:func:`stage_tree` as a context manager: the copy is removed on leaving (also on
    error), and errors raised inside show URLs in place of the copies' paths."""
    root, staging = stage_tree(url, is_data=is_data)
    with staging, url_errors():
        yield root, staging


@contextlib.contextmanager
def url_errors() -> Iterator[None]:
    """Show the ``s3://`` URL in place of every staged path in the message and hint of an
    :class:`~abkit.errors.AbkitError` raised inside (usable as a decorator too)."""
    try:
        yield
    except AbkitError as e:
        for staging in list(_live):
            e.message = staging.rewrite(e.message)
            if e.hint:
                e.hint = staging.rewrite(e.hint)
        e.args = (e.message,)
        raise
