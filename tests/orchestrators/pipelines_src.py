"""Pipeline sources the runner tests write into temp dirs."""

HEADER = """
import os, time, json
from headrace import (BaseComponent, BaseExecutor, ChannelParameter, ComponentSpec, ExecutionParameter,
                      ExecutorClassSpec, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component)
from headrace.types import standard_artifacts
"""

HELLO = (
    HEADER
    + """
class HelloComponentSpec(ComponentSpec):
    INPUTS = {'input_data': ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {'output_data': ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {'name': ExecutionParameter(type=str)}

class Executor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        src, dst = input_dict['input_data'][0], output_dict['output_data'][0]
        with open(os.path.join(src.uri, 'rows.txt')) as f:
            rows = f.read()
        with open(os.path.join(dst.uri, 'rows.txt'), 'w') as f:
            f.write(rows + exec_properties['name'])
        dst.split_names = '["train"]'

class HelloComponent(BaseComponent):
    SPEC_CLASS = HelloComponentSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor)
    def __init__(self, input_data, name=None):
        super().__init__(spec=HelloComponentSpec(input_data=input_data, name=name))

@component
def MakeExamples(examples: OutputArtifact[standard_artifacts.Examples]):
    with open(os.path.join(examples.uri, 'rows.txt'), 'w') as f:
        f.write('abc')

@component
def Train(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model]):
    with open(os.path.join(examples.uri, 'rows.txt')) as f:
        n = len(f.read())
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(str(n))

@component
def Validate(model: InputArtifact[standard_artifacts.Model],
             blessing: OutputArtifact[standard_artifacts.ModelBlessing],
             accuracy_threshold: Parameter[int] = 10) -> OutputDict(accuracy=float):
    with open(os.path.join(model.uri, 'model.txt')) as f:
        n = int(f.read())
    blessing.set_custom_property('blessed', int(n >= accuracy_threshold))
    return {'accuracy': n / 10}

def create_pipeline(root, enable_cache=True, **kw):
    examples = MakeExamples()
    hello = HelloComponent(input_data=examples.outputs['examples'], name='xyz')
    train = Train(examples=hello.outputs['output_data'])
    validate = Validate(model=train.outputs['model'], accuracy_threshold=5)
    return Pipeline('hello', root, [validate], enable_cache=enable_cache, **kw)
"""
)

# A -> B -> C, and D independent; B fails while the file FAIL_MARKER exists.
BRANCHY = (
    HEADER
    + """
FAIL_MARKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fail_b')

@component
def A() -> OutputDict(n=int):
    return {'n': 1}

@component
def B(n: int, out: OutputArtifact[standard_artifacts.Examples]) -> OutputDict(m=int):
    with open(os.path.join(out.uri, 'partial.txt'), 'w') as f:
        f.write('half-written')
    if os.path.exists(FAIL_MARKER):
        raise ValueError('B was told to fail')
    return {'m': n + 1}

@component
def C(m: int) -> OutputDict(k=int):
    return {'k': m * 10}

@component
def D() -> OutputDict(d=str):
    time.sleep(0.3)
    return {'d': 'independent'}

def create_pipeline(root, enable_cache=False):
    a = A()
    b = B(n=a.outputs['n'])
    c = C(m=b.outputs['m'])
    return Pipeline('branchy', root, [a, b, c, D()], enable_cache=enable_cache)
"""
)
