"""Scenario 9 (issue 11): secrets never land anywhere headrace writes.

Two canaries: the password of a MySQL/MariaDB metadata connection (a MariaDB user made for this test,
so the password really opens the store) and a parameter marked secret (`headrace.Secret("VAR")`, whose
value comes from an environment variable when the step runs). A pipeline carrying both is compiled
(IR), compiled for Kubeflow, written as an Airflow DAG, and run with LocalDagRunner on MariaDB in both
executor modes; then every place is searched for both canaries (also base64- and URL-encoded): the IR,
the Kubeflow file, the dags folder, every table of the ML Metadata database (mysqldump), every file
under the pipeline root (artifacts, logs, reports), the test process's own stdout/stderr, and the
output of `headrace runs list/show`. The step checks it did receive the secret (it writes its hash).
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from _reliability import record, trials

ROOT = Path(__file__).resolve().parents[2]
HEADRACE = [sys.executable, "-m", "headrace"]
SECRET_ENV = "HEADRACE_S09_API_TOKEN"

PIPELINE = """
import hashlib

from headrace import ComponentSpec, ExecutionParameter, BaseExecutor, ExecutorClassSpec, BaseComponent
from headrace import ChannelParameter, OutputArtifact, Parameter, Pipeline, Secret, component
from headrace.types import standard_artifacts


@component
def call_api(token: Parameter[str], digest: OutputArtifact[standard_artifacts.String]):
    # the step uses the secret; it writes only its hash (what the test checks it received)
    print("calling the API with a token of", len(token), "characters")
    with open(digest.uri, "w") as f:  # a value artifact's URI is its value's file, as in TFX
        f.write(hashlib.sha256(token.encode()).hexdigest())


class _Spec(ComponentSpec):
    PARAMETERS = {"password": ExecutionParameter(type=str), "user": ExecutionParameter(type=str)}
    OUTPUTS = {"digest": ChannelParameter(type=standard_artifacts.String)}


class _Executor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        out = output_dict["digest"][0]
        with open(out.uri, "w") as f:
            f.write(hashlib.sha256(exec_properties["password"].encode()).hexdigest())


class Login(BaseComponent):
    SPEC_CLASS = _Spec
    EXECUTOR_SPEC = ExecutorClassSpec(_Executor)

    def __init__(self, password, user):
        super().__init__(_Spec(password=password, user=user))


def create_pipeline(root, config, env, image=None):
    a = call_api(token=Secret(env))
    b = Login(password=Secret(env), user="alice").with_id("login")
    nodes = [a, b]
    if image:  # the same function in the runtime image, and a container command given the secret in its argv
        from headrace.dsl import placeholders
        from headrace.dsl.container_component import create_container_component

        digest = create_container_component(
            name="Digest",
            outputs={"digest": standard_artifacts.String},
            parameters={"token": str},
            image=image,
            command=[
                "python3", "-c",
                "import hashlib, sys; h = hashlib.sha256(sys.argv[2].encode()); "
                "open(sys.argv[1], 'w').write(h.hexdigest())",
                placeholders.OutputUriPlaceholder("digest"),
                placeholders.InputValuePlaceholder("token"),
            ],
        )
        nodes += [call_api(token=Secret(env)).with_id("call_api_in_image").with_image(image),
                  digest(token=Secret(env)).with_id("container")]
    return Pipeline("secrets", root, nodes, metadata_connection_config=config, enable_cache=False)
