"""Every example in the package's docstrings runs and shows what it says.

CI runs plain pytest (without ``--doctest-modules``), so the examples are run
here, module by module. Examples marked ``+SKIP`` need a store or a notebook
session and are left out by doctest itself.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import analyzer

MODULES = ["analyzer", *sorted(name for _, name, _ in
                               pkgutil.iter_modules(analyzer.__path__, "analyzer.")
                               if name != "analyzer.__main__")]


def test_every_module_is_listed() -> None:
    assert "analyzer.parse" in MODULES and "analyzer.cases" in MODULES
    assert len(MODULES) == 42


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
