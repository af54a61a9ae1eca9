"""Bounded, safe reading of uploaded ZIP archives: the one way a dataset ZIP or a model ZIP is opened.

`read_zip(data, limits)` checks the whole archive from its central directory before a byte is
decompressed, then reads each member into memory within the same limits; nothing is ever extracted
to disk under a name taken from the archive. Refused, each with an `ArchiveError` whose message is a
sentence for the user:

* too large: the archive's own size, the total uncompressed size, one member's size, the member
  count, and a compression ratio beyond what real files reach (a ZIP bomb); members whose data
  overlap (the "better zip bomb", many entries over the same compressed bytes);
* unsafe names: absolute paths, drive letters, `..`, backslashes, NUL bytes, empty path parts,
  and the same name twice;
* what is not a plain file: symbolic links and other special files (from the Unix mode in
  `external_attr`), encrypted members, unknown compression methods, archives inside the archive
  (by name and by their first bytes).

Operating-system clutter (`__MACOSX/`, `._*`, `.DS_Store`, `Thumbs.db`, `desktop.ini`) passes the same
checks and is then left out of the members, counted in `Archive.skipped`.
Depends only on the standard library; never imports streamlit.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath


class ArchiveError(ValueError):
    """An archive that is refused; the message says why, as a sentence for the user."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one kind of archive may hold. Sizes in bytes; ratio is uncompressed / compressed per member."""

    max_bytes: int  # the archive file itself
    max_total: int  # all members, uncompressed
    max_member: int  # one member, uncompressed
    max_members: int  # entries, folders included
    max_ratio: float = 100.0
    # Below this uncompressed size a member's ratio is not checked: a small text or an empty image
    # compresses far beyond any bomb's ratio and cannot hurt anyone.
    ratio_floor: int = 1 << 20

    def describe(self) -> str:
        return (f"at most {_mb(self.max_bytes)} as a ZIP, {_mb(self.max_total)} unpacked, "
                f"{self.max_members:,} files")


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


# Real images (PNG, JPEG) hardly compress further and a DEFLATE'd float array compresses a few times;
# a ratio of 100 is past both, yet a bomb's members reach 1,000 (DEFLATE's ceiling is about 1,032).
DATASET_LIMITS = Limits(max_bytes=50_000_000, max_total=200_000_000, max_member=10_000_000, max_members=25_000)
# A model folder is three files; the weights' bound is the store's own (store.MAX_WEIGHT_BYTES).
MODEL_LIMITS = Limits(max_bytes=420_000_000, max_total=420_000_000, max_member=400_000_000, max_members=8)

# Methods zipfile can decompress; anything else would fail later with a less clear message.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
            zipfile.ZIP_LZMA: "lzma"}
ARCHIVE_SUFFIXES = (".zip", ".npz", ".jar", ".whl", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar",
                    ".lz", ".lzma", ".cab", ".iso")
# First bytes of the archive and compressed formats people put in ZIPs (zip, gzip, bzip2, xz, 7z, rar, zstd).
_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07",
          b"\x28\xb5\x2f\xfd")
_DRIVE = re.compile(r"^[A-Za-z]:")
_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclasses.dataclass(frozen=True)
class Member:
    """One regular file of an archive: its checked name (POSIX, relative) and its bytes."""

    name: str
    data: bytes

    @property
    def parts(self) -> tuple[str, ...]:
        return PurePosixPath(self.name).parts


@dataclasses.dataclass(frozen=True)
class Archive:
    """The regular files of a checked archive, in archive order, and what was left out."""

    members: tuple[Member, ...]
    folders: tuple[str, ...]  # folder entries (names without the trailing '/')
    skipped: tuple[str, ...]  # operating-system clutter left out
    size: int  # bytes of the archive itself
    sha256: str  # of the archive itself


