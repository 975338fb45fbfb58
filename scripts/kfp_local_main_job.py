"""The parts of the compiled main job (pipelines/penguin) that kfp's local runner can execute, run under it.

    EXTRAS=tf,data bash containers/build.sh          # the runtime image with TensorFlow and TFDV
    .venv/bin/python scripts/kfp_local_main_job.py [WORKDIR]

Compiles the main job for Kubeflow with the image headrace-runtime:latest-tf-data, keeps the tasks
kfp.local can run (orchestrators/_kfp_local.py: not the two resolver queries, not the Pusher under its
Cond) and runs them with kfp.local's DockerRunner. DockerRunner mounts only the pipeline root, so the
data and the trainer module are copied under it. Prints each task's outputs folder and the blessing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time

from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_pipeline
from headrace.orchestrators._kfp_local import run_package_locally, runnable_part
from headrace.orchestrators.kubeflow_v2_dag_runner import KubeflowV2DagRunnerConfig, compile_kubeflow

HERE = os.path.dirname(os.path.abspath(__file__))
PENGUIN = os.path.join(HERE, "..", "pipelines", "penguin")
IMAGE = "headrace-runtime:latest-tf-data"


def main(workdir: str) -> int:
    root = os.path.join(workdir, "kfp")  # kfp.local's pipeline root: the one folder its containers see
    os.makedirs(root, exist_ok=True)
    shutil.copytree(os.path.join(PENGUIN, "data", "processed"), os.path.join(root, "data"), dirs_exist_ok=True)
    shutil.copy(os.path.join(PENGUIN, "penguin_trainer.py"), root)
    module = load_file_as_module(os.path.join(PENGUIN, "pipeline.py"))
    pipeline = module.create_pipeline(
        data=os.path.join(root, "data"),
        root=os.path.join(root, "penguin"),
        module_file=os.path.join(root, "penguin_trainer.py"),
    )
    config = KubeflowV2DagRunnerConfig(default_image=IMAGE)
    package = compile_kubeflow(compile_pipeline(pipeline), os.path.join(workdir, "penguin.yaml"), config=config)
    part = os.path.join(workdir, "penguin-kfp-local.yaml")
    left_out = runnable_part(package, part)
    print(f"left out (kfp.local cannot run them): {', '.join(left_out)}")
    start = time.perf_counter()
    run_dir = run_package_locally(part, root)
    print(f"kfp.local ran {len(os.listdir(run_dir))} tasks in {time.perf_counter() - start:.0f} s: {run_dir}")
    with open(os.path.join(run_dir, "evaluator", "executor_output.json"), encoding="utf-8") as f:
        [blessing] = json.load(f)["artifacts"]["blessing"]["artifacts"]
    print(f"Evaluator (no baseline: the resolver did not run): {blessing['metadata']['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="kfp-local-penguin-")))
