"""Sphinx configuration of the documentation site (``sphinx-build -W -b html docs OUT``).

The site's pages are the Markdown pages of this folder (read by myst-parser, one source each),
the README's set-up and first-pair sections (included, not copied), the concepts page (its method
and divergence sections generated from the registries), the command-line reference (generated
from the click commands) and the API reference (autodoc + numpydoc, from the docstrings).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

import transferability  # noqa: E402  (installed: ``pip install -e ".[docs]"``)

project = "transferability"
author = "the transferability developers"
copyright = "the transferability developers"
release = version = transferability.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_click",
    "transferability_docs",  # docs/_ext: the registry sections of the concepts page
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "**/.ipynb_checkpoints"]
templates_path = []

# -- Markdown pages (myst-parser) ----------------------------------------------------------------
# heading anchors let the pages' links to "page.md#a-heading" resolve, as they do on the forge
myst_heading_anchors = 4
myst_enable_extensions = ["dollarmath"]

# -- API reference (autodoc + numpydoc) ----------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the numpydoc Parameters sections carry the types
autoclass_content = "class"
numpydoc_show_class_members = False  # members are documented by autodoc, not by a numpydoc table
numpydoc_class_members_toctree = False

# -- HTML ------------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"transferability {release}"
html_static_path = []
html_theme_options = {"description": "Is this source worth transferring, and which method?",
                      "fixed_sidebar": True, "page_width": "1180px", "sidebar_width": "260px"}
