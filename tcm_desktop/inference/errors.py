"""Error types of the inference layer (all derive from the domain's TcmError)."""

from __future__ import annotations

from tcm_desktop.domain.errors import TcmError


class BundleError(TcmError):
    """A model bundle is missing, incomplete, altered or inconsistent.

    ``path`` names the file at fault (None when the bundle as a whole is),
    so the message shown to the user can point at it.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class PipelineError(TcmError):
    """Inference failed on input the pipeline was given (or the runtime refused it)."""


class PredictionCancelled(PipelineError):
    """``should_stop`` asked the pipeline to stop; no partial results are returned."""


class LexiconError(TcmError):
    """The lexicon file is missing or malformed."""
