"""Shared by the benchmarks: torch's thread count for one test, restored afterwards."""

import pytest
import torch


@pytest.fixture
def threads(request):
    """Parametrise indirectly with the thread count a benchmark runs under."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)
