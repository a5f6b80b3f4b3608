import hashlib
import http.server
import io
import tarfile
import threading

import pytest

from pseudorel.data import cranfield, registry
from pseudorel.errors import DownloadError, InputError

DOCS = """.I 1
.T
experimental investigation of the aerodynamics of a
wing in a slipstream .
.A
brenckman,m.
.B
j. ae. scs. 25, 1958, 324.
.W
experimental investigation of the aerodynamics of a
wing in a slipstream .
  an experimental study of a wing in a propeller slipstream .
.I 2
.T
simple shear flow past a flat plate .
.A
ting-yili
.B
department of aeronautical engineering.
.W
simple shear flow past a flat plate .
in the study of high-speed viscous flow .
"""
QUERIES = """.I 001
.W
what similarity laws must be obeyed when constructing aeroelastic models
of heated high speed aircraft .
.I 002
.W
what are the structural and aeroelastic problems .
"""
QRELS = "1 2 2\n1 1 4\n2 1 -1\n2 2 1\n"


def archive_bytes(qrels: str = QRELS) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, text in (("cran.all.1400", DOCS), ("cran.qry", QUERIES), ("cranqrel", qrels)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "cran.tar.gz").write_bytes(archive_bytes())

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cran.tar.gz", folder / "cran.tar.gz"
    server.shutdown()


def test_download_checks_md5_and_converts_to_beir(monkeypatch, tmp_path, served):
    url, archive = served
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(tmp_path / "data"))
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(registry.CONVERTED, "cranfield", (url, md5, cranfield.to_beir))
    ds = registry.load_dataset("cranfield")
    assert ds.corpus["1"].title == "experimental investigation of the aerodynamics of a wing in a slipstream ."
    assert ds.corpus["2"].text.endswith("in the study of high-speed viscous flow .")
    # queries numbered by position (the qrels' numbering), not by their .I numbers
    assert ds.queries["1"].startswith("what similarity laws") and set(ds.queries) == {"1", "2"}
    assert ds.qrels["test"] == {"1": {"2": 3, "1": 1}, "2": {"1": 0, "2": 4}}


def test_a_wrong_checksum_leaves_nothing(monkeypatch, tmp_path, served):
    url, _ = served
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(registry.CONVERTED, "cranfield", (url, "0" * 32, cranfield.to_beir))
    with pytest.raises(DownloadError, match="checksum mismatch"):
        registry.resolve_dataset("cranfield")
    assert not (tmp_path / "data" / "cranfield").exists()


def test_registered_with_its_public_source():
    assert registry.CONVERTED["cranfield"][:2] == (cranfield.URL, cranfield.MD5)
    assert "cranfield" in registry.known_datasets()


def test_a_bad_qrels_line_is_named(tmp_path):
    with tarfile.open(fileobj=io.BytesIO(archive_bytes("1 2 2\n1 x 4\n"))) as tf:
        tf.extractall(tmp_path / "src", filter="data")
    with pytest.raises(InputError, match="line 2"):
        cranfield.to_beir(tmp_path / "src", tmp_path / "out")
