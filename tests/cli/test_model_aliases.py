"""Model aliases through `headrace models alias|promote|rollback|show`, each in a fresh process, on a
store a real Pusher filled; and what model servers read after each change: the TF Serving config,
parsed by tensorflow-serving-api's own protos, and the KServe InferenceService, validated against the
OpenAPI schema of KServe's own CRD (tests/kserve_crd.py). No model server or Kubernetes cluster runs
here: the tests say so by name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kserve_crd import validate_inference_service
from pushes import push_model
from test_models import headrace

from headrace.dsl.system_nodes import check_alias
from headrace.errors import DefinitionError


@pytest.fixture
def pushed(tmp_path: Path) -> dict[str, Any]:
    """'penguin' versions 1 and 2 (blessed) and 3 (pushed without a blessing)."""
    runs = [push_model(tmp_path, "one", 1), push_model(tmp_path, "two", 1), push_model(tmp_path, "three", None)]
    model_dir = tmp_path / "serving" / "penguin"
    return {"db": str(tmp_path / "root" / "metadata.sqlite"), "runs": runs, "model_dir": model_dir}


def served(model_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The TF Serving config (parsed by its protos) and the KServe manifest (checked) in `model_dir`."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = text_format.Parse(
        (model_dir / "model_server.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    [model] = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("penguin", str(model_dir), "tensorflow")
    manifest = yaml.safe_load((model_dir / "inferenceservice.yaml").read_text())
    validate_inference_service(manifest)
    return model, manifest


def ok(*args: Any) -> str:
    proc = headrace(*args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    "aliases, canary", [({}, None), ({"champion": 2}, None), ({"champion": 2, "challenger": 3}, 25)]
)
def test_the_kserve_manifest_passes_kserves_own_crd_schema_and_a_broken_one_fails_no_cluster_here(aliases, canary):
    from headrace.components.serving.serving_config import kserve_manifest

    manifest = kserve_manifest("Penguin Model", "/srv/models/penguin", aliases, 3, "gs://bucket/penguin/", 25)
    validate_inference_service(manifest)
    predictor = manifest["spec"]["predictor"]
    assert predictor.get("canaryTrafficPercent") == canary
    assert predictor["model"]["storageUri"].startswith("gs://bucket/penguin/")
    # The check is the CRD's, made strict as the API server is: a misspelt field, a wrong type, a
    # name that is not a DNS-1035 label and a field at the wrong level are all refused.
    for path, value in (
        (("spec", "predictor", "canaryTrafficPercentage"), 10),
        (("spec", "predictor", "canaryTrafficPercent"), "10"),
        (("spec", "predictor", "model", "storageUri"), 3),
        (("metadata", "name"), "Penguin_Model"),
        (("spec", "storageUri"), "gs://x"),
    ):
        broken = json.loads(json.dumps(manifest))
        where = broken
        for key in path[:-1]:
            where = where[key]
        where[path[-1]] = value
        with pytest.raises(jsonschema.ValidationError):
            validate_inference_service(broken)


def test_aliases_promotion_and_rollback_drive_the_serving_configs_no_model_server_here(pushed):
    db, model_dir = pushed["db"], pushed["model_dir"]
    assert "champion -> version 1" in ok("models", "alias", "penguin", "champion", "1", "--metadata", db)
    model, manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 1} and list(model.model_version_policy.specific.versions) == [1]
    assert manifest["spec"]["predictor"] == {
        "model": {"modelFormat": {"name": "tensorflow"}, "storageUri": f"{model_dir}/1"}
    }

    ok("models", "alias", "penguin", "challenger", "2", "--reason", "retrained on span 4", "--metadata", db)
    model, manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 1, "canary": 2}
    assert list(model.model_version_policy.specific.versions) == [1, 2]
    # KServe's canary: the new revision (the challenger) takes canaryTrafficPercent, the champion the rest.
    assert manifest["spec"]["predictor"]["model"]["storageUri"] == f"{model_dir}/2"
    assert manifest["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert manifest["metadata"]["annotations"] == {
        "headrace.dev/champion-version": "1",
        "headrace.dev/challenger-version": "2",
    }

    # The gate: a soak time the challenger has not served yet is refused, saying how long is left.
    soak = headrace("models", "promote", "penguin", "2", "--soak", "1h", "--metadata", db)
    assert soak.returncode != 0 and "the gate asks for 3600 s" in soak.stderr and "Traceback" not in soak.stderr
    promoted = ok("models", "promote", "penguin", "2", "--reason", "beats 1 on accuracy", "--metadata", db)
    assert "champion -> version 2 (was version 1)" in promoted and "gate: blessed" in promoted
    model, manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 2}  # the challenger became the champion
    assert manifest["spec"]["predictor"] == {
        "model": {"modelFormat": {"name": "tensorflow"}, "storageUri": f"{model_dir}/2"}
    }

    # A rollback copies version 1 to version 4 and moves the champion there.
    ok("models", "rollback", "penguin", "1", "--reason", "2 misbehaves", "--metadata", db)
    model, manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 4}
    assert manifest["spec"]["predictor"]["model"]["storageUri"] == f"{model_dir}/4"

    text = ok("models", "show", "penguin", "--metadata", db)
    assert "aliases: champion = version 4" in text
    history = re.findall(r"^  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$", text[text.index("alias history:") :], re.M)
    changes = history
    assert [c.split(" by ")[0] for c in changes[:5]] == [
        "champion -> version 1",
        "challenger -> version 2",
        "champion -> version 2 (was 1)",
        "challenger removed (was 2)",
        "champion -> version 4 (was 2)",
    ], history
    assert "beats 1 on accuracy; gate: blessed" in changes[2] and "rollback to version 1" in changes[4]
    shown = json.loads(ok("models", "show", "penguin", "--json", "--metadata", db))
    assert [(v["version"], v["aliases"]) for v in shown] == [(1, []), (2, []), (3, []), (4, ["champion"])]


def test_the_pusher_pushes_as_an_alias_and_its_publish_records_it_no_model_server_here(tmp_path):
    push_model(tmp_path, "one", 1, alias="champion")
    model_dir = tmp_path / "serving" / "penguin"
    model, manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 1}
    push_model(tmp_path, "two", 1, alias="challenger")
    push_model(tmp_path, "three", 1)  # no alias: pushed, but not served while aliases say what is
    model, manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 1, "canary": 2}
    assert list(model.model_version_policy.specific.versions) == [1, 2]
    assert manifest["spec"]["predictor"]["model"]["storageUri"] == f"{model_dir}/2"
    assert manifest["spec"]["predictor"]["canaryTrafficPercent"] == 10
    db = str(tmp_path / "root" / "metadata.sqlite")
    text = ok("models", "show", "penguin", "--metadata", db)
    assert "aliases: challenger = version 2, champion = version 1" in text
    assert "challenger -> version 2: pushed as challenger (PushedModel #" in text
    ok("models", "promote", "penguin", "2", "--metadata", db)
    model, _manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 2}
    with pytest.raises(DefinitionError, match="is not a usable name"):
        push_model(tmp_path, "four", 1, alias="../champion")
    # A challenger the Pusher promotes at once (its blessing the gate): three changes in the history.
    push_model(tmp_path, "five", 1, alias="challenger", promote=True)
    model, _manifest = served(model_dir)
    assert dict(model.version_labels) == {"stable": 4}
    text = ok("models", "show", "penguin", "--metadata", db)
    assert "aliases: champion = version 4" in text
    assert "champion -> version 4 (was 2): promoted by the Pusher" in text and "challenger removed (was 4)" in text
    with pytest.raises(DefinitionError, match="'promote': True promotes the pushed challenger"):
        push_model(tmp_path, "six", 1, alias="champion", promote=True)


def test_the_gate_refuses_an_unblessed_push_unless_told(pushed):
    db = pushed["db"]
    assert not (pushed["model_dir"] / "model_server.config").exists()  # plain pushes: versions only, as TFX
    refused = headrace("models", "promote", "penguin", "3", "--metadata", db)
    assert (
        refused.returncode != 0 and "it had no blessing" in refused.stderr and "--no-require-blessing" in refused.stderr
    )
    assert not (pushed["model_dir"] / "model_server.config").exists()  # nothing changed
    out = ok("models", "promote", "penguin", "3", "--no-require-blessing", "--metadata", db)
    assert "champion -> version 3" in out and "no gate" in out


def test_promote_the_challenger_by_its_alias_once_it_has_soaked(pushed):
    """What a cron job runs: `headrace models promote NAME challenger --soak 1d`."""
    db = pushed["db"]
    ok("models", "alias", "penguin", "challenger", "2", "--metadata", db)
    early = headrace("models", "promote", "penguin", "challenger", "--soak", "1h", "--metadata", db)
    assert early.returncode == 1 and "the gate asks for 3600 s; promote it again in" in early.stderr, early.stderr
    out = ok("models", "promote", "penguin", "challenger", "--soak", "0", "--metadata", db)
    assert "champion -> version 2" in out and "gate: blessed" in out
    gone = headrace("models", "promote", "penguin", "challenger", "--metadata", db)  # promoted: no challenger now
    assert gone.returncode == 1 and "has no alias 'challenger': its aliases: champion = 2" in gone.stderr, gone.stderr
    assert "Traceback" not in gone.stderr


@pytest.mark.parametrize("alias", ["../x", "Champion", "<img src=x onerror=alert(1)>", "", "a" * 64, "x/y", "_x"])
def test_hostile_alias_names_are_refused_before_anything_is_recorded(pushed, alias):
    with pytest.raises(DefinitionError, match="is not a usable name"):
        check_alias(alias)
    proc = headrace("models", "alias", "penguin", alias, "1", "--metadata", pushed["db"])
    assert proc.returncode != 0 and "is not a usable name" in proc.stderr and "Traceback" not in proc.stderr
    assert "alias history" not in ok("models", "show", "penguin", "--metadata", pushed["db"])


def test_alias_errors_name_the_versions_there_are(pushed):
    db = pushed["db"]
    missing = headrace("models", "alias", "penguin", "champion", "9", "--metadata", db)
    assert missing.returncode != 0 and "no pushed version 9" in missing.stderr and "1, 2, 3" in missing.stderr
    unset = headrace("models", "alias", "penguin", "shadow", "--remove", "--metadata", db)
    assert unset.returncode != 0 and "has no alias 'shadow' set" in unset.stderr
    both = headrace("models", "alias", "penguin", "shadow", "1", "--remove", "--metadata", db)
    assert both.returncode != 0 and "Give VERSION, or --remove" in both.stderr


def _champion_resolver(tmp_path: Path) -> Any:
    """A pipeline whose one node resolves the champion's Model, run once; the URIs it resolved."""
    from headrace import LocalDagRunner, ModelAliasStrategy, Pipeline, Resolver
    from headrace.types import Channel
    from headrace.types.standard_artifacts import Model

    resolver = Resolver(
        strategy_class=ModelAliasStrategy,
        config={"model_name": "penguin", "alias": "champion"},
        model=Channel(type=Model),
    ).with_id("champion")
    pipeline = Pipeline("penguin", str(tmp_path / "root"), [resolver])
    result = LocalDagRunner(quiet=True).run(pipeline)
    return result.nodes["champion"].outputs["model"]


