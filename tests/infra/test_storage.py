"""The file store contract, run against both stores: a folder, and S3 as moto's server speaks it.

The S3 server is moto in server mode, started once per run on 127.0.0.1 in a child
process, so that the memory measured while a 12 MB file streams through the real boto3
client is the client's alone (moto keeps every object in its own memory). Both stores are
built by ``make_file_store`` from the settings the app will pass; boto3 gets explicit
dummy credentials, an endpoint, and no AWS configuration file or instance-metadata lookup.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import stat
import subprocess
import sys
import tracemalloc
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, cast

import boto3
import pytest

from infra.storage import (
    MAX_KEY_LENGTH,
    FileStore,
    LocalFileStore,
    S3FileStore,
    StoredFile,
    check_key,
    make_file_store,
    new_key,
)
from infra.storage.errors import (
    BadStoreConfig,
    FileTooLarge,
    InvalidContentType,
    InvalidKey,
    NoSuchFile,
    StorageUnavailable,
)

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
SIGNING_KEY = b"test-file-store-signing-key-" + b"k" * 16
BASE_URL = "http://127.0.0.1:8000/api/v1/files"
REGION = "us-east-1"
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes all the same \x00\x01\xfe\xff\xd9"

MOTO = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test run closes our stdin
server.stop()
"""


@pytest.fixture(scope="session", autouse=True)
def no_aws_configuration() -> Iterator[None]:
    """boto3 reads no AWS config file or environment credentials and never asks instance metadata."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                     "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def s3_endpoint(no_aws_configuration: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3, for the whole run, on a free port of 127.0.0.1 (its request log goes to a file)."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("w") as log_file:
        child = subprocess.Popen([sys.executable, "-c", MOTO], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=log_file, text=True)
    assert child.stdout is not None and child.stdin is not None
    port = child.stdout.readline().strip()
    if not port.isdigit():
        child.kill()
        pytest.fail(f"moto's server did not start (exit code {child.wait()}): {log.read_text()[-2000:]}")
    yield f"http://127.0.0.1:{port}"
    child.stdin.close()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def s3_client(endpoint: str) -> Any:
    """A plain boto3 client of moto's S3, for the test to look behind the store's back."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass
