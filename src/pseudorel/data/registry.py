"""Resolve a dataset name or path to a local BEIR folder, downloading public sets on demand: the
BEIR collections (zips with BEIR's published md5) and collections converted from their own public
source (:data:`CONVERTED`, e.g. Cranfield)."""

from __future__ import annotations

import os
from pathlib import Path

from pseudorel._io import cache_root
from pseudorel.data import cranfield
from pseudorel.data.beir import load_beir
from pseudorel.data.download import download_and_extract
from pseudorel.data.types import Dataset
from pseudorel.errors import DownloadError, InputError

DATA_DIR_ENV = "PSEUDOREL_DATA_DIR"
BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{name}.zip"

#: BEIR datasets downloadable as zips, with the md5 published in the BEIR README.
BEIR_MD5 = {
    "scifact": "5f7d1de60b170fc8027bb7898e2efca1",
    "nfcorpus": "a89dba18a62ef92f7d323ec890a0d38d",
    "arguana": "8ad3e3c2a5867cdced806d6503f29b99",
    "fiqa": "17918ed23cd04fb15047f73e6c3bd9d9",
    "scidocs": "38121350fc3a4d2f48850f6aff52e4a9",
    "trec-covid": "ce62140cb23feb9becf6270d0d1fe6d1",
    "webis-touche2020": "46f650ba5a527fc69e0a6521c5a23563",
    "quora": "18fb154900ba42a600f84b839c173167",
    "nq": "d4d3d2e48787a744b6f6e691ff534307",
    "hotpotqa": "f412724f78b0d91183a0e86805e16114",
    "dbpedia-entity": "c2a39eb420a3164af735795df012ac2c",
    "fever": "5a818580227bfb4b35bb6fa46d9b6c03",
    "climate-fever": "8b66f0a9126c521bae2bde127b4dc99d",
}

#: collections fetched from their own public source and converted to BEIR layout:
#: name -> (url, md5 of the archive, converter(unpacked folder, BEIR folder))
CONVERTED = {"cranfield": (cranfield.URL, cranfield.MD5, cranfield.to_beir)}


def known_datasets() -> list[str]:
    return sorted({*BEIR_MD5, *CONVERTED})


def data_dir() -> Path:
    """Where named datasets live: $PSEUDOREL_DATA_DIR, else ~/.cache/pseudorel/datasets."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else cache_root() / "datasets"


def resolve_dataset(name_or_path: str, url_template: str = BEIR_URL) -> Path:
    """A dataset folder: an existing path, a name under :func:`data_dir`, or a BEIR download."""
    as_path = Path(name_or_path).expanduser()
    if as_path.is_dir():
        return as_path
    local = data_dir() / name_or_path
    if local.is_dir():
        return local
    if name_or_path not in BEIR_MD5 and name_or_path not in CONVERTED:
        raise InputError(
            name_or_path,
            f"no such folder, not under {data_dir()} (set ${DATA_DIR_ENV}), "
            f"and not a downloadable dataset ({', '.join(known_datasets())})",
        )
    if name_or_path in CONVERTED:
        url, md5, convert = CONVERTED[name_or_path]
    else:
        url, md5, convert = url_template.format(name=name_or_path), BEIR_MD5[name_or_path], None
    try:
        return download_and_extract(url, local, checksum=md5, algorithm="md5", convert=convert)
    except DownloadError as e:
        raise DownloadError(f"{e} (offline? point ${DATA_DIR_ENV} at a folder of BEIR datasets)") from None


def load_dataset(name_or_path: str, splits: list[str] | None = None) -> Dataset:
    """Load a dataset by path or name (see :func:`resolve_dataset`)."""
    folder = resolve_dataset(name_or_path)
    return load_beir(folder, splits=splits, name=Path(name_or_path).name)
