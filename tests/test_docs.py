"""Fast checks of the documentation sources (the full build is ``sphinx-build``).

* every gallery example compiles, has a title docstring and imports only what is
  installed (the examples themselves run in the docs build);
* the API reference lists every public name of every subpackage's ``__all__``;
* ``tools/check_docs.py`` finds broken links, anchors and images in a tiny
  hand-made HTML tree, and passes a clean one.
"""

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").rglob("plot_*.py"))

PUBLIC_MODULES = [
    "skmer.datasets",
    "skmer.preprocessing",
    "skmer.features",
    "skmer.metrics",
    "skmer.model_selection",
    "skmer.io",
    "skmer.predict",
    "skmer.plotting",
    "skmer.spotting",
    "skmer.recipes",
    "skmer.models",
    "skmer.models.nets",
    "skmer.utils",
    "skmer.utils.estimator_checks",
    "skmer.cli",
]


def _check_docs_module():
    spec = importlib.util.spec_from_file_location(
        "check_docs", ROOT / "tools" / "check_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_at_least_six_gallery_examples():
    assert len(EXAMPLES) >= 6, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gallery_example_compiles_and_imports(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    compile(tree, str(path), "exec")
    doc = ast.get_docstring(tree)
    assert doc, f"{path.name}: sphinx-gallery needs a docstring with a title"
    lines = doc.strip().splitlines()
    title = lines[1].strip()
    assert set(lines[0]) == {"="} and title and set(lines[2]) == {"="}, (
        f"{path.name}: the docstring must start with an over- and underlined title")
    assert len(lines[0]) >= len(title) and len(lines[2]) >= len(title), (
        f"{path.name}: the title's over- and underline are shorter than the title")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert importlib.util.find_spec(top) is not None, (
                f"{path.name} imports {name}, which is not installed")
            if node.__class__ is ast.ImportFrom:
                module = importlib.import_module(name)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{name}.{alias.name}"), f"{path.name}: {name}.{alias.name}"


def _documented_names():
    """(currentmodule, name) pairs of the autosummary entries of api.rst."""
    current, in_autosummary, found = None, False, set()
    for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            current = m.group(1)
        elif line.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and line.strip() and not line.startswith(" "):
            in_autosummary = False
        elif in_autosummary and re.match(r"   [A-Za-z_]\w*$", line):
            found.add((current, line.strip()))
    return found


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_api_reference_lists_every_public_name(module_name):
    module = importlib.import_module(module_name)
    documented = _documented_names()
    missing = []
    for name in module.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(module, name)
        # a name re-exported by a parent package is documented once, there
        homes = {module_name, module_name.rsplit(".", 1)[0]}
        if not any((home, name) in documented and getattr(
                importlib.import_module(home), name, None) is obj for home in homes):
            missing.append(name)
    assert not missing, f"add to docs/api.rst under {module_name}: {missing}"


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_check_docs_finds_broken_links_anchors_and_images(tmp_path):
    check_docs = _check_docs_module()
    _write(tmp_path / "index.html", """<html><body>
<a href="page.html#intro">ok</a>
<a href="page.html#nowhere">bad anchor</a>
<a href="missing.html">bad link</a>
<a href="#top" id="top">self</a>
<a href="https://example.org/x.html">external, not followed</a>
<a href="sub/">folder with index</a>
<img src="img/ok.png"><img src="img/gone.png">
</body></html>""")
    _write(tmp_path / "page.html",
           '<h1 id="intro">Intro</h1><a href="index.html">up</a>')
    _write(tmp_path / "sub" / "index.html", '<a href="../page.html">x</a>')
    _write(tmp_path / "img" / "ok.png", "not really a png")
    problems, n_pages = check_docs.check_links(tmp_path)
    assert n_pages == 3
    assert len(problems) == 3, problems
    assert any("page.html#nowhere" in p and "no anchor" in p for p in problems)
    assert any("missing.html" in p and "missing file" in p for p in problems)
    assert any("img/gone.png" in p for p in problems)


def test_check_docs_passes_a_clean_tree_and_exit_codes(tmp_path, capsys):
    check_docs = _check_docs_module()
    _write(tmp_path / "index.html", '<a href="a%20b.html#x">x</a><img src="i.png">')
    _write(tmp_path / "a b.html", '<p id="x">x</p>')
    _write(tmp_path / "i.png", "png")
    assert check_docs.check_links(tmp_path) == ([], 2)
    assert check_docs.main([str(tmp_path)]) == 0
    _write(tmp_path / "broken.html", '<img src="nope.png">')
    assert check_docs.main([str(tmp_path)]) == 1
    assert "nope.png" in capsys.readouterr().out
    assert check_docs.main([str(tmp_path / "empty")]) == 2
