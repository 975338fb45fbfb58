"""What the pages read, and how: read-only ML Metadata handles in a small pool, and the per-run facts
that never change once a run exists (its IR), cached.

Every read goes through headrace's own read layer (`headrace.metadata.MetadataReader`, the launcher's
outcome rule); nothing here writes. A SQLite store is opened read-only (`read_only_connection_config`):
no schema creation or migration, no write lock, and under WAL a reader never blocks a writer. Each
ML Metadata call is its own short read transaction.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import threading
from collections.abc import Iterator
from typing import Any

from headrace.compiler.ir import PipelineIR
from headrace.launcher import load_run_ir
from headrace.metadata import Metadata, MetadataReader, read_only_connection_config
from headrace.metadata.config import describe
from headrace.metadata.values import get_value

_POOL_SIZE = 4  # ML Metadata handles are not thread-safe: one per request thread, at most this many
_IR_CACHE = 64  # full IRs kept (a run page's); node counts are kept for every run seen


class Store:
    """The UI's view of one ML Metadata store."""

    def __init__(self, config: Any, pool_size: int = _POOL_SIZE):
        self.config = read_only_connection_config(config)
        self._free: queue.LifoQueue[Metadata] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._lock = threading.Lock()
        self._irs: collections.OrderedDict[str, PipelineIR] = collections.OrderedDict()
        self._node_counts: dict[str, int] = {}

    def describe(self) -> str:
        """Where the store is (no password)."""
        return describe(self.config)

    def check(self) -> None:
        """Opens one handle now, so that a store that cannot be read fails at start, not on a first page."""
        with self.reader():
            pass

    @contextlib.contextmanager
    def reader(self) -> Iterator[MetadataReader]:
        """A reader on a pooled handle, for the duration of one request."""
        with self._slots:
            try:
                md = self._free.get_nowait()
            except queue.Empty:
                md = Metadata(self.config)
            try:
                yield MetadataReader(md)
            finally:
                self._free.put(md)

    def run_ir(self, reader: MetadataReader, run_id: str) -> PipelineIR:
        """The IR run `run_id` was started with (it never changes, so it is cached)."""
        with self._lock:
            ir = self._irs.get(run_id)
            if ir is not None:
                self._irs.move_to_end(run_id)
                return ir
        ir = load_run_ir(reader.md, run_id)
        with self._lock:
            self._irs[run_id] = ir
            self._node_counts[run_id] = len(ir.nodes)
            while len(self._irs) > _IR_CACHE:
                self._irs.popitem(last=False)
        return ir

    def node_count(self, reader: MetadataReader, run_id: str) -> int:
        """How many nodes run `run_id`'s pipeline has."""
        found = self._node_counts.get(run_id)
        return found if found is not None else len(self.run_ir(reader, run_id).nodes)

    def producer_run(self, reader: MetadataReader, artifact_id: int) -> str | None:
        """The run whose execution first output the artifact (its producer), or None (an artifact
        no execution output)."""
        md = reader.md
        events = md.call(md.store.get_events_by_artifact_ids, [artifact_id])
        producers = sorted(e.execution_id for e in events if e.type == md.pb.Event.OUTPUT)
        if not producers:
            return None
        [execution] = md.call(md.store.get_executions_by_id, [producers[0]])
        found = execution.custom_properties.get("run_id")
        return str(get_value(found)) if found is not None else None

    def pipeline_root(self, reader: MetadataReader, run_id: str) -> str:
        """The pipeline root run `run_id` wrote under, resolved (symlinks followed)."""
        return os.path.realpath(self.run_ir(reader, run_id).pipeline_root)
