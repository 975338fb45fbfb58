"""headrace packaging: framework/ is `headrace`; components/ and orchestrators/ are its subpackages."""

from setuptools import find_packages, setup

PACKAGE_DIR = {
    "headrace": "framework",
    "headrace.components": "components",
    "headrace.orchestrators": "orchestrators",
}


def packages() -> list[str]:
    """Every package under each mapped folder (a folder with an __init__.py), so a new subpackage such as
    headrace.ui.pages ships without being listed here."""
    found = []
    for name, folder in PACKAGE_DIR.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(folder) if f"{name}.{sub}" not in PACKAGE_DIR]
    return found


EXTRAS = {
    "data": [
        "tensorflow-data-validation==1.16.1",
        "tfx-bsl==1.16.1",
        "pyarrow==10.0.1",
        "apache-beam[gcp]>=2.59",
        "dill",
        "scipy",
    ],
    # tf-keras and tensorflow-transform: what TFX's tutorial module files import (Keras 2, schema_utils);
    # tensorflow-serving-api: the protos of the TF Serving model config the model registry writes.
    "tf": ["tensorflow==2.16.2", "tf-keras==2.16.0", "tensorflow-transform==1.16.0", "tensorflow-serving-api==2.16.1"],
    "beam": ["apache-beam[gcp]>=2.59", "dill"],
    "dask": ["apache-beam[dask]>=2.59"],
    "kfp": ["kfp==2.13.0"],
    # Only for TFX's form, a dags file that imports headrace (Airflow 2.10 in headrace's environment). The DAG
    # file `headrace compile --target airflow` writes needs nothing of headrace's in Airflow's (Airflow 3).
    "airflow": ["apache-airflow>=2.10,<3"],
    "docker": ["docker==7.2.0"],
    # `headrace ui`: an ASGI app (Starlette) on uvicorn, pages from Jinja2 templates. The DAG drawings use
    # Graphviz's `dot` (Debian's graphviz package: scripts/services.sh graphviz).
    "ui": ["starlette>=1.0", "uvicorn>=0.30", "jinja2>=3.1"],
    # tensorflow-model-analysis: the reference the Evaluator's metrics are checked against, and what
    # TFX's penguin_tfma tutorial imports; it pulls in a notebook stack, so it stays out of [all].
    "dev": ["pytest", "hypothesis", "ruff", "mypy", "nbclient", "nbformat", "ipykernel", "tensorflow-model-analysis==0.47.1"],
    # TFX users: what TFX code imports beside `tfx` (TFX 1.16 depends on each), at the lock's versions.
    # Not in [all]: TFMA brings a notebook stack. Left out: keras-tuner (headrace has no Tuner) and
    # scikit-learn (only TFX's experimental sklearn example).
    "tfx": [
        "absl-py>=1.4",
        "tensorflow==2.16.2",
        "tf-keras==2.16.0",
        "tensorflow-transform==1.16.0",
        "tensorflow-model-analysis==0.47.1",
        "tensorflow-data-validation==1.16.1",
        "tensorflow-metadata==1.16.1",
        "tensorflow-serving-api==2.16.1",
        "tfx-bsl==1.16.1",
        "apache-beam[gcp]>=2.59",
        "dill",
        "pyarrow==10.0.1",
    ],
}
EXTRAS["all"] = sorted({req for name, reqs in EXTRAS.items() if name not in ("dev", "airflow", "tfx") for req in reqs})

setup(
    name="headrace",
    version="0.1.0",
    description="ML pipelines with TFX's mental model, a fraction of the weight.",
    python_requires=">=3.11,<3.12",
    package_dir=PACKAGE_DIR,
    packages=packages(),
    install_requires=["ml-metadata>=1.16,<1.18", "protobuf>=4.25,<5", "pyyaml>=6", "click>=8.1", "cloudpickle>=3"],
    package_data={"headrace.ui": ["templates/*.html", "static/*"]},
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["headrace=headrace.cli.main:main"]},
)
