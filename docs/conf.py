"""Sphinx configuration for leaky's documentation.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).
Plots are drawn by matplotlib at build time (never committed as images);
code blocks with ``>>>`` run as doctests under pytest.
"""

import leaky

project = "leaky"
author = "the leaky developers"
copyright = "2026, the leaky developers"
version = release = leaky.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

html_theme = "pydata_sphinx_theme"
html_title = f"leaky {release}"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": True}

exclude_patterns = ["_build", "_measured.rst"]
intersphinx_mapping = {}
nitpicky = False
