"""The container entrypoint: runs one task of one IR node inside an image.

    python -m headrace.entrypoint execute TASK_FILE RESULT_FILE

TASK_FILE is the pickled `ExecutionTask` the runner wrote (artifact folders are mounted at the
paths it names); the executor's result is pickled to RESULT_FILE. It imports only what the task's
executor imports, and exits 0 when the result was written (a failed executor is a result too).
"""

from __future__ import annotations

import pickle
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "execute":
        print("usage: python -m headrace.entrypoint execute TASK_FILE RESULT_FILE", file=sys.stderr)
        return 2
    from headrace.launcher.executor_runner import run_task

    _, task_file, result_file = argv
    with open(task_file, "rb") as f:
        task = pickle.load(f)
    result = run_task(task)
    if not result.ok:
        print(result.traceback or f"{result.error_type}: {result.message}", file=sys.stderr)
    with open(result_file, "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