def _check_name(raw: str, orig: str, source: str) -> str:
    """The member's name as a safe relative POSIX path (folders without their trailing '/')."""
    shown = orig[:80].replace("\x00", "\\0")
    if "\x00" in orig:
        raise ArchiveError(f"{source}: the member name {shown!r} contains a NUL byte; such archives are refused.")
    if "\\" in raw:
        raise ArchiveError(f"{source}: the member name {shown!r} contains a backslash; ZIP paths use '/', "
                           "and a backslash can be a Windows path separator that escapes the folder.")
    if raw.startswith("/"):
        raise ArchiveError(f"{source}: the member {shown!r} has an absolute path; archives must hold relative paths.")
    if _DRIVE.match(raw):
        raise ArchiveError(f"{source}: the member {shown!r} starts with a drive letter; archives must hold "
                           "relative paths.")
    stripped = raw[:-1] if raw.endswith("/") else raw
    parts = stripped.split("/")
    if any(p == ".." for p in parts):
        raise ArchiveError(f"{source}: the member {shown!r} climbs out of the archive with '..' (path traversal); "
                           "the archive is refused.")
    if not stripped or any(p in ("", ".") for p in parts):
        raise ArchiveError(f"{source}: the member name {shown!r} has an empty or '.' path part.")
    return stripped


def _unix_type(info: zipfile.ZipInfo) -> int | None:
    """The file type bits of a member's Unix mode, when the archive records one."""
    # Zero when the archiver recorded permissions only (Python's zipfile does: 0o600): a plain file.
    kind = stat.S_IFMT(info.external_attr >> 16)
    return kind or None


def _is_junk(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1] in _JUNK_NAMES or parts[-1].startswith("._")


def _read_bytes(data: bytes | bytearray | memoryview | str | os.PathLike, limits: Limits, source: str) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        blob = bytes(data)
    else:
        path = Path(data)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise ArchiveError(f"{source} is not a regular file.")
            if size > limits.max_bytes:
                raise ArchiveError(f"{source} is {_mb(size)}; the limit is {_mb(limits.max_bytes)}.")
            with open(path, "rb") as f:
                blob = f.read(limits.max_bytes + 1)
        except OSError as e:
            raise ArchiveError(f"Cannot read {source} ({e.strerror or e}).") from None
    if not blob:
        raise ArchiveError(f"{source} is empty.")
    if len(blob) > limits.max_bytes:
        raise ArchiveError(f"{source} is {_mb(len(blob))}; the limit is {_mb(limits.max_bytes)}.")
    return blob