def test_model_alias_strategy_resolves_the_champions_model(pushed):
    tmp_path = pushed["model_dir"].parents[1]
    assert _champion_resolver(tmp_path) == []  # no champion yet: nothing resolves
    ok("models", "alias", "penguin", "champion", "2", "--metadata", pushed["db"])
    assert _champion_resolver(tmp_path) == [str(tmp_path / "model-two")]  # the Model version 2 was pushed from
    ok("models", "rollback", "penguin", "1", "--metadata", pushed["db"])  # version 4: a copy of 1, now champion
    assert _champion_resolver(tmp_path) == [str(tmp_path / "model-one")]


def test_model_alias_strategy_resolves_the_data_the_champion_was_trained_on(tmp_path):
    from test_models import FakeTrainer

    from headrace import Importer, LocalDagRunner, ModelAliasStrategy, Pipeline, Resolver
    from headrace.components.serving.pusher import Pusher
    from headrace.types import Channel
    from headrace.types.standard_artifacts import Examples, Model

    (tmp_path / "data").mkdir()
    examples = Importer(source_uri=str(tmp_path / "data"), artifact_type=Examples).with_id("examples")
    trainer = FakeTrainer(examples=examples.outputs["result"])
    pusher = Pusher(
        model=trainer.outputs["model"],
        push_destination={"filesystem": {"base_directory": str(tmp_path / "serving")}},
        custom_config={"model_name": "penguin", "alias": "champion"},
    )
    LocalDagRunner(quiet=True).run(Pipeline("penguin", str(tmp_path / "root"), [examples, trainer, pusher]))
    champion = Resolver(
        strategy_class=ModelAliasStrategy,
        config={"model_name": "penguin", "alias": "champion"},
        model=Channel(type=Model),
        examples=Channel(type=Examples),
    ).with_id("champion")
    result = LocalDagRunner(quiet=True).run(Pipeline("penguin", str(tmp_path / "root"), [champion]))
    outputs = result.nodes["champion"].outputs
    assert outputs["examples"] == [str(tmp_path / "data")] and "/FakeTrainer/model/" in outputs["model"][0]


