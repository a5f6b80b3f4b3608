import hashlib

import pytest

from pseudorel.llm import LLMError
from pseudorel.llm.gguf_files import assemble, gguf_path


def make_parts(tmp_path):
    parts = []
    for i, data in enumerate((b"GGUF-part-one|", b"part-two|", b"three")):
        path = tmp_path / f"part{i}"
        path.write_bytes(data)
        parts.append(path)
    return parts, hashlib.sha256(b"GGUF-part-one|part-two|three").hexdigest()


def test_assemble_checks_sha256(tmp_path):
    parts, digest = make_parts(tmp_path)
    target = assemble(parts, tmp_path / "m" / "model.gguf", digest)
    assert target.read_bytes() == b"GGUF-part-one|part-two|three"


def test_wrong_checksum_leaves_no_file(tmp_path):
    parts, _ = make_parts(tmp_path)
    with pytest.raises(LLMError, match="sha256 mismatch"):
        assemble(parts, tmp_path / "m" / "model.gguf", "0" * 64)
    assert list((tmp_path / "m").iterdir()) == []


def test_unknown_model_and_missing_parts(monkeypatch):
    with pytest.raises(LLMError, match="no such GGUF file"):
        gguf_path("no-such-model")
    import pseudorel.llm.gguf_files as g

    spec = g.GGUFSpec("x.gguf", "0" * 64, 10, part_modules=("pseudorel_no_such_part1",))
    monkeypatch.setitem(g.GGUF_MODELS, "fake", spec)
    with pytest.raises(LLMError, match="model part 'pseudorel_no_such_part1' is not installed"):
        gguf_path("fake")
