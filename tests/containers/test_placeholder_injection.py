"""Property test: adversarial parameter values reach the container's argv byte for byte.

Each Hypothesis example is one run of a container component with 100 string parameters (so a few
thousand values in all): shell metacharacters, quotes, newlines, `$(...)`, backticks, other
placeholders' text (headrace's IR, KFP's `{{$.inputs...}}`), mixed into arbitrary Unicode. The
container writes its argv NUL-separated to its output; every value must come back unchanged, and
a canary file that any injected command would create (in a folder mounted into the container, so
an injection inside or outside it would show) must never appear.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headrace import Pipeline
from headrace.dsl import placeholders
from headrace.dsl.container_component import create_container_component
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts

N = 100
CANARY_DIR = Path(tempfile.mkdtemp(prefix="headrace-canary-"))
CANARY = CANARY_DIR / "pwned"
INJECTIONS = [
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f"; touch {CANARY}",
    f"&& touch {CANARY} &&",
    f"| touch {CANARY}",
    f"\ntouch {CANARY}\n",
    f"'; touch {CANARY}; '",
    f'"; touch {CANARY}; "',
    f"$(sh -c 'touch {CANARY}')",
    '{"placeholder": "output_uri", "name": "out"}',
    '{"placeholder": "input_value", "name": "p1"}',
    "{{$.inputs.parameters['p1']}}",
    "{{$.outputs.artifacts['out'].path}}",
    "InputValuePlaceholder('p1')",
    "$0 $1 $@ $* ${HOME} $$ $?",
    "%s %d %n \\0 \\x41 \\\\",
    "-e",
    "--",
    "*",
    "~root",
    "",
    " ",
    "\t\r\n",
    "é中文🙂",
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
VALUE = st.one_of(TEXT, st.sampled_from(INJECTIONS), st.tuples(TEXT, st.sampled_from(INJECTIONS), TEXT).map("".join))


def _echo_component(image: str) -> type:
    names = [f"p{i}" for i in range(N)]
    return create_container_component(
        name="EchoArgv",
        outputs={"out": standard_artifacts.ExternalArtifact},
        parameters={name: str for name in names},
        image=image,
        command=[
            "sh",
            "-c",
            'out="$0"; mkdir -p "$out"; for a in "$@"; do printf "%s\\0" "$a"; done > "$out/argv"',
            placeholders.OutputUriPlaceholder("out"),
            *[placeholders.InputValuePlaceholder(name) for name in names],
            placeholders.ConcatPlaceholder(["pre:", placeholders.InputValuePlaceholder("p0"), ":post"]),
            "--sep=" + placeholders.exec_property("p1"),
        ],
    )


def test_adversarial_parameter_values_arrive_byte_for_byte_and_inject_nothing(runtime_image):
    EchoArgv = _echo_component(runtime_image)
    mount = {str(CANARY_DIR): {"bind": str(CANARY_DIR), "mode": "rw"}}
    seen = []

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(values=st.lists(VALUE, min_size=N, max_size=N))
    def check(values: list[str]) -> None:
        with tempfile.TemporaryDirectory() as root:
            node = EchoArgv(**{f"p{i}": v for i, v in enumerate(values)}).with_platform_config({"volumes": mount})
            pipeline = Pipeline("argv", root, [node], enable_cache=False)
            result = LocalDagRunner(quiet=True, raise_on_failure=False).run(pipeline)
            assert result.succeeded, result.nodes["EchoArgv"].error
            argv = Path(result.nodes["EchoArgv"].outputs["out"][0], "argv").read_bytes().split(b"\0")[:-1]
        expected = [v.encode() for v in values] + [f"pre:{values[0]}:post".encode(), f"--sep={values[1]}".encode()]
        assert argv == expected
        assert not CANARY.exists(), f"an injected command ran: {CANARY}"
        seen.extend(values)

    check()
    assert len(seen) >= 2500  # a few thousand values went through real containers
    assert any("$(touch" in v for v in seen) and any("{{$." in v for v in seen)
    assert not CANARY.exists()
