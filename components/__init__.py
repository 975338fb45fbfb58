"""Standard components. Importing this package imports no TensorFlow, TFDV, Beam or pyarrow:
each executor imports what it needs when it runs."""

from headrace.components.example_gen import CsvExampleGen, FileBasedExampleGen, ImportExampleGen

__all__ = ["CsvExampleGen", "FileBasedExampleGen", "ImportExampleGen"]