@pytest.mark.parametrize(
    "config, channels, says",
    [
        ({"model_name": "penguin"}, {"model": "Model"}, "ModelAliasStrategy takes config="),
        ({"model_name": "penguin", "alias": "../x"}, {"model": "Model"}, "is not a usable name"),
        ({"model_name": "a/b", "alias": "champion"}, {"model": "Model"}, "model_name must be"),
        ({"model_name": "penguin", "alias": "champion"}, {"blessing": "ModelBlessing"}, "needs one Model channel"),
    ],
)
def test_model_alias_strategy_is_checked_when_defined(config, channels, says):
    from headrace import ModelAliasStrategy, Resolver
    from headrace.types import Channel, standard_artifacts

    with pytest.raises(DefinitionError, match=says):
        Resolver(
            strategy_class=ModelAliasStrategy,
            config=config,
            **{k: Channel(type=getattr(standard_artifacts, t)) for k, t in channels.items()},
        )


def test_model_alias_strategy_is_refused_for_kubeflow_naming_what_works(tmp_path):
    from headrace import ModelAliasStrategy, Pipeline, Resolver
    from headrace.compiler import compile_pipeline
    from headrace.orchestrators._kfp_resolver import resolver_tasks
    from headrace.types import Channel
    from headrace.types.standard_artifacts import Model

    resolver = Resolver(
        strategy_class=ModelAliasStrategy, config={"model_name": "p", "alias": "champion"}, model=Channel(type=Model)
    )
    [node] = compile_pipeline(Pipeline("p", str(tmp_path), [resolver])).nodes
    with pytest.raises(DefinitionError, match=r"KFP's store does not hold them.*LatestBlessedModelStrategy"):
        resolver_tasks(node, "resolver")
