"""Errors a user can act on. Each message says what is wrong and what to do; the CLI prints
it as one line and the pages show it, so none of them needs a traceback."""


class DomainError(ValueError):
    """Base for every refusal the domain layer makes."""


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class DuplicateEvidence(InvalidInput):
    """The same file (same SHA-256) is already evidence for this recommendation; where it is."""

    def __init__(self, message: str, *, recommendation: str, evidence: str, filename: str):
        super().__init__(message)
        self.recommendation, self.evidence, self.filename = recommendation, evidence, filename


class StaleVersion(DomainError):
    """Someone else saved first. ``changes`` maps field -> (their before, their after)."""

    def __init__(self, message: str, *, changed_by: str, changed_at, changes: dict, current_version: int):
        super().__init__(message)
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.changes = changes
        self.current_version = current_version


class StorageError(DomainError):
    """The store could not save: disk full, read-only, or the database connection was lost.

    The message says whether anything was saved and what to do; the driver's own words follow
    in brackets for whoever runs the server."""
