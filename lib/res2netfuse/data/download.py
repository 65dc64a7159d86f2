"""Downloads through pooch: each upstream file once into the cache, checked against its pinned SHA-256.

The cache is ``downloads/`` in :func:`res2netfuse.datasets.cache_folder`, laid out like the upstream host
(``OWNER/REPO/COMMIT/PATH``). pooch streams every download to a temporary file beside its place, checks
its SHA-256 (``known_hash``) and only then renames it, retrying :data:`RETRIES` times; a cached file whose
hash no longer matches (corrupted on disk) is downloaded again. A zip (RFN-Nest's outputs) is cached once
and its members read from it.
"""

from __future__ import annotations

import logging
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pooch
import requests

from ..datasets import CACHE_ENV, DATA_ENV, cache_folder
from .registry import MIRROR_ENV, UPSTREAM, DataError, Entry, download_url

RETRIES = 2  # further attempts after a failed download (pooch waits 1 s, then 2 s)
TIMEOUT_S = 30.0  # seconds without an answer before a download attempt fails
NO_NETWORK_HINT = (f"set {DATA_ENV} to a copy of the data (a folder laid out like data/), or {MIRROR_ENV} to a "
                   f"mirror of {UPSTREAM}")


def _reason(exc: requests.RequestException) -> str:
    """A short reason for a failed request (requests' own messages span lines of urllib3 detail)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {TIMEOUT_S:.0f} s"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    return type(exc).__name__


class Downloads:
    """The download cache for ``entries``: :meth:`upstream_bytes` gives an entry's upstream bytes, downloaded
    when they are not cached (or the cached copy is corrupt)."""

    def __init__(self, entries: list[Entry], folder: Path | None = None,
                 note: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> None:
        self.folder = folder if folder is not None else cache_folder() / "downloads"
        self.note = note
        self.downloaded_bytes = 0
        pooch.get_logger().setLevel(logging.WARNING)  # one line per file otherwise; we report ourselves
        self._pooch = pooch.create(path=self.folder, base_url="", retry_if_failed=RETRIES,
                                   registry={e.upstream_path: f"sha256:{e.sha256}" for e in entries},
                                   urls={e.upstream_path: download_url(e) for e in entries})

    def cached(self, entry: Entry) -> Path:
        """Where ``entry``'s upstream file lies in the cache."""
        return self.folder / entry.upstream_path

    def upstream_bytes(self, entry: Entry) -> bytes:
        """The bytes of ``entry``'s upstream file (its zip member, for a zip), checked against the registry's
        SHA-256; ``DataError`` naming the file and the URL when it cannot be had."""
        url, cached = download_url(entry), self.cached(entry)
        present = cached.is_file()
        if present and pooch.file_hash(str(cached)) != entry.sha256:
            self.note(f"data: the cached {cached} is corrupt (SHA-256 differs from the registry's); fetching it again")
            present = False
        try:
            path = Path(self._pooch.fetch(entry.upstream_path, downloader=pooch.HTTPDownloader(timeout=TIMEOUT_S)))
        except requests.RequestException as exc:
            raise DataError(f"{entry.path}: cannot download {url} ({_reason(exc)}); {NO_NETWORK_HINT}") from None
        except ValueError:  # pooch: the downloaded bytes' SHA-256 is not the known hash, on every attempt
            raise DataError(f"{entry.path}: refused {url}: its SHA-256 differs from the registry's (changed upstream "
                            f"or a wrong mirror); nothing was kept") from None
        except OSError as exc:
            raise DataError(f"{entry.path}: cannot write the download cache {self.folder} ({exc.strerror}); "
                            f"set {CACHE_ENV} to a writable folder") from None
        if not present:
            self.downloaded_bytes += path.stat().st_size
        if not entry.member:
            return path.read_bytes()
        try:
            with zipfile.ZipFile(path) as archive:
                return archive.read(entry.member)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise DataError(f"{entry.path}: no member {entry.member} in {url} ({exc})") from None
