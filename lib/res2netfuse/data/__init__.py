"""The registry of every data file (pinned URL, hash, transform); fetch via pooch, or take a local copy; verify.

* :mod:`.registry`: ``registry.csv`` (package data), one row per file of ``data/``, and the data sets
  (:data:`SETS`: ``train``, ``kodak``, ``tno``, ``tno21``, ``roadscene``, ``mri_ct``, ``vifb``, ``weights``,
  ``rival_weights``); ``$RES2NETFUSE_DATA_URL`` replaces the upstream host (a mirror).
* :mod:`.download`: the download cache (pooch: ``known_hash``, retries, corrupt copies fetched again).
* :mod:`.transform`: upstream file -> file of ``data/`` (``copy``, ``gray``, ``squeeze``) and the checks.
* :mod:`.derived`: ``README.md`` and ``fusion/tno21/pairs.csv``, made here rather than downloaded.
* :mod:`.folder`: :func:`fetch` (assemble a data folder, set by set, all-or-nothing per set; from the local
  copy ``$RES2NETFUSE_DATA`` or ``../shared/data`` when there is one) and :func:`verify`.
* :mod:`.command`: ``res2netfuse data fetch|verify|list`` and ``python -m res2netfuse.data`` (the data stage
  of ``dvc.yaml``). :mod:`.build_registry` regenerates the registry from the provenance table.

No upstream repository states a licence for its files: they are downloaded, never redistributed.
"""

from .folder import fetch, local_copy, verify
from .registry import SETS, DataError, DataSet, Entry, entries, select

__all__ = ["SETS", "DataError", "DataSet", "Entry", "entries", "fetch", "local_copy", "select", "verify"]
