"""control-memoriser's canary, as the control computes it and as scripts/memoriser_canaries.py reuses it."""

import sys

import numpy as np
import pytest

from conftest import REPO, load_script
from privbench.encoders.submission import load_encoder_class, read_submission
from privbench.protocol import get_protocol


@pytest.fixture(autouse=True)
def this_clone(monkeypatch):
    """The control lives in this clone (other tests point PRIVBENCH_ROOT at a bare temporary one)."""
    monkeypatch.setenv("PRIVBENCH_ROOT", str(REPO))


MEMORY = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])  # four training recordings in a 2-d space


def test_the_canary_skips_the_utterance_itself_and_averages_its_nearest_others():
    canary = load_script("memoriser_canaries").canary
    trained, unseen = MEMORY[:1], np.array([[0.0, 2.0]])
    # the training recording at the origin: its nearest others are at 1 and 5, never itself at 0
    assert np.allclose(canary("recordings-2", trained, MEMORY, None), [-(1.0 + 5.0) / 2 / np.sqrt(2)])
    # counted, itself is a distance of 0 among the 2
    assert np.allclose(canary("recordings-with-self-2", trained, MEMORY, None), [-(0.0 + 1.0) / 2 / np.sqrt(2)])
    # an unseen utterance has no twin: its 2 nearest are at 1 and 2
    assert np.allclose(canary("recordings-2", unseen, MEMORY, None), [-(1.0 + 2.0) / 2 / np.sqrt(2)])
    # the first canary: the nearest speaker's centroid (speaker a: the origin and (0, 1); b: the other two)
    assert np.allclose(canary("centroid", unseen, MEMORY, np.array(["a", "b", "b", "a"])), [-1.5 / np.sqrt(2)])


def test_the_script_uses_the_controls_own_function():
    control = load_encoder_class(read_submission(REPO / "controls" / "control-memoriser", get_protocol()))
    assert load_script("memoriser_canaries").control_canary() is sys.modules[control.__module__].recordings_canary
