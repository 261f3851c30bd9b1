"""A run's status, one set for the whole package: where the run is in its life, and what that status tells."""

from __future__ import annotations

from enum import StrEnum

from .i18n import N_, _


class RunStatus(StrEnum):
    """Each value is also the plain string run.json keeps (a StrEnum compares and hashes as its string)."""

    QUEUED = "queued"            # stored, waiting for a place
    RUNNING = "running"          # its owner process is training it
    COMPLETED = "completed"      # trained every epoch it planned (or stopped early by its own early stopping)
    STOPPED = "stopped"          # a person stopped it: a partial run, evaluated as it stood
    DIVERGED = "diverged"        # the loss blew up and training stopped itself
    FAILED = "failed"            # an error ended it
    INTERRUPTED = "interrupted"  # its process or worker went away while it was queued or training

    @property
    def in_progress(self) -> bool:
        return self in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def has_model(self) -> bool:
        """Finished with a trained model that was evaluated on the test set."""
        return self in (RunStatus.COMPLETED, RunStatus.STOPPED, RunStatus.DIVERGED)

    @property
    def is_outcome(self) -> bool:
        """Trained as its spec says, to its end: what reproduces an experiment (a diverged run is the report's MLP 9;
        a stopped one is not what the spec asked for)."""
        return self in (RunStatus.COMPLETED, RunStatus.DIVERGED)

    @property
    def went_wrong(self) -> bool:
        return self in (RunStatus.FAILED, RunStatus.INTERRUPTED)


STATUS_NAMES = {RunStatus.QUEUED: N_("queued"), RunStatus.RUNNING: N_("running"), RunStatus.COMPLETED: N_("completed"),
                RunStatus.STOPPED: N_("stopped"), RunStatus.DIVERGED: N_("diverged"), RunStatus.FAILED: N_("failed"),
                RunStatus.INTERRUPTED: N_("interrupted")}


def status_name(status: str) -> str:
    """A status as a person reads it, in their language (run.json keeps the English word)."""
    return _(STATUS_NAMES.get(status, status))
