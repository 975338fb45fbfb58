"""headrace.fileio and the TFX helpers custom executors call (artifact_utils, io_utils, proto_utils)."""

from __future__ import annotations

import pytest

from headrace import fileio
from headrace.tfx.types import artifact_utils, channel_utils
from headrace.tfx.types import standard_artifacts as sa
from headrace.tfx.utils import io_utils, proto_utils


def test_fileio_local_operations(tmp_path):
    d = tmp_path / "a" / "b"
    fileio.makedirs(str(d))
    with fileio.open(str(d / "f.txt"), "w") as f:
        f.write("hi")
    assert fileio.exists(str(d / "f.txt")) and fileio.isdir(str(d)) and fileio.listdir(str(d)) == ["f.txt"]
    fileio.copy(str(d / "f.txt"), str(d / "g.txt"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fileio.copy(str(d / "f.txt"), str(d / "g.txt"))
    fileio.rename(str(d / "g.txt"), str(d / "h.txt"))
    assert fileio.glob(str(d / "*.txt")) == [str(d / "f.txt"), str(d / "h.txt")]
    assert fileio.stat(str(d / "h.txt")).st_size == 2
    assert [files for _, _, files in fileio.walk(str(tmp_path / "a"))] == [[], ["f.txt", "h.txt"]]
    with pytest.raises(fileio.NotFoundError):
        fileio.listdir(str(tmp_path / "missing"))
    with pytest.raises(OSError):  # NotFoundError is an IOError, as in TFX
        fileio.remove(str(tmp_path / "missing"))
    fileio.rmtree(str(tmp_path / "a"))
    assert not fileio.exists(str(tmp_path / "a"))
    assert fileio.exists("file://" + str(tmp_path))


def test_fileio_names_an_unsupported_scheme():
    with pytest.raises(fileio.UnsupportedFilesystemError, match=r"scheme .gs.*Google Cloud Storage"):
        fileio.exists("gs://bucket/x")
    with pytest.raises(fileio.UnsupportedFilesystemError, match="scheme 'foo'"):
        fileio.listdir("foo://x")


def test_artifact_utils_splits_and_singletons(tmp_path):
    ex = sa.Examples()
    ex.uri = str(tmp_path)
    ex.split_names = artifact_utils.encode_split_names(["train", "eval"])
    assert artifact_utils.decode_split_names(ex.split_names) == ["train", "eval"]
    assert artifact_utils.decode_split_names("") == []
    assert artifact_utils.get_split_uri([ex], "eval") == str(tmp_path / "Split-eval")
    assert artifact_utils.get_single_uri([ex]) == str(tmp_path)
    with pytest.raises(ValueError, match="expected list length of one but got 2"):
        artifact_utils.get_single_instance([ex, ex])
    with pytest.raises(ValueError, match="Split does not exist"):
        artifact_utils.get_split_uri([ex], "test")
    with pytest.raises(ValueError, match="invalid"):
        artifact_utils.encode_split_names(["bad name"])
    [copy] = artifact_utils.replicate_artifacts(ex, 1)
    assert copy.split_names == ex.split_names and copy.uri == "" and copy is not ex
    ch = channel_utils.as_channel([ex])
    assert ch.type is sa.Examples and ch.get() == [ex]
    with pytest.raises(ValueError, match="at least one artifact"):
        channel_utils.as_channel([])


def test_io_utils_and_proto_utils(tmp_path):
    io_utils.write_string_file(str(tmp_path / "x" / "s.txt"), "text")
    io_utils.write_bytes_file(str(tmp_path / "y" / "b.bin"), b"\x00\x01")
    assert io_utils.read_string_file(str(tmp_path / "x" / "s.txt")) == "text"
    assert io_utils.read_bytes_file(str(tmp_path / "y" / "b.bin")) == b"\x00\x01"
    io_utils.copy_file(str(tmp_path / "x" / "s.txt"), str(tmp_path / "z" / "deep" / "s.txt"))
    assert io_utils.get_only_uri_in_dir(str(tmp_path / "z" / "deep")) == str(tmp_path / "z" / "deep" / "s.txt")
    with pytest.raises(RuntimeError, match="exactly one"):
        io_utils.get_only_uri_in_dir(str(tmp_path))
    io_utils.copy_dir(str(tmp_path / "x"), str(tmp_path / "copy"), deny_regex_patterns=[r"\.bin$"])
    assert fileio.listdir(str(tmp_path / "copy")) == ["s.txt"]
    from ml_metadata.proto import metadata_store_pb2

    proto = metadata_store_pb2.Artifact(uri="/u", type="Examples")
    io_utils.write_pbtxt_file(str(tmp_path / "p" / "a.pbtxt"), proto)
    assert io_utils.parse_pbtxt_file(str(tmp_path / "p" / "a.pbtxt"), metadata_store_pb2.Artifact()) == proto
    assert proto_utils.json_to_proto(proto_utils.proto_to_json(proto), metadata_store_pb2.Artifact()) == proto
    assert proto_utils.proto_to_dict(proto) == {"uri": "/u", "type": "Examples"}
    with pytest.raises(fileio.UnsupportedFilesystemError):
        io_utils.ensure_local("gs://b/x")


def test_tfx_artifact_api_on_headrace_artifacts():
    m = sa.Model()
    assert m.get_string_custom_property("k") == "" and m.get_int_custom_property("n") == 0
    m.set_string_custom_property("k", "v")
    m.set_int_custom_property("n", 3)
    m.set_json_value_custom_property("j", {"a": [1, 2]})
    assert m.get_string_custom_property("k") == "v" and m.get_int_custom_property("n") == 3
    assert m.get_json_value_custom_property("j") == {"a": [1, 2]}
    assert m.has_custom_property("j") and not m.has_custom_property("zz")
    assert m.type_name == "Model" and m.type is sa.Model and sa.Model.TYPE_NAME == "Model"
    proto = m.mlmd_artifact
    assert proto.type == "Model" and proto.custom_properties["n"].int_value == 3
    ex = sa.Examples()
    ex.span = 2
    assert ex.artifact_type.name == "Examples" and "span" in ex.artifact_type.properties
    assert ex.mlmd_artifact.properties["span"].int_value == 2 and ex.has_property("span")
    html = m._repr_html_()
    assert "Model" in html and "custom property: k" in html
    s = sa.String()
    s.value = "hello"
    assert s.read() == "hello" and "hello" in s._repr_html_()
