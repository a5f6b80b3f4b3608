import hashlib
import http.server
import threading
import zipfile

import pytest

from pseudorel.data import registry
from pseudorel.errors import DownloadError, InputError


@pytest.fixture
def zip_server(tmp_path, tiny_dataset_path):
    """Serve a zip of the tiny dataset (top folder 'toy') on localhost; count requests."""
    served = tmp_path / "served"
    served.mkdir()
    archive = served / "toy.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(tiny_dataset_path.rglob("*")):
            if f.is_file():
                zf.write(f, "toy/" + str(f.relative_to(tiny_dataset_path)))
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{{name}}.zip"
    yield url, hashlib.md5(archive.read_bytes()).hexdigest(), hits
    server.shutdown()


def test_named_dataset_under_data_dir(monkeypatch, tiny_dataset_path):
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(tiny_dataset_path.parent))
    assert registry.resolve_dataset("tiny") == tiny_dataset_path


def test_download_verify_extract_and_cache(monkeypatch, tmp_path, zip_server):
    url, md5, hits = zip_server
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(registry.BEIR_MD5, "toy", md5)
    folder = registry.resolve_dataset("toy", url_template=url)
    assert folder == tmp_path / "data" / "toy"
    assert (folder / "corpus.jsonl").is_file()
    assert registry.load_dataset("toy").qrels["test"]["q1"]["d1"] == 2
    assert registry.resolve_dataset("toy", url_template=url) == folder
    assert hits == ["/toy.zip"]  # the second call used the cache


def test_checksum_mismatch_leaves_nothing(monkeypatch, tmp_path, zip_server):
    url, _, _ = zip_server
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(registry.BEIR_MD5, "toy", "0" * 32)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        registry.resolve_dataset("toy", url_template=url)
    assert list((tmp_path / "data").iterdir()) == []


def test_unreachable_server(monkeypatch, tmp_path):
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(registry.BEIR_MD5, "toy", "0" * 32)
    with pytest.raises(DownloadError, match=r"download failed.*offline\?"):
        registry.resolve_dataset("toy", url_template="http://127.0.0.1:9/{name}.zip")


def test_unknown_name():
    with pytest.raises(InputError, match="not a downloadable dataset"):
        registry.resolve_dataset("no-such-dataset")
