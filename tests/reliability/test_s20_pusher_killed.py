"""Scenario 20, the Pusher killed mid-push, then its run resumed.

A pipeline pushes a new fake model of 'penguin' as the challenger and promotes it (blessed), as the
continuous-training pipeline does. Each round, `headrace run` is SIGKILLed (its whole process group) at
a random moment, and the run is resumed (`headrace run FILE --resume ID`, what `headrace schedule` does
for a run left by a dead process). The Pusher writes the TF Serving config and the KServe manifest
before its execution is published, so a kill between the two leaves files that name a version the store
has not recorded as champion: that window is measured, and must close when the run is resumed.

Violations: a resumed run that does not complete; after it, serving files that do not match the
aliases in the store, or a torn file; an alias (in the store or the files) naming a version that is not
on disk; a version recorded pushed twice; the champion not the last run's push.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from _reliability import record, trials

from headrace.components.serving import aliases
from headrace.components.serving.model_registry import versions
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.metadata.model_aliases import current_aliases

KILLS = trials(16, 3)

PIPELINE = """
import os
from pathlib import Path
from headrace import Importer, Pipeline
from headrace.components.serving.pusher import Pusher
from headrace.types.standard_artifacts import Model, ModelBlessing

HERE = Path(os.environ["S20_DIR"])


def create_pipeline():
    tag = os.environ["S20_TAG"]
    model_dir = HERE / f"model-{tag}"
    if not model_dir.exists():
        (model_dir / "variables").mkdir(parents=True)
        (model_dir / "saved_model.pb").write_text(f"graph {tag}")
        (model_dir / "variables" / "variables.index").write_text(f"weights {tag}" * 20000)
    (HERE / "blessing").mkdir(exist_ok=True)
    model = Importer(source_uri=str(model_dir), artifact_type=Model).with_id("model")
    blessing = Importer(
        source_uri=str(HERE / "blessing"), artifact_type=ModelBlessing, custom_properties={"blessed": 1}
    ).with_id("blessing")
    pusher = Pusher(
        model=model.outputs["result"],
        model_blessing=blessing.outputs["result"],
        push_destination={"filesystem": {"base_directory": str(HERE / "serving")}},
        custom_config={"model_name": "penguin", "alias": "challenger", "promote": True},
    )
    return Pipeline("s20", str(HERE / "root"), [model, blessing, pusher], enable_cache=False)
"""


def _headrace(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", "run", *args, "-q"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _served(model_dir: Path) -> tuple[dict[str, int], str]:
    """The aliases the TF Serving config serves, and the KServe manifest's storage URI ('' if torn)."""
    served = aliases.aliases_in_config(str(model_dir))
    try:
        manifest = yaml.safe_load((model_dir / "inferenceservice.yaml").read_text())
        return served, manifest["spec"]["predictor"]["model"]["storageUri"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return served, ""


def test_the_pusher_killed_mid_push_then_the_run_resumed(tmp_path: Path) -> None:
    rng = random.Random(20)
    pipeline = tmp_path / "s20_pipeline.py"
    pipeline.write_text(PIPELINE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    env["S20_DIR"] = str(tmp_path)
    model_dir = tmp_path / "serving" / "penguin"
    db = str(tmp_path / "root" / "metadata.sqlite")
    violations: list[str] = []
    ahead, resumed, rerun = 0, 0, 0
    started = time.perf_counter()
    last_version = None
    for kill in range(KILLS):
        env["S20_TAG"] = str(kill)
        run_id = f"push-{kill}"
        config = model_dir / "model_server.config"
        before = config.stat().st_mtime_ns if config.exists() else None
        proc = _headrace([str(pipeline), "--run-id", run_id], env)
        if kill % 2:  # at a random moment
            time.sleep(rng.uniform(0.5, 4.0))
        else:  # as soon as the Pusher has rewritten the serving config: inside the window, most times
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if config.exists() and config.stat().st_mtime_ns != before:
                    break
                time.sleep(0.0005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        md = Metadata(sqlite_metadata_connection_config(db)) if os.path.exists(db) else None
        if md is not None and model_dir.exists():
            recorded = {a: int(c.version) for a, c in current_aliases(md, "penguin").items()}
            if aliases.has_serving_config(str(model_dir)) and _served(model_dir)[0] != recorded:
                ahead += 1  # the window: files written, the push not yet published
        runs = MetadataReader(md).runs() if md is not None else []
        if any(r.run_id == run_id for r in runs):
            done = _headrace([str(pipeline), "--resume", run_id], env)
            resumed += 1
        else:  # killed before the run was recorded: run it again
            done = _headrace([str(pipeline), "--run-id", run_id], env)
            rerun += 1
        if done.wait(timeout=300) != 0:
            violations.append(
                f"round {kill}: the resumed run failed: {done.stderr.read()[-500:] if done.stderr else ''}"
            )
            continue
        md = Metadata(sqlite_metadata_connection_config(db))
        recorded = {a: int(c.version) for a, c in current_aliases(md, "penguin").items()}
        served, uri = _served(model_dir)
        on_disk = set(versions(str(model_dir)))
        if served != recorded:
            violations.append(f"round {kill}: files serve {served}, the store says {recorded}")
        if not uri:
            violations.append(f"round {kill}: the KServe manifest is torn or missing")
        elif recorded.get("champion") is not None and not uri.endswith(f"/{recorded['champion']}"):
            violations.append(f"round {kill}: KServe serves {uri}, the champion is {recorded['champion']}")
        for alias, version in {**served, **recorded}.items():
            if version not in on_disk:
                violations.append(f"round {kill}: {alias} names version {version}, not on disk {sorted(on_disk)}")
        champion = recorded.get("champion")
        if champion is None or (last_version is not None and champion <= last_version):
            violations.append(f"round {kill}: champion {champion} is not this round's push (last {last_version})")
        last_version = champion
    seconds = time.perf_counter() - started
    record(
        20,
        "The Pusher killed mid-push, then its run resumed",
        KILLS,
        f"{KILLS} SIGKILLs of headrace run (its process group) during a push as challenger, promoted: half at "
        "random moments, half as soon as the serving config changed; each run then resumed (or run again if "
        "it was killed before it was recorded)",
        len(violations),
        f"{resumed} runs resumed, {rerun} run again; after {ahead} kills the serving files named a version the "
        f"store had not recorded (killed between writing them and publishing), each fixed by the resumed run; "
        f"in {seconds:.0f} s; {len(violations)} violations",
        {"violations": violations[:20], "files_ahead_after_kill": ahead, "resumed": resumed, "rerun": rerun},
    )
    assert not violations, violations[:20]
