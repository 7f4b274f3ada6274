"""Sphinx configuration of the skmer documentation.

Build (warnings are errors)::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

then check the built pages (links, images, screenshots in headless Chromium)::

    .venv/bin/python tools/check_docs.py docs/_build/html
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the skmer of this checkout, not an installed one
sys.path.insert(0, str(DOCS / "sphinxext"))

import skmer  # noqa: E402

# -- Project ---------------------------------------------------------------------------

project = "skmer"
author = "skmer developers"
copyright = "skmer developers"  # noqa: A001
release = skmer.__version__
version = ".".join(release.split(".")[:2])

# -- General ---------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples/README.rst",
                    "examples/**/README.rst"]
default_role = "literal"
# References to third-party objects (numpy, sklearn, torch, skorch) are not linked:
# the build must not need the network, so there is no intersphinx, and
# ``nitpicky`` stays off (unresolved Python references are then silent).
nitpicky = False
# No sphinx.ext.viewcode: it keeps one referring module per source module, so the
# source pages of a module whose names are documented under two public modules
# (skmer.models re-exports skmer.models.nets) link to anchors that do not exist.

# ``:doi:`10.1109/FG.2019.8756567``` in the docstrings' References sections.
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}

# -- autodoc / autosummary / numpydoc --------------------------------------------------

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- MyST (the Markdown pages) ---------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- sphinx-gallery --------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    # reading order: data, the stages, then evaluation (docs/sphinxext/)
    "within_subsection_order": "gallery_order.ExampleOrder",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skmer",),
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 1,
    "download_all_examples": False,
}

# -- HTML ------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skmer {release}"
html_static_path = []
html_show_sourcelink = False
html_context = {"default_mode": "light"}
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 4,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}

# -- The topic pages written beside this file ------------------------------------------

# Pages of docs/ that this configuration does not own (the reference pages on the
# corpora, the stages and the protocol).  They are listed in the index's "Topic
# guides" toctree in this order; any other top-level page found here is appended, and
# a page not yet written is simply left out, so the build never warns about a page
# missing from, or absent in, a toctree.
TOPIC_ORDER = ["datasets", "preprocessing", "features", "evaluation", "scale_and_save"]
OWN_PAGES = {"index", "getting_started", "api", "glossary", "sg_execution_times"}
TOPIC_MARKER = "@topic_pages@"


def topic_pages():
    """Docnames of the top-level topic pages present in docs/, in reading order."""
    found = {p.stem for p in DOCS.glob("*.md")} | {p.stem for p in DOCS.glob("*.rst")}
    found -= OWN_PAGES
    ordered = [name for name in TOPIC_ORDER if name in found]
    return ordered + sorted(found - set(ordered))


def _fill_topic_toctree(app, docname, source):
    if docname == root_doc and TOPIC_MARKER in source[0]:
        source[0] = source[0].replace(TOPIC_MARKER, "\n   ".join(topic_pages()))


def setup(app):
    app.connect("source-read", _fill_topic_toctree)
    os.environ.setdefault("SKMER_DOCS_BUILD", "1")
