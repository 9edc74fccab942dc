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
