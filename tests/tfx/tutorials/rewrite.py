"""Copy TFX's penguin tutorials here with the import rewrite and a local data path (see README.md).

usage: python tests/tfx/tutorials/rewrite.py PATH/TO/tfx/docs/tutorials/tfx
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
TUTORIALS = ("penguin_simple", "penguin_tfdv", "penguin_tfma")
TFX_DATA_URL = (
    "_data_url = 'https://raw.githubusercontent.com/tensorflow/tfx/master/tfx/examples/penguin/data/labelled/"
    "penguins_processed.csv'"
)
LOCAL_DATA_URL = "_data_url = 'file://' + os.path.abspath('penguins_processed.csv')  # headrace: a local copy"


def rewrite(source: str) -> str:
    """The mechanical rewrite: `tfx` imports become `headrace.tfx` imports; the data comes from a local file."""
    source = re.sub(r"^(\s*)from tfx([ .])", r"\1from headrace.tfx\2", source, flags=re.MULTILINE)
    source = re.sub(r"^(\s*)import tfx\b", r"\1import headrace.tfx", source, flags=re.MULTILINE)
    return source.replace(TFX_DATA_URL, LOCAL_DATA_URL)


def main(tfx_tutorials: Path) -> None:
    for name in TUTORIALS:
        notebook = nbformat.read(tfx_tutorials / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = rewrite(cell.source)
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
