"""Shared test set-up."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # tests/schema_cases.py


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """The tests train tiny models: one thread is as fast, and far faster when other
    jobs share the CPU. (Chapter notebooks run in their own kernels, unaffected.)"""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def committed_book(tmp_path_factory):
    """The HTML book from the committed outputs (tools/build_committed.py), built once per test session for
    every test that reads it (the book test and the browser test). Returns ``(returncode, output, html)``."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("build_committed", root / "tools" / "build_committed.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path_factory.mktemp("book")
    proc = tool.build(out, quiet=True)
    return proc.returncode, (proc.stdout or "")[-4000:] + (proc.stderr or "")[-4000:], out / "_build" / "html"
