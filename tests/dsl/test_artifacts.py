"""Artifacts: typed properties, custom properties, serialization, user types, value artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headrace import Artifact, Channel, DefinitionError
from headrace.types import ArtifactState, Property, PropertyType, ValueArtifact, standard_artifacts
from headrace.types.artifact import NULL_PROPERTY
from headrace.types.registry import artifact_class, class_path


# A user-defined artifact type, as a pipeline file would declare it (unique names: the registry is global).
class HeadraceTestEmbeddings(Artifact):
    PROPERTIES = {
        "dim": Property(PropertyType.INT),
        "norm": Property(PropertyType.FLOAT),
        "encoder": Property(PropertyType.STRING),
    }


class HeadraceTestRenamed(Artifact):
    TYPE_NAME = "HeadraceTestRenamedType"


# -- typed properties ------------------------------------------------------------------------------


def test_declared_properties_are_attributes_with_typed_defaults():
    ex = standard_artifacts.Examples()
    assert ex.span == 0
    assert ex.split_names == ""
    assert ex.properties == {}  # defaults are not "set"
    ex.span = 3
    ex.split_names = '["train", "eval"]'
    assert ex.span == 3
    assert json.loads(ex.split_names) == ["train", "eval"]
    assert ex.properties == {"span": 3, "split_names": '["train", "eval"]'}


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("span", "3", "INT"),
        ("span", 1.5, "INT"),
        ("span", True, "INT"),
        ("split_names", ["train"], "STRING"),
        ("split_names", 3, "STRING"),
    ],
)
def test_property_of_the_wrong_type_raises(name, value, kind):
    ex = standard_artifacts.Examples()
    with pytest.raises(DefinitionError) as err:
        setattr(ex, name, value)
    msg = str(err.value)
    assert f"Property '{name}' of artifact type 'Examples' is {kind}" in msg
    assert repr(value) in msg
    assert name not in ex.properties


def test_float_property_accepts_int_and_stores_float():
    emb = HeadraceTestEmbeddings()
    emb.norm = 2
    assert emb.norm == 2.0 and isinstance(emb.norm, float)
    with pytest.raises(DefinitionError, match=r"Property 'norm' .* is FLOAT"):
        emb.norm = "2"
    with pytest.raises(DefinitionError, match=r"Property 'norm' .* is FLOAT"):
        emb.norm = False


def test_unknown_attribute_is_refused_with_a_pointer_to_custom_properties():
    ex = standard_artifacts.Examples()
    with pytest.raises(AttributeError) as err:
        ex.spam = 1
    msg = str(err.value)
    assert "has no property 'spam'" in msg
    assert "set_custom_property('spam', value)" in msg
    assert "Did you mean 'span'?" in msg
    with pytest.raises(AttributeError, match=r"has no attribute 'verison'\. Did you mean 'version'\?"):
        ex.verison


def test_instance_fields():
    ex = standard_artifacts.Examples()
    assert ex.id is None and ex.uri == "" and ex.state is ArtifactState.PENDING
    ex.uri = "/data/examples/1"
    ex.id = 7
    ex.state = ArtifactState.LIVE
    ex.name = "examples:1"
    assert (ex.uri, ex.id, ex.state, ex.name) == ("/data/examples/1", 7, ArtifactState.LIVE, "examples:1")
    assert ex.type_name == "Examples"


# -- custom properties -----------------------------------------------------------------------------


def test_custom_properties():
    model = standard_artifacts.Model()
    assert model.get_custom_property("blessed") is None
    assert model.get_custom_property("blessed", -1) == -1
    assert not model.has_custom_property("blessed")
    model.set_custom_property("blessed", 1)
    model.set_string_custom_property("note", "ok")
    model.set_float_custom_property("loss", 0.25)
    model.set_custom_property("flag", True)
    assert model.has_custom_property("blessed")
    assert model.get_int_custom_property("blessed") == 1
    assert model.get_string_custom_property("note") == "ok"
    assert model.get_float_custom_property("loss") == 0.25
    assert model.custom_properties == {"blessed": 1, "note": "ok", "loss": 0.25, "flag": True}
    # custom_properties is a copy
    model.custom_properties["blessed"] = 0
    assert model.get_custom_property("blessed") == 1
    with pytest.raises(DefinitionError, match="Custom property 'bad' must be int, float, str or bool, got list"):
        model.set_custom_property("bad", [1])
    assert not model.has_custom_property("bad")


# -- serialization ---------------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip():
    ex = standard_artifacts.Examples()
    ex.id, ex.uri, ex.name, ex.state = 11, "/r/ex/11", "ex", ArtifactState.LIVE
    ex.span = 2
    ex.split_names = '["train"]'
    ex.set_custom_property("source", "csv")
    data = ex.to_dict()
    assert data == {
        "type_name": "Examples",
        "id": 11,
        "uri": "/r/ex/11",
        "state": "LIVE",
        "name": "ex",
        "properties": {"span": 2, "split_names": '["train"]'},
        "custom_properties": {"source": "csv"},
    }
    json.dumps(data)  # JSON-ready
    back = Artifact.from_dict(json.loads(json.dumps(data)))
    assert type(back) is standard_artifacts.Examples
    assert back == ex
    assert back.span == 2 and back.state is ArtifactState.LIVE
    assert back.get_custom_property("source") == "csv"
    # Mutating the copy does not touch the original.
    back.span = 5
    assert ex.span == 2


def test_from_dict_of_an_unknown_type_keeps_the_type_name():
    data = {"type_name": "SomethingElseEntirely", "id": 1, "uri": "/u", "state": "LIVE"}
    art = Artifact.from_dict(data)
    assert type(art) is Artifact
    assert art.type_name == "SomethingElseEntirely"
    assert art.to_dict()["type_name"] == "SomethingElseEntirely"
    assert Artifact.TYPE_NAME == "Artifact"  # the class is untouched


def test_from_dict_on_a_subclass_builds_that_subclass():
    art = standard_artifacts.Model.from_dict({"type_name": "Model", "uri": "/m"})
    assert type(art) is standard_artifacts.Model and art.uri == "/m" and art.state is ArtifactState.PENDING


# -- user-defined types ------------------------------------------------------------------------------


def test_user_subclass_is_registered_under_its_type_name():
    assert HeadraceTestEmbeddings.TYPE_NAME == "HeadraceTestEmbeddings"
    assert artifact_class("HeadraceTestEmbeddings") is HeadraceTestEmbeddings
    assert HeadraceTestRenamed.TYPE_NAME == "HeadraceTestRenamedType"
    assert artifact_class("HeadraceTestRenamedType") is HeadraceTestRenamed
    assert artifact_class("NoSuchHeadraceType") is Artifact
    assert class_path(HeadraceTestEmbeddings) == f"{__name__}:HeadraceTestEmbeddings"

    emb = HeadraceTestEmbeddings()
    emb.dim, emb.encoder = 64, "bert"
    back = Artifact.from_dict(emb.to_dict())
    assert type(back) is HeadraceTestEmbeddings
    assert (back.dim, back.encoder) == (64, "bert")
    assert Channel(type=HeadraceTestEmbeddings).type_name == "HeadraceTestEmbeddings"


def test_a_subclass_of_a_standard_type_gets_its_own_name():
    class HeadraceTestCsvExamples(standard_artifacts.Examples):
        pass

    assert HeadraceTestCsvExamples.TYPE_NAME == "HeadraceTestCsvExamples"
    assert standard_artifacts.Examples.TYPE_NAME == "Examples"
    assert artifact_class("Examples") is standard_artifacts.Examples
    sub = HeadraceTestCsvExamples()
    sub.span = 1  # inherits the declared properties
    assert sub.span == 1


def test_bad_property_declarations_are_refused():
    with pytest.raises(DefinitionError, match=r"HeadraceTestBad.PROPERTIES\['dim'\] must be a Property"):

        class HeadraceTestBad(Artifact):
            PROPERTIES = {"dim": int}

    assert artifact_class("HeadraceTestBad") is Artifact
    with pytest.raises(DefinitionError, match="Property type must be a PropertyType"):
        Property("INT")


# -- value artifacts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "good", "stored", "bad"),
    [
        (standard_artifacts.String, "héllo\nworld", "héllo\nworld", [3, None, b"x"]),
        (standard_artifacts.Integer, -12, -12, [True, 1.5, "1"]),
        (standard_artifacts.Float, 0.1, 0.1, ["1.0", False, None]),
        (standard_artifacts.Float, 3, 3.0, []),
        (standard_artifacts.Boolean, False, False, [0, 1, "true"]),
        (standard_artifacts.JsonValue, {"a": [1, 2.5, None, "x"], "b": True}, None, [{1, 2}, object()]),
        (standard_artifacts.JsonValue, [1, "two"], None, []),
    ],
)
def test_value_checks(cls, good, stored, bad):
    art = cls()
    assert isinstance(art, ValueArtifact)
    assert not art.has_value
    art.value = good
    assert art.has_value
    assert art.value == (good if stored is None else stored)
    assert type(art.value) is type(good if stored is None else stored)
    for value in bad:
        with pytest.raises(DefinitionError, match=f"{cls.TYPE_NAME} artifact value must be"):
            cls().value = value


def test_value_before_it_is_set_and_without_uri():
    with pytest.raises(ValueError, match="Integer artifact has no value yet"):
        standard_artifacts.Integer().value


@pytest.mark.parametrize(
    ("cls", "value", "file_text"),
    [
        (standard_artifacts.String, "héllo", "héllo"),
        (standard_artifacts.Integer, 42, "42"),
        (standard_artifacts.Float, 0.5, "0.5"),
        (standard_artifacts.Boolean, True, "1"),
        (standard_artifacts.Boolean, False, "0"),
        (standard_artifacts.JsonValue, {"k": [1, 2]}, '{"k": [1, 2]}'),
    ],
)
def test_persist_value_writes_the_file_and_the_custom_property(tmp_path: Path, cls, value, file_text):
    uri = tmp_path / "out" / cls.TYPE_NAME / "value"  # the URI is the file (TFX's layout); its folder is made
    art = cls()
    art.uri = str(uri)
    art.value = value
    art.persist_value()
    assert uri.read_text(encoding="utf-8") == file_text
    assert art.has_custom_property("value")
    stored = art.get_custom_property("value")
    if cls is standard_artifacts.JsonValue:
        assert json.loads(stored) == value
    else:
        assert stored == value

    # A fresh artifact pointing at the uri (a consumer in another process) reads the file.
    fresh = cls()
    fresh.uri = str(uri)
    assert not fresh.has_value
    assert fresh.value == value
    assert type(fresh.value) is type(value)

    # A fresh artifact with only the recorded custom property (as read back from ML Metadata) needs no file.
    data = art.to_dict()
    data.pop("value")
    data["uri"] = str(tmp_path / "missing")
    from_md = Artifact.from_dict(data)
    assert type(from_md) is cls
    assert from_md.value == value
    assert type(from_md.value) is type(value)


def test_value_survives_from_dict_on_the_value_class():
    art = standard_artifacts.Float()
    art.value = 2.5
    data = json.loads(json.dumps(art.to_dict()))
    assert data["value"] == 2.5
    back = standard_artifacts.Float.from_dict(data)
    assert back.has_value and back.value == 2.5
    assert back == art


def test_value_survives_generic_artifact_from_dict_without_a_file():
    # Artifact.from_dict is what the launcher and executor runner use for every artifact.
    art = standard_artifacts.Float()
    art.value = 2.5
    back = Artifact.from_dict(json.loads(json.dumps(art.to_dict())))
    assert type(back) is standard_artifacts.Float
    assert back.has_value and back.value == 2.5
    assert back == art


def test_file_value_is_read_once(tmp_path: Path):
    # The layout of earlier headrace versions: the URI is a folder holding the file `value`.
    (tmp_path / "value").write_text("7")
    art = standard_artifacts.Integer()
    art.uri = str(tmp_path)
    assert art.value == 7
    (tmp_path / "value").write_text("8")
    assert art.value == 7  # cached after the first read
    fresh = standard_artifacts.Integer()
    fresh.uri = str(tmp_path)
    assert fresh.value == 8


def test_value_at_the_uri_as_tfx_lays_it_out_and_in_the_earlier_folder_layout(tmp_path: Path):
    new, old = tmp_path / "new" / "value", tmp_path / "old"
    new.parent.mkdir()
    old.mkdir()
    new.write_text("3")
    (old / "value").write_text("4")
    for uri, expected in ((new, 3), (old, 4)):
        art = standard_artifacts.Integer()
        art.uri = str(uri)
        assert art.read() == expected
    # Persisting into an artifact of the earlier layout (its URI an existing folder) keeps that layout.
    art = standard_artifacts.Integer()
    art.uri = str(old)
    art.value = 5
    art.persist_value()
    assert (old / "value").read_text() == "5" and old.is_dir()


def test_persist_value_records_a_file_the_executor_wrote_itself(tmp_path: Path):
    """TFX code writes a value output with open(artifact.uri, 'w'): the file is kept and its value recorded."""
    uri = tmp_path / "n" / "value"
    uri.parent.mkdir()
    uri.write_text("12")
    art = standard_artifacts.Integer()
    art.uri = str(uri)
    art.persist_value()
    assert uri.read_text() == "12"
    assert art.get_custom_property("value") == 12 and art.to_dict()["value"] == 12


def test_persist_value_keeps_an_undecodable_file_unrecorded(tmp_path: Path):
    uri = tmp_path / "value"
    uri.write_text("not a number")
    art = standard_artifacts.Integer()
    art.uri = str(uri)
    art.persist_value()
    assert uri.read_text() == "not a number" and not art.has_custom_property("value")
    with pytest.raises(ValueError):
        standard_artifacts.Integer.from_dict(art.to_dict()).value  # refused where it is read


@pytest.mark.parametrize("null", [True, False])
def test_persist_value_without_a_value_writes_an_empty_file_as_tfx_does(tmp_path: Path, null: bool):
    uri = tmp_path / "s" / "value"
    art = standard_artifacts.String()
    art.uri = str(uri)
    if null:
        art.set_custom_property(NULL_PROPERTY, 1)  # an Optional output the function returned None for
    art.persist_value()
    assert uri.read_bytes() == b"" and not art.has_custom_property("value")
    back = standard_artifacts.String.from_dict(art.to_dict())
    assert back.value is None if null else back.value == ""
