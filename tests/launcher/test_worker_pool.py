"""The executor worker pool: reuse, affinity, crash replacement."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from headrace.launcher.task import ExecutionTask
from headrace.launcher.worker import WorkerPool

PIDS = """
import os, time
from headrace import component, OutputDict

@component
def Pid() -> OutputDict(pid=int):
    time.sleep(0.1)  # long enough that two tasks submitted together are in flight together
    return {'pid': os.getpid()}

@component
def Die() -> OutputDict(pid=int):
    os._exit(3)
"""

SLOW = """
import os, time
from headrace import component, OutputDict

@component
def SlowPid() -> OutputDict(pid=int):
    time.sleep(0.4)
    return {'pid': os.getpid()}
"""


def _task(mod, name: str, tmp_path) -> ExecutionTask:
    from headrace.dsl.user_code import ship

    out = tmp_path / name
    return ExecutionTask(
        node_id=name,
        executor={"kind": "python_function", **ship(getattr(mod, name).FUNCTION, name)},
        input_dict={},
        output_dict={"pid": [{"type_name": "Integer", "id": 1, "uri": str(out), "state": "PENDING"}]},
        exec_properties={},
        pipeline_name="p",
        pipeline_root=str(tmp_path),
        run_id="r",
        execution_id=1,
        tmp_dir=str(tmp_path / "tmp"),
    )


def test_workers_are_reused_preferring_one_that_ran_the_module_and_a_dead_one_is_replaced(write_module, tmp_path):
    mod = write_module(PIDS, name="pids")
    slow_mod = write_module(SLOW, name="slow_pids")
    pool = WorkerPool(2)
    try:
        pool.prestart(2)
        # Both workers busy at once; the other module's task finishes last, so it is the idle
        # worker a plain LIFO pool would hand out next.
        with ThreadPoolExecutor(2) as threads:
            fast = threads.submit(pool.run, _task(mod, "Pid", tmp_path))
            slow = threads.submit(pool.run, _task(slow_mod, "SlowPid", tmp_path))
            first, other = fast.result(), slow.result()
        pid = first.output_dict["pid"][0]["value"]
        assert first.ok and other.ok and other.output_dict["pid"][0]["value"] != pid
        second = pool.run(_task(mod, "Pid", tmp_path))
        assert second.output_dict["pid"][0]["value"] == pid  # the worker that already imported the module
        died = pool.run(_task(mod, "Die", tmp_path))
        assert not died.ok and died.error_type == "ExecutorProcessDied" and "exited with code 3" in died.message
        again = pool.run(_task(mod, "Pid", tmp_path))
        assert again.ok  # a fresh worker took the dead one's place
    finally:
        pool.close()


def test_a_worker_group_goes_to_the_worker_that_ran_the_group(write_module, tmp_path):
    """TFDV's three steps live in three modules but share a group: one worker (one TensorFlow
    import) runs them all, even when the worker that ran another module is the last one idle."""
    mod = write_module(PIDS, name="group_pids")
    slow_mod = write_module(SLOW, name="group_slow_pids")
    grouped = _task(mod, "Pid", tmp_path)
    grouped.executor["worker_group"] = "tensorflow"
    pool = WorkerPool(2)
    try:
        pool.prestart(2)
        with ThreadPoolExecutor(2) as threads:
            fast = threads.submit(pool.run, grouped)
            slow = threads.submit(pool.run, _task(slow_mod, "SlowPid", tmp_path))
            pid = fast.result().output_dict["pid"][0]["value"]
            assert slow.result().ok
        other_module = _task(slow_mod, "SlowPid", tmp_path)  # a different module, same group
        other_module.executor["worker_group"] = "tensorflow"
        assert pool.run(other_module).output_dict["pid"][0]["value"] == pid
    finally:
        pool.close()
