"""ae_core.archives: every kind of bad archive is refused with its own message; good ones read back exactly."""
import io
import stat
import struct
import zipfile

import pytest

from ae_core import archives
from ae_core.archives import ArchiveError, Limits, read_zip

SMALL = Limits(max_bytes=5_000_000, max_total=30_000_000, max_member=25_000_000, max_members=20)


def make_zip(entries, method=zipfile.ZIP_DEFLATED) -> bytes:
    """entries: [(name, bytes)] or [(ZipInfo, bytes)]; written as given (no name checks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, payload in entries:
            zf.writestr(name, payload)
    return buf.getvalue()


def info(name, mode=None):
    zi = zipfile.ZipInfo(name)
    zi.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        zi.create_system = 3
        zi.external_attr = mode << 16
    return zi


def refused(blob, *words, limits=SMALL):
    with pytest.raises(ArchiveError) as e:
        read_zip(blob, limits, "test.zip")
    msg = str(e.value)
    for w in words:
        assert w in msg, msg
    return msg


def test_good_archive_reads_back_exactly():
    blob = make_zip([("cats/1.png", b"one"), ("dogs/", b""), ("dogs/2.png", b"two" * 1000)])
    a = read_zip(blob, SMALL)
    assert [(m.name, m.data) for m in a.members] == [("cats/1.png", b"one"), ("dogs/2.png", b"two" * 1000)]
    assert a.folders == ("dogs",)
    assert a.members[0].parts == ("cats", "1.png")
    assert a.size == len(blob) and len(a.sha256) == 64


def test_path_on_disk_is_read_like_bytes(tmp_path):
    p = tmp_path / "x.zip"
    p.write_bytes(make_zip([("a/b.png", b"x")]))
    assert read_zip(p, SMALL).members[0].data == b"x"


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "a/.."])
def test_traversal_refused(name):
    refused(make_zip([(name, b"x")]), "path traversal")


def test_absolute_drive_backslash_refused():
    refused(make_zip([("/etc/passwd", b"x")]), "absolute path")
    refused(make_zip([("C:/windows/x.png", b"x")]), "drive letter")
    refused(make_zip([("a\\..\\..\\evil.png", b"x")]), "backslash")
    refused(make_zip([("a//b.png", b"x")]), "empty")


def test_nul_in_name_refused():
    blob = make_zip([("aXb.png", b"x")]).replace(b"aXb.png", b"a\x00b.png")
    refused(blob, "NUL")


def test_symlink_and_special_files_refused():
    refused(make_zip([(info("cats/link.png", stat.S_IFLNK | 0o777), b"/etc/passwd")]), "symbolic link")
    refused(make_zip([(info("cats/fifo", stat.S_IFIFO | 0o644), b"")]), "not a regular file")
    # A plain file with a Unix mode is fine.
    assert read_zip(make_zip([(info("a/b.png", stat.S_IFREG | 0o644), b"x")]), SMALL).members


def test_encrypted_refused():
    # zipfile cannot write encrypted members: set the "encrypted" flag bit in both headers.
    blob = bytearray(make_zip([("a/b.png", b"x")]))
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = blob.index(sig)
        struct.pack_into("<H", blob, i + at, struct.unpack_from("<H", blob, i + at)[0] | 0x1)
    refused(bytes(blob), "encrypted")


def test_nested_archive_refused_by_name_and_by_content():
    inner = make_zip([("x.png", b"x")])
    refused(make_zip([("a/inner.zip", inner)]), "nested")
    refused(make_zip([("a/data.tar.gz", b"x")]), "nested")
    refused(make_zip([("a/innocent.png", inner)]), "nested", "first bytes")
    import gzip
    refused(make_zip([("a/b.png", gzip.compress(b"x" * 100))]), "nested")


def test_zip_bomb_ratio_refused():
    bomb = make_zip([("a/zeros.png", bytes(20_000_000))])
    assert len(bomb) < 100_000
    refused(bomb, "ZIP bomb")


def test_total_member_and_count_limits():
    refused(make_zip([("a/x.png", bytes(100))]), "unpacks to more than",
            limits=Limits(max_bytes=10_000, max_total=50, max_member=1000, max_members=5))
    refused(make_zip([("a/x.png", bytes(100))]), "limit per file",
            limits=Limits(max_bytes=10_000, max_total=1000, max_member=50, max_members=5))
    refused(make_zip([(f"a/{i}.png", b"x") for i in range(25)]), "25 entries")
    big = make_zip([("a/x.png", bytes(100))])
    refused(big, "the limit is", limits=Limits(max_bytes=len(big) - 1, max_total=1000, max_member=1000, max_members=5))


def test_overlapping_members_refused():
    blob = bytearray(make_zip([("a/x.png", b"first" * 50), ("a/y.png", b"second" * 50)]))
    # Point y's central-directory entry at x's local header: two entries over one block of data.
    cd = blob.index(b"PK\x01\x02", blob.index(b"PK\x01\x02") + 4)
    struct.pack_into("<I", blob, cd + 42, 0)
    refused(bytes(blob), "overlap")


def test_duplicate_names_refused():
    with pytest.warns(UserWarning):
        blob = make_zip([("a/x.png", b"1"), ("a/x.png", b"2")])
    refused(blob, "twice")


def test_damaged_member_and_not_a_zip():
    blob = bytearray(make_zip([("a/x.png", b"abcdefgh" * 200)]))
    start = 30 + len("a/x.png")
    blob[start + 5] ^= 0xFF
    refused(bytes(blob), "damaged")
    refused(b"this is not a zip at all", "not a readable ZIP")
    refused(b"", "empty")


def test_declared_size_lie_refused():
    blob = bytearray(make_zip([("a/x.png", b"abcdefgh" * 200)], method=zipfile.ZIP_STORED))
    cd = blob.index(b"PK\x01\x02")
    struct.pack_into("<I", blob, cd + 24, 10)  # uncompressed size in the central directory
    refused(bytes(blob))


def test_os_clutter_is_skipped_but_still_checked():
    blob = make_zip([("__MACOSX/a/._x.png", b"meta"), ("a/.DS_Store", b"ds"), ("a/x.png", b"x")])
    a = read_zip(blob, SMALL)
    assert [m.name for m in a.members] == ["a/x.png"]
    assert set(a.skipped) == {"__MACOSX/a/._x.png", "a/.DS_Store"}
    refused(make_zip([("__MACOSX/../../x", b"x")]), "traversal")


def test_write_zip_round_trip_is_deterministic():
    files = {"config.json": b"{}", "model.safetensors": bytes(range(256)) * 10}
    a, b = archives.write_zip(files, "m"), archives.write_zip(files, "m")
    assert a == b
    got = read_zip(a, SMALL)
    assert {m.name: m.data for m in got.members} == {f"m/{k}": v for k, v in files.items()}
    with pytest.raises(ArchiveError):
        archives.write_zip({"../x": b""})
