"""Errors a user can cause. The CLI prints their message on one line and exits 1 (2 for a UsageError).

Every message names the file, row or value at fault and says what to do.
Anything else that escapes is a privbench bug and keeps its traceback.
"""


def describe_exception(error: BaseException) -> str:
    """`Type: message (at file.py:line)`: an exception from code that is not privbench's own
    (a submission's), named with the innermost place it was raised."""
    import traceback
    from pathlib import Path

    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


class PrivbenchError(Exception):
    """A mistake in the user's input or environment, explained in one line."""


class UsageError(PrivbenchError):
    """A command line that names something privbench does not have (a budget, a corpus, a folder of
    records): the CLI exits 2, as click does for an unknown option or choice."""


class ProtocolError(PrivbenchError):
    """benchmark/protocol.toml or a split file is missing or malformed."""


class CorpusError(PrivbenchError):
    """A corpus, its manifest, its labels or its audio cannot be used as given."""


class CorpusNameError(CorpusError, UsageError):
    """A corpus name that is not valid, or that names no corpus privbench knows or has prepared."""


class FeatureError(PrivbenchError):
    """Audio or word vectors that cannot become the protocol's features."""


class SubmissionError(PrivbenchError):
    """A submission folder, its submission.toml, or its encoder breaks the interface."""


class SetupRefused(PrivbenchError):
    """An encoder cannot take this setup (for example priv-e with one stream).

    Encoders raise it from `__init__`; the evaluator skips the setup when the
    user did not ask for it by name, and reports it in one line when they did.
    """