class Backend:
    name: str
    store: FileStore
    leftovers: Callable[[], list[str]]  # every file or object the store's space holds, its own included


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each store, empty, as ``make_file_store`` builds it from the settings."""
    if request.param == "local":
        root = tmp_path / "uploads"
        store = make_file_store(None, upload_dir=root, signing_key=SIGNING_KEY, base_url=BASE_URL)
        return Backend("local", store, lambda: sorted(
            str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else [])
    endpoint = request.getfixturevalue("s3_endpoint")
    client = s3_client(endpoint)
    bucket = f"test-{uuid.uuid4().hex}"
    client.create_bucket(Bucket=bucket)
    store = make_file_store(f"s3://{bucket}/uploads", upload_dir=tmp_path, signing_key=SIGNING_KEY,
                            base_url=BASE_URL, s3_endpoint=endpoint, s3_region=REGION,
                            access_key="testing", secret_key="testing")
    return Backend("s3", store, lambda: sorted(
        o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])))


@pytest.fixture
def store(backend: Backend) -> FileStore:
    return backend.store


class BreaksHalfway(io.RawIOBase):
    """A stream that gives ``good`` bytes and then fails, as a dropped upload does."""

    def __init__(self, good: bytes) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self.left:
            raise ConnectionResetError("the client went away")
        chunk, self.left = self.left[:max(size, 1)], self.left[max(size, 1):]
        return chunk


# -- the contract, for both stores ---------------------------------------------------------


def test_bytes_put_in_come_back_byte_for_byte(store: FileStore) -> None:
    stored = store.put("receipts/r1.jpg", PHOTO, content_type="image/jpeg")

    assert stored == StoredFile("receipts/r1.jpg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest(), "image/jpeg")
    assert store.read("receipts/r1.jpg") == PHOTO
    with store.open("receipts/r1.jpg") as stream:
        assert stream.read(4) + stream.read() == PHOTO
    assert store.stat("receipts/r1.jpg") == stored


def test_a_stream_is_read_to_its_end_and_described_by_what_was_written(store: FileStore) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one chunk

    stored = store.put("rewards/banner.png", io.BytesIO(data), content_type="image/png")

    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert store.read("rewards/banner.png") == data


def test_a_12_mb_upload_streams_through_the_store_without_being_held_in_memory(
    store: FileStore, tmp_path: Path
) -> None:
    # given a 12 MB file on disk
    size, chunk = 12 * 1024 * 1024, os.urandom(1024 * 1024)
    source = tmp_path / "big.jpg"
    with source.open("wb") as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
    expected = hashlib.sha256(chunk * (size // len(chunk))).hexdigest()
    store.exists("receipts/warm-up")  # builds the S3 client (and loads its service model) before measuring

    # when it is stored, then read back in chunks, with every Python allocation traced
    tracemalloc.start()
    try:
        with source.open("rb") as f:
            stored = store.put("receipts/big.jpg", f, content_type="image/jpeg", max_bytes=size)
        put_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        digest, read = hashlib.sha256(), 0
        with store.open("receipts/big.jpg") as stream:
            while block := stream.read(256 * 1024):
                digest.update(block)
                read += len(block)
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # then the bytes are all there, and neither way held the file (let alone twice)
    assert (stored.size, stored.sha256) == (size, expected)
    assert (read, digest.hexdigest()) == (size, expected)
    print(f"{store!r}: put peak {put_peak / 2**20:.2f} MiB, read peak {read_peak / 2**20:.2f} MiB")
    assert put_peak < size / 4, f"put held {put_peak} bytes of a {size}-byte file"
    assert read_peak < size / 4, f"reading held {read_peak} bytes of a {size}-byte file"


@pytest.mark.parametrize("as_stream", [False, True], ids=["bytes", "stream"])
def test_more_than_max_bytes_is_refused_and_nothing_is_left_behind(backend: Backend, as_stream: bool) -> None:
    data = b"x" * 1001

    with pytest.raises(FileTooLarge) as refused:
        backend.store.put("receipts/big.jpg", io.BytesIO(data) if as_stream else data,
                          content_type="image/jpeg", max_bytes=1000)

    assert (refused.value.max_bytes, refused.value.reason) == (1000, "too_large")
    assert not backend.store.exists("receipts/big.jpg")
    assert backend.leftovers() == []


def test_exactly_max_bytes_is_accepted(store: FileStore) -> None:
    stored = store.put("receipts/r.jpg", io.BytesIO(b"x" * 1000), content_type="image/jpeg", max_bytes=1000)

    assert stored.size == 1000


def test_a_refused_upload_leaves_the_file_already_under_its_key_alone(backend: Backend) -> None:
    first = backend.store.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")
    before = backend.leftovers()

    with pytest.raises(FileTooLarge):
        backend.store.put("receipts/r.jpg", io.BytesIO(b"y" * 101), content_type="image/png", max_bytes=100)

    assert backend.store.read("receipts/r.jpg") == PHOTO
    assert backend.store.stat("receipts/r.jpg") == first
    assert backend.leftovers() == before


def test_an_upload_that_breaks_halfway_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(ConnectionResetError):
        backend.store.put("receipts/r.jpg", cast(BinaryIO, BreaksHalfway(b"z" * 3_000_000)), content_type="image/jpeg")

    assert not backend.store.exists("receipts/r.jpg")
    assert backend.leftovers() == []


def test_putting_again_replaces_the_file(store: FileStore) -> None:
    store.put("rewards/r.png", PHOTO, content_type="image/jpeg")

    second = store.put("rewards/r.png", b"another image", content_type="image/png")

    assert store.read("rewards/r.png") == b"another image"
    assert store.stat("rewards/r.png") == second


def test_the_content_type_is_kept_lowercased(store: FileStore) -> None:
    store.put("receipts/r.heic", PHOTO, content_type="Image/HEIC")

    assert store.stat("receipts/r.heic").content_type == "image/heic"


@pytest.mark.parametrize("content_type", [
    "", "image", "image/", "/jpeg", "image/jpeg\r\nX-Evil: 1", "image/jpeg; charset=utf-8", "image /jpeg",
    "image/jpég", None,
])
def test_a_malformed_content_type_is_refused_and_nothing_is_stored(backend: Backend, content_type: Any) -> None:
    with pytest.raises(InvalidContentType) as refused:
        backend.store.put("receipts/r.jpg", PHOTO, content_type=content_type)

    assert refused.value.field == "content_type"
    assert backend.leftovers() == []


def test_exists_tells_a_stored_file_from_an_absent_one(store: FileStore) -> None:
    store.put("receipts/here.jpg", PHOTO, content_type="image/jpeg")

    assert store.exists("receipts/here.jpg")
    assert not store.exists("receipts/absent.jpg")
    assert not store.exists("receipts")  # a folder of keys is not a file


def test_deleting_twice_is_not_an_error_and_leaves_nothing(backend: Backend) -> None:
    backend.store.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")

    backend.store.delete("receipts/r.jpg")
    backend.store.delete("receipts/r.jpg")
    backend.store.delete("receipts/never-there.jpg")

    assert not backend.store.exists("receipts/r.jpg")
    assert backend.leftovers() == []


@pytest.mark.parametrize("read", ["read", "open", "stat"])
def test_reading_an_absent_file_raises_no_such_file(store: FileStore, read: str) -> None:
    with pytest.raises(NoSuchFile) as missing:
        getattr(store, read)("receipts/absent.jpg")

    assert (missing.value.key, missing.value.reason) == ("receipts/absent.jpg", "not_found")


BAD_KEYS = [
    ("", "empty"),
    ("../etc/passwd", "parent_segment"),
    ("receipts/../../etc/passwd", "parent_segment"),
    ("receipts/..", "parent_segment"),
    ("/etc/passwd", "absolute"),
    ("receipts/a\x00.jpg", "nul"),
    ("receipts\\a.jpg", "backslash"),
    ("..\\..\\windows", "backslash"),
    ("r/" + "a" * (MAX_KEY_LENGTH - 1), "too_long"),
    ("receipts//a.jpg", "empty_segment"),
    ("receipts/", "empty_segment"),
    ("receipts/./a.jpg", "dot_segment"),
    ("receipts/.a.jpg.meta", "dot_segment"),
    ("Receipts/a.jpg", "bad_character"),
    ("receipts/a b.jpg", "bad_character"),
    ("receipts/a.jpg?sig=x", "bad_character"),
    ("receipts/a%2f.jpg", "bad_character"),
    ("c:/receipts", "bad_character"),
    ("receipts/ä.jpg", "bad_character"),
    ("receipts/a.jpg\n", "bad_character"),
]


@pytest.mark.parametrize(("key", "reason"), BAD_KEYS)
def test_a_bad_key_is_refused_with_its_reason(backend: Backend, key: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as refused:
        backend.store.put(key, PHOTO, content_type="image/jpeg")

    assert (refused.value.reason, refused.value.key, refused.value.field) == (reason, key, "key")
    assert backend.leftovers() == []


@pytest.mark.parametrize("call", [
    lambda s: s.put("../x", b"", content_type="image/jpeg"),
    lambda s: s.open("../x"),
    lambda s: s.read("../x"),
    lambda s: s.stat("../x"),
    lambda s: s.exists("../x"),
    lambda s: s.delete("../x"),
    lambda s: s.signed_url("../x", expires_in=60, now=NOW),
], ids=["put", "open", "read", "stat", "exists", "delete", "signed_url"])
def test_every_method_checks_the_key(store: FileStore, call: Callable[[FileStore], Any]) -> None:
    with pytest.raises(InvalidKey):
        call(store)


@pytest.mark.parametrize(("expires_in", "now"), [
    (0, NOW), (-1, NOW), (7 * 24 * 3600 + 1, NOW), (60, NOW.replace(tzinfo=None)),
])
def test_a_signed_url_needs_a_lifetime_of_a_second_to_a_week_and_an_aware_time(
    store: FileStore, expires_in: int, now: dt.datetime
) -> None:
    with pytest.raises(ValueError):
        store.signed_url("receipts/r.jpg", expires_in=expires_in, now=now)


# -- keys -----------------------------------------------------------------------------------


def test_a_fresh_key_is_unguessable_under_its_prefix_and_ends_in_its_suffix() -> None:
    keys = {new_key("receipts", suffix=".JPG") for _ in range(100)}

    assert len(keys) == 100
    for key in keys:
        assert check_key(key) == key
        prefix, name = key.split("/")
        assert prefix == "receipts" and name.endswith(".jpg") and len(name) == 32 + 4
        int(name[:32], 16)  # 128 random bits, in hex


def test_a_fresh_key_may_have_no_suffix_and_a_nested_prefix() -> None:
    assert len(new_key("rewards/images").rsplit("/", 1)[1]) == 32


@pytest.mark.parametrize(("prefix", "suffix", "reason"), [
    ("", ".jpg", "empty"),
    ("../receipts", ".jpg", "parent_segment"),
    ("receipts", "jpg", "bad_suffix"),
    ("receipts", ".jp/g", "bad_suffix"),
    ("receipts", ".jpegjpegjpeg", "bad_suffix"),
    ("r" * MAX_KEY_LENGTH, ".jpg", "too_long"),
])
def test_a_fresh_key_refuses_a_bad_prefix_or_suffix(prefix: str, suffix: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as refused:
        new_key(prefix, suffix=suffix)

    assert refused.value.reason == reason


# -- the local store ------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "uploads", signing_key=SIGNING_KEY, base_url=BASE_URL + "/")


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, strict_parsing=True))


def test_local_files_are_readable_by_the_owner_only(local: LocalFileStore) -> None:
    old = os.umask(0o022)
    try:
        local.put("receipts/2026/r.jpg", PHOTO, content_type="image/jpeg")
    finally:
        os.umask(old)

    modes = {str(p.relative_to(local.root)): stat.S_IMODE(p.stat().st_mode) for p in local.root.rglob("*")}
    assert stat.S_IMODE(local.root.stat().st_mode) == 0o700
    assert modes == {"receipts": 0o700, "receipts/2026": 0o700, "receipts/2026/r.jpg": 0o600,
                     "receipts/2026/.r.jpg.meta": 0o600}


def test_a_local_file_is_the_plain_bytes_under_its_key(local: LocalFileStore) -> None:
    local.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")

    assert (local.root / "receipts" / "r.jpg").read_bytes() == PHOTO


def test_a_local_file_without_its_sidecar_is_still_described_by_its_bytes(local: LocalFileStore) -> None:
    local.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")
    (local.root / "receipts" / ".r.jpg.meta").unlink()

    assert local.stat("receipts/r.jpg") == StoredFile(
        "receipts/r.jpg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest(), "application/octet-stream")


def test_a_key_that_would_need_a_file_to_be_a_folder_is_refused(local: LocalFileStore) -> None:
    local.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")

    with pytest.raises(InvalidKey) as refused:
        local.put("receipts/r.jpg/other.jpg", PHOTO, content_type="image/jpeg")
    with pytest.raises(InvalidKey):
        local.put("receipts", PHOTO, content_type="image/jpeg")

    assert refused.value.reason == "conflict"
    assert local.read("receipts/r.jpg") == PHOTO


def test_a_local_signed_url_names_the_key_its_expiry_and_a_signature(local: LocalFileStore) -> None:
    url = local.signed_url("receipts/r.jpg", expires_in=300, now=NOW)

    assert url.startswith(BASE_URL + "/receipts/r.jpg?expires=")
    query = query_of(url)
    assert query["expires"] == str(int(NOW.timestamp()) + 300)
    assert len(query["sig"]) == 64


def test_a_local_signed_url_checks_until_it_expires(local: LocalFileStore) -> None:
    query = query_of(local.signed_url("receipts/r.jpg", expires_in=300, now=NOW))
    expires, sig = query["expires"], query["sig"]

    assert local.verify_signed("receipts/r.jpg", expires, sig, NOW)
    assert local.verify_signed("receipts/r.jpg", int(expires), sig, NOW + dt.timedelta(seconds=299))
    assert not local.verify_signed("receipts/r.jpg", expires, sig, NOW + dt.timedelta(seconds=300))
    assert not local.verify_signed("receipts/r.jpg", expires, sig, NOW + dt.timedelta(days=1))


@pytest.mark.parametrize("change", [
    lambda key, expires, sig: ("receipts/r2.jpg", expires, sig),
    lambda key, expires, sig: ("../receipts/r.jpg", expires, sig),
    lambda key, expires, sig: (key, str(int(expires) + 3600), sig),
    lambda key, expires, sig: (key, " " + expires, sig),
    lambda key, expires, sig: (key, "1e12", sig),
    lambda key, expires, sig: (key, "9" * 40, sig),
    lambda key, expires, sig: (key, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1")),
    lambda key, expires, sig: (key, expires, sig.upper()),
    lambda key, expires, sig: (key, expires, sig[:32]),
    lambda key, expires, sig: (key, expires, ""),
    lambda key, expires, sig: (key, expires, "é" * 64),
], ids=["other key", "bad key", "later expiry", "padded expiry", "float expiry", "huge expiry",
        "one digit changed", "uppercased", "truncated", "empty", "not ascii"])
def test_a_local_signed_url_with_anything_changed_does_not_check(
    local: LocalFileStore, change: Callable[[str, str, str], tuple[str, str, str]]
) -> None:
    query = query_of(local.signed_url("receipts/r.jpg", expires_in=300, now=NOW))

    assert not local.verify_signed(*change("receipts/r.jpg", query["expires"], query["sig"]), NOW)


def test_a_url_signed_with_another_key_does_not_check(local: LocalFileStore, tmp_path: Path) -> None:
    other = LocalFileStore(tmp_path, signing_key=b"another-signing-key-" + b"o" * 16, base_url=BASE_URL)
    query = query_of(other.signed_url("receipts/r.jpg", expires_in=300, now=NOW))

    assert not local.verify_signed("receipts/r.jpg", query["expires"], query["sig"], NOW)


def test_a_short_signing_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadStoreConfig):
        LocalFileStore(tmp_path, signing_key=b"short", base_url=BASE_URL)


def test_the_local_store_creates_nothing_until_the_first_upload(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "uploads", signing_key=SIGNING_KEY, base_url=BASE_URL)

    assert not store.exists("receipts/r.jpg")
    store.delete("receipts/r.jpg")

    assert not (tmp_path / "uploads").exists()


# -- the S3 store ---------------------------------------------------------------------------


def test_a_presigned_url_serves_the_bytes_with_their_content_type(s3_endpoint: str, bucket: str) -> None:
    store = s3_store(s3_endpoint, bucket, prefix="uploads")
    store.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")

    url = store.signed_url("receipts/r.jpg", expires_in=300, now=NOW)

    assert url.startswith(f"{s3_endpoint}/{bucket}/uploads/receipts/r.jpg?")
    assert query_of(url)["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query_of(url)["X-Amz-Expires"] == "300"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == PHOTO
        assert response.headers["Content-Type"] == "image/jpeg"


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"test-{uuid.uuid4().hex}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_store(endpoint: str, bucket: str, **options: Any) -> S3FileStore:
    return S3FileStore(bucket, endpoint_url=endpoint, region=REGION, access_key="testing", secret_key="testing",
                       **options)


def test_an_s3_object_lands_under_the_prefix_with_its_type_and_checksum(s3_endpoint: str, bucket: str) -> None:
    store = s3_store(s3_endpoint, bucket, prefix="/uploads/")

    store.put("receipts/r.jpg", io.BytesIO(PHOTO), content_type="image/jpeg")

    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key="uploads/receipts/r.jpg", ChecksumMode="ENABLED")
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == len(PHOTO)
    assert head["Metadata"] == {"sha256": hashlib.sha256(PHOTO).hexdigest()}
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(PHOTO).digest()).decode()


def test_an_s3_object_written_by_someone_else_is_described_by_its_bytes(s3_endpoint: str, bucket: str) -> None:
    s3_client(s3_endpoint).put_object(Bucket=bucket, Key="receipts/r.jpg", Body=PHOTO, ContentType="image/jpeg")

    assert s3_store(s3_endpoint, bucket).stat("receipts/r.jpg") == StoredFile(
        "receipts/r.jpg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest(), "image/jpeg")


def test_a_missing_bucket_is_unavailable_storage_not_a_missing_file(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, f"absent-{uuid.uuid4().hex}")

    with pytest.raises(StorageUnavailable) as put:
        store.put("receipts/r.jpg", PHOTO, content_type="image/jpeg")
    with pytest.raises(StorageUnavailable):
        store.read("receipts/r.jpg")

    assert "NoSuchBucket" in put.value.message and "testing" not in put.value.message


def test_the_s3_store_builds_its_client_on_first_use_and_keeps_it(s3_endpoint: str, bucket: str) -> None:
    store = s3_store(s3_endpoint, bucket)
    assert store._client is None

    store.exists("receipts/r.jpg")

    assert store.client is store.client and store.client.meta.endpoint_url == s3_endpoint


def test_an_s3_store_uses_the_client_it_is_given(s3_endpoint: str, bucket: str) -> None:
    client = s3_client(s3_endpoint)

    S3FileStore(bucket, client=client).put("receipts/r.jpg", PHOTO, content_type="image/jpeg")

    assert client.get_object(Bucket=bucket, Key="receipts/r.jpg")["Body"].read() == PHOTO


# -- choosing the store ---------------------------------------------------------------------


def test_no_file_store_url_means_a_folder_under_the_upload_dir(tmp_path: Path) -> None:
    for url in (None, ""):
        store = make_file_store(url, upload_dir=tmp_path / "up", signing_key=SIGNING_KEY, base_url=BASE_URL)
        assert isinstance(store, LocalFileStore) and store.root == tmp_path / "up"


def test_an_s3_url_names_the_bucket_and_prefix(tmp_path: Path) -> None:
    store = make_file_store("s3://pw-uploads/prod/files/", upload_dir=tmp_path, signing_key=SIGNING_KEY,
                            base_url=BASE_URL, s3_endpoint="http://127.0.0.1:9", s3_region="me-central-1")

    assert isinstance(store, S3FileStore)
    assert (store.bucket, store.prefix, store.endpoint_url, store.region) == (
        "pw-uploads", "prod/files/", "http://127.0.0.1:9", "me-central-1")


@pytest.mark.parametrize("url", [
    "ftp://bucket/x", "/var/uploads", "s3://", "s3:///prefix", "s3://Bucket", "s3://my_bucket",
    "s3://ab", "s3://user:secret@bucket", "s3://bucket:9000", "s3://bucket?region=x", "s3://bucket/../x",
    "s3://bucket/UP",
])
def test_a_bad_file_store_url_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(BadStoreConfig) as refused:
        make_file_store(url, upload_dir=tmp_path, signing_key=SIGNING_KEY, base_url=BASE_URL)

    assert "secret" not in refused.value.message
