"""Resolve a dataset name or path to a local BEIR folder, downloading public BEIR sets on demand."""

from __future__ import annotations

import os
from pathlib import Path

from pseudorel._io import cache_root
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
    if name_or_path not in BEIR_MD5:
        raise InputError(
            name_or_path,
            f"no such folder, not under {data_dir()} (set ${DATA_DIR_ENV}), "
            f"and not a downloadable BEIR dataset ({', '.join(sorted(BEIR_MD5))})",
        )
    try:
        return download_and_extract(
            url_template.format(name=name_or_path), local, checksum=BEIR_MD5[name_or_path], algorithm="md5"
        )
    except DownloadError as e:
        raise DownloadError(f"{e} (offline? point ${DATA_DIR_ENV} at a folder of BEIR datasets)") from None


def load_dataset(name_or_path: str, splits: list[str] | None = None) -> Dataset:
    """Load a dataset by path or name (see :func:`resolve_dataset`)."""
    folder = resolve_dataset(name_or_path)
    return load_beir(folder, splits=splits, name=Path(name_or_path).name)
