"""The torch wall: nothing outside ``skmer.models`` imports torch or skorch.

- A fresh interpreter in which torch and skorch cannot be imported imports
  ``skmer`` and every module outside ``skmer.models``, runs real preprocessing,
  and gets a clear message for the one flow method that needs torch (``"raft"``).
- Every ``.py`` file under ``skmer/`` outside ``skmer/models`` is read with
  :mod:`ast`: no ``import torch`` / ``from torch ...`` / ``import skorch`` /
  ``from skorch ...``, not even an indented (lazy) one, and no
  ``importlib.import_module("torch")``.
- With torch installed, ``FlowExtractor("raft")`` works in a fresh interpreter that
  never imported ``skmer.models`` (the flow registry imports it on demand).
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import skmer

PACKAGE_DIR = Path(skmer.__file__).resolve().parent
MODELS_DIR = PACKAGE_DIR / "models"
FORBIDDEN = ("torch", "skorch")

# Run in a fresh interpreter: a finder first on sys.meta_path refuses torch and
# skorch (and their submodules), as if they were not installed.
_BLOCK = """
import importlib.abc
import sys

BLOCKED = ("torch", "skorch")


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)",
                                      name=name)
        return None


sys.meta_path.insert(0, _Blocker())
for mod in list(sys.modules):
    if mod.split(".")[0] in BLOCKED:
        del sys.modules[mod]
"""

_WITHOUT_TORCH = """
import importlib
import pkgutil

import numpy as np

import skmer


def walk(package):
    # pkgutil.walk_packages would import skmer.models to look inside it: recurse
    # by hand and never enter skmer.models
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name == "skmer.models" or info.name.startswith("skmer.models."):
            continue
        module = importlib.import_module(info.name)
        yield info.name
        if info.ispkg:
            yield from walk(module)


names = list(walk(skmer))
assert {"skmer.preprocessing", "skmer.datasets", "skmer.features",
        "skmer.utils"} <= set(names), names
assert not any(m.split(".")[0] in BLOCKED for m in sys.modules)
assert "skmer.models" not in sys.modules

from skmer.preprocessing import AmplifiedFlow, FlowExtractor, optical_flow

rng = np.random.default_rng(0)
frames = rng.integers(0, 256, size=(4, 24, 24), dtype=np.uint8)
frames[2:] = np.roll(frames[0], 1, axis=1)  # the content moves right
flow = FlowExtractor("farneback").fit_transform([frames])
assert flow.shape == (1, 3, 24, 24) and np.isfinite(flow).all(), flow.shape
amplified = AmplifiedFlow(alphas=(0.0, 2.0), method="farneback").fit_transform(
    [frames])
assert amplified.shape == (1, 2, 3, 24, 24), amplified.shape

for attempt in (
    lambda: FlowExtractor("raft").fit([frames]),
    lambda: FlowExtractor("raft", flow_params={"weights": "raft.pth"}).fit([frames]),
    lambda: optical_flow(frames[0], frames[1], "raft", weights="raft.pth"),
    lambda: AmplifiedFlow(method="raft", raft_weights="raft.pth").fit([frames]),
):
    try:
        attempt()
    except ImportError as exc:
        message = str(exc)
        assert "torch" in message and "pip install torch" in message, message
    else:
        raise AssertionError("method='raft' without torch did not raise")
assert "skmer.models" not in sys.modules
assert not any(m.split(".")[0] in BLOCKED for m in sys.modules)
print("walked", len(names), "modules")
"""

_RAFT_ON_DEMAND = """
import sys

import numpy as np

from skmer.preprocessing import FlowExtractor

assert "skmer.models" not in sys.modules and "torch" not in sys.modules
rng = np.random.default_rng(0)
frames = rng.integers(0, 256, size=(3, 32, 32), dtype=np.uint8)
ext = FlowExtractor("raft", flow_params={"weights": sys.argv[1], "iters": 1},
                    strain=False)
out = ext.fit_transform([frames])
assert out.shape == (1, 2, 32, 32) and np.isfinite(out).all(), out.shape
assert "skmer.models" in sys.modules
"""


def _run(code, *args):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env,
                          cwd=PACKAGE_DIR.parent)


def test_everything_outside_models_works_without_torch():
    proc = _run(textwrap.dedent(_BLOCK) + textwrap.dedent(_WITHOUT_TORCH))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "walked" in proc.stdout


def test_the_blocker_really_blocks_torch():
    proc = _run(textwrap.dedent(_BLOCK) + "import skmer.models\n")
    assert proc.returncode != 0
    assert "blocked" in proc.stderr


def _forbidden_imports(path):
    """(line, text) of every torch/skorch import in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ast.unparse(node.func) in ("importlib.import_module",
                                             "import_module", "__import__")):
            names = [node.args[0].value]
        else:
            continue
        if any(name.split(".")[0] in FORBIDDEN for name in names):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_torch_or_skorch_import_outside_models():
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if MODELS_DIR in path.parents:
            continue
        for line, text in _forbidden_imports(path):
            offenders.append(f"{path.relative_to(PACKAGE_DIR)}:{line}: {text}")
    assert not offenders, (
        "torch/skorch imported outside skmer/models (go through skmer.models "
        f"instead): {offenders}")


def test_the_scan_finds_lazy_imports(tmp_path):
    path = tmp_path / "lazy.py"
    path.write_text(textwrap.dedent("""
        import numpy as np


        def f():
            import torch.nn as nn
            from skorch import NeuralNet
            from torch.utils import data
            import importlib
            return importlib.import_module("torch")
        """), encoding="utf-8")
    found = [text for _, text in _forbidden_imports(path)]
    assert found == ["import torch.nn as nn", "from skorch import NeuralNet",
                     "from torch.utils import data",
                     "importlib.import_module('torch')"], found


def test_raft_flow_without_importing_models_first(tmp_path):
    import torch

    from skmer.models.nets.raft import RAFT

    torch.manual_seed(0)
    weights = tmp_path / "raft_small_random.pth"
    torch.save(RAFT("small").state_dict(), weights)
    proc = _run(textwrap.dedent(_RAFT_ON_DEMAND), weights)
    assert proc.returncode == 0, proc.stdout + proc.stderr