def read_zip(data: bytes | str | os.PathLike, limits: Limits, source: str = "The archive") -> Archive:
    """Check a ZIP archive against `limits` and read its regular files into memory.

    data: the archive's bytes, or a path to it. source: how messages name it (e.g. the file name).
    Raises ArchiveError for anything refused (see the module docstring); nothing is written to disk.
    """
    blob = _read_bytes(data, limits, source)
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise ArchiveError(f"{source} is not a readable ZIP archive ({e}).") from None
    except NotImplementedError as e:
        raise ArchiveError(f"{source} uses a ZIP feature that is not supported ({e}).") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveError(f"{source} holds {len(infos):,} entries; the limit is {limits.max_members:,}.")
        if not infos:
            raise ArchiveError(f"{source} is an empty ZIP archive.")
        names: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = _check_name(info.filename, info.orig_filename, source)
            if name in names:
                raise ArchiveError(f"{source} holds {name!r} twice; which one is meant is ambiguous, so it is refused.")
            names[name] = info
            kind = _unix_type(info)
            if kind == stat.S_IFLNK:
                raise ArchiveError(f"{source}: {name!r} is a symbolic link; links could point outside the "
                                   "archive, so archives with links are refused.")
            if kind not in (None, stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(f"{source}: {name!r} is not a regular file or folder (a device, FIFO or "
                                   "socket); the archive is refused.")
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ArchiveError(f"{source}: {name!r} is encrypted; upload an archive without a password.")
            if info.compress_type not in _METHODS:
                raise ArchiveError(f"{source}: {name!r} uses compression method {info.compress_type}; only "
                                   f"{', '.join(_METHODS.values())} are supported.")
            if name.lower().endswith(ARCHIVE_SUFFIXES):
                raise ArchiveError(f"{source}: {name!r} is an archive inside the archive; nested archives are "
                                   "refused: unpack it and put its files in the one ZIP.")
            # Checked first: a bomb is named a bomb, whatever size it claims.
            ratio = info.file_size / max(1, info.compress_size)
            if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
                raise ArchiveError(f"{source}: {name!r} is compressed {ratio:,.0f} to 1, beyond the {limits.max_ratio:g} "
                                   "to 1 real files reach: this looks like a ZIP bomb, so it is refused.")
            if info.file_size > limits.max_member:
                raise ArchiveError(f"{source}: {name!r} unpacks to {_mb(info.file_size)}; the limit per file is "
                                   f"{_mb(limits.max_member)}.")
            total += info.file_size
            if total > limits.max_total:
                raise ArchiveError(f"{source} unpacks to more than {_mb(limits.max_total)}; that is the limit.")
        _check_overlap([i for i in infos if not i.is_dir()], len(blob), source)
        members, skipped, folders = [], [], []
        budget = limits.max_total
        for name, info in names.items():
            if info.is_dir():
                folders.append(name)
                continue
            payload = _read_member(zf, info, name, budget, source)
            budget -= len(payload)
            if payload.startswith(_MAGIC) or payload[257:262] == b"ustar":
                raise ArchiveError(f"{source}: {name!r} is itself an archive (by its first bytes); nested archives "
                                   "are refused: unpack it and put its files in the one ZIP.")
            if _is_junk(name):
                skipped.append(name)
            else:
                members.append(Member(name, payload))
    return Archive(tuple(members), tuple(folders), tuple(skipped), len(blob), hashlib.sha256(blob).hexdigest())


def _check_overlap(infos: list[zipfile.ZipInfo], size: int, source: str) -> None:
    """Refuse members whose compressed data overlap another's: many entries over one block of compressed
    bytes multiply what a small archive unpacks to (Fifield's "better zip bomb")."""
    def name_bytes(i: zipfile.ZipInfo) -> int:
        return len(i.orig_filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437", "replace"))

    # The local header's own extra field is not counted: an underestimate, so never a false alarm.
    spans = sorted((i.header_offset, i.header_offset + 30 + name_bytes(i) + i.compress_size, i.filename)
                   for i in infos)
    for (start, end, name), (nxt, _, other) in zip(spans, spans[1:]):
        if nxt < end:
            raise ArchiveError(f"{source}: the data of {name!r} and {other!r} overlap; this is how some ZIP bombs "
                               "are built, so the archive is refused.")
    if spans and spans[-1][1] > size:
        raise ArchiveError(f"{source} is truncated: {spans[-1][2]!r} runs past its end.")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: int, source: str) -> bytes:
    # zipfile stops at the declared size and checks the CRC at the end; reading one byte past the
    # declared size, within the remaining budget, also catches a decompressor that would go on.
    cap = min(info.file_size, budget)
    try:
        with zf.open(info) as fh:
            payload = fh.read(cap + 1)
            if len(payload) > cap or (len(payload) == cap and fh.read(1)):
                raise ArchiveError(f"{source}: {name!r} unpacks to more than it declares; the archive is refused.")
    except ArchiveError:
        raise
    except RuntimeError as e:  # zipfile raises RuntimeError for an encrypted member it was not told about
        raise ArchiveError(f"{source}: {name!r} cannot be read ({e}).") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise ArchiveError(f"{source}: {name!r} is damaged ({e}).") from None
    except Exception as e:  # lzma.LZMAError and bz2's OSError variants: still a damaged member
        raise ArchiveError(f"{source}: {name!r} is damaged ({type(e).__name__}: {e}).") from None
    if len(payload) != info.file_size:
        raise ArchiveError(f"{source}: {name!r} is shorter than it declares; the archive is damaged.")
    return payload


def write_zip(files: dict[str, bytes], folder: str = "") -> bytes:
    """A DEFLATE'd ZIP of {name: bytes}, under `folder/` when given (what read_zip reads back).
    Entries carry a fixed timestamp and regular-file permissions, so the same files give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in files.items():
            _check_name(name, name, "write_zip")
            info = zipfile.ZipInfo(f"{folder}/{name}" if folder else name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, payload)
    return buf.getvalue()