"""


def _root_sql(statement: str) -> None:
    """Runs SQL as MariaDB's root over the local socket (services.sh starts MariaDB as root's service);
    retried: another scenario may be restarting the server."""
    last = ""
    for _ in range(40):
        p = subprocess.run(["mysql", "-uroot", "-e", statement], capture_output=True, text=True, timeout=30)
        if p.returncode == 0:
            return
        last = p.stderr.strip()
        time.sleep(0.5)
    pytest.fail(f"MariaDB root access failed ({last}); start it with: bash scripts/services.sh mariadb", pytrace=False)


@pytest.fixture
def canary_db():
    """A MariaDB user and database whose password is a canary (dropped afterwards)."""
    tag = uuid.uuid4().hex[:10]
    user, db, password = f"hrc_{tag}", f"headrace_s09_{tag}", f"CanaryPw-{uuid.uuid4().hex}"
    _root_sql(
        f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'; "
        f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{user}'@'127.0.0.1'; FLUSH PRIVILEGES;"
    )
    yield user, db, password
    _root_sql(f"DROP DATABASE IF EXISTS `{db}`; DROP USER IF EXISTS '{user}'@'127.0.0.1';")


def _forms(secret: str) -> list[str]:
    """The canary as written, base64 (as headrace packs IRs and payloads) and URL-encoded."""
    b64 = base64.b64encode(secret.encode()).decode()
    return [secret, b64[: len(b64) - 4], quote(secret, safe="")]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets for f in _forms(s) if f in text]


def _files_leaking(top: Path, secrets: list[str]) -> list[str]:
    found = []
    raw = [f.encode() for s in secrets for f in _forms(s)]
    for path in sorted(p for p in top.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(r in data for r in raw):
            found.append(str(path.relative_to(top)))
    return found


@pytest.mark.mariadb
def test_secrets_never_land_in_ir_kubeflow_airflow_metadata_logs_or_artifacts(
    tmp_path, write_module, canary_db, capfd, monkeypatch, runtime_image
):
    from headrace import PipelineRunError
    from headrace.compiler import compile_pipeline
    from headrace.metadata import mysql_metadata_connection_config
    from headrace.orchestrators import LocalDagRunner
    from headrace.orchestrators.airflow_dag_runner import write_dag
    from headrace.orchestrators.kubeflow_v2_dag_runner import compile_kubeflow

    started = time.perf_counter()
    user, db, db_password = canary_db
    token = f"CanaryToken-{uuid.uuid4().hex}"
    canaries = [db_password, token]
    mod = write_module(PIPELINE, "secrets_pipeline")
    root = tmp_path / "root"
    config = mysql_metadata_connection_config("127.0.0.1", 3306, db, user, db_password)
    monkeypatch.setenv(SECRET_ENV, token)
    monkeypatch.delenv("MYSQL_PWD", raising=False)
    places: dict[str, list[str]] = {}

    pipeline = mod.create_pipeline(str(root), config, SECRET_ENV, runtime_image)
    ir = compile_pipeline(pipeline)
    places["compiled IR"] = _leaks(ir.dump(), canaries)
    kfp_file = compile_kubeflow(ir, str(tmp_path / "kfp" / "pipeline.yaml"))
    places["Kubeflow file"] = _leaks(Path(kfp_file).read_text(), canaries)
    dags = tmp_path / "dags"
    write_dag(pipeline, str(dags))
    places["Airflow dags folder"] = _files_leaking(dags, canaries)

    # runs in both executor modes (worker processes, in process); the secret reaches the step
    modes = ["process", "inprocess"][: trials(2, 1)]
    digest = hashlib.sha256(token.encode()).hexdigest()
    not_delivered = 0
    run_ids = []
    for mode in modes:
        result = LocalDagRunner(executor_mode=mode, quiet=True).run(pipeline)
        run_ids.append(result.run_id)
        for node in ("call_api", "login", "call_api_in_image", "container"):
            [uri] = result.nodes[node].outputs["digest"]
            not_delivered += Path(uri).read_text() != digest

    # a missing variable fails the step with a message naming it, and nothing LIVE
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(PipelineRunError) as failed:
        LocalDagRunner(quiet=True).run(mod.create_pipeline(str(root), config, SECRET_ENV))
    missing_named = SECRET_ENV in str(failed.value) and "not set" in str(failed.value)
    monkeypatch.setenv(SECRET_ENV, token)

    dump = subprocess.run(
        ["mysqldump", "-uroot", "--skip-comments", db], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    places["ML Metadata (mysqldump of every table)"] = _leaks(dump, canaries)
    places["pipeline root (artifacts, logs, reports)"] = _files_leaking(root, canaries)

    # another process (an Airflow worker, the CLI) gets the password from MYSQL_PWD, never from a file
    env = {**os.environ, "MYSQL_PWD": db_password}
    store = f"mysql://{user}@127.0.0.1:3306/{db}"
    cli_out = ""
    for args in (["runs", "list"], ["runs", "show", run_ids[0]], ["runs", "show", run_ids[0], "--json"]):
        cmd = [*HEADRACE, *args, "--metadata", store]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        cli_out += p.stdout + p.stderr
    places["headrace runs list/show output"] = _leaks(cli_out, canaries)
    opened_from_dag_ir = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from headrace.compiler import load; from headrace.orchestrators.base_runner import open_store;"
            "ir = load(open(sys.argv[1]).read()); open_store(ir); print('opened')",
            str(dags / "secrets.ir.json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    captured = capfd.readouterr()
    places["test process stdout/stderr"] = _leaks(captured.out + captured.err, canaries)

    violations = sum(len(v) for v in places.values()) + not_delivered + (not missing_named)
    violations += opened_from_dag_ir.returncode != 0
    figure = (
        f"{len(canaries)} canaries (MariaDB password, Secret parameter) x {len(places)} places, "
        f"{len(modes)} executor mode(s), steps in process, in workers, in an image and as a container command: "
        f"{sum(len(v) for v in places.values())} leaks"
    )
    record(
        9,
        "Secrets",
        len(canaries) * len(places),
        "canary password in mysql_metadata_connection_config; canary in a Secret(...) parameter of a function "
        "and of a custom component",
        violations,
        figure,
        {
            "places": {k: v for k, v in places.items()},
            "executor_modes": modes,
            "secret_delivered_to_steps": not not_delivered,
            "missing_variable_error_names_it": missing_named,
            "store_opened_from_dag_ir_with_MYSQL_PWD": opened_from_dag_ir.returncode == 0,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    assert opened_from_dag_ir.returncode == 0, opened_from_dag_ir.stderr
    assert not not_delivered, "a step did not receive its Secret parameter's value"
    assert missing_named, f"a missing Secret variable's error does not name it: {failed.value}"
    assert violations == 0, f"canaries found in: { {k: v for k, v in places.items() if v} }"
