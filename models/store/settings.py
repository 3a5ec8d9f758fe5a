"""One place for configuration, read alike by the dashboard, the CLI and Alembic.

Values come from the environment (``DATABASE_URL``, ``RECTRACK_*``) or a ``.env`` file, so an
operator can point a team at PostgreSQL without touching code.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_sources_dir() -> Path | None:
    candidate = REPO_ROOT.parent / "shared" / "sources"
    return candidate if candidate.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECTRACK_", env_file=".env", extra="ignore")

    data_dir: Path = REPO_ROOT / "data"
    database_url: str = Field(
        default="", validation_alias=AliasChoices("DATABASE_URL", "RECTRACK_DATABASE_URL")
    )
    seeds_dir: Path = REPO_ROOT / "seeds"
    sources_dir: Path | None = Field(default_factory=_default_sources_dir)
    # the one upload limit: every file uploader, the server (rectrack serve passes it as
    # server.maxUploadSize; .streamlit/config.toml holds the same default), the checks and the messages
    upload_limit_mb: int = Field(default=20, ge=1)
    import_batch_rows: int = Field(default=500, ge=1)  # rows per write transaction of a long import
    import_time_budget_seconds: float = 60.0  # reading one spreadsheet may take no longer than this
    max_field_chars: int = 20_000
    allowed_upload_types: tuple[str, ...] = (
        ".pdf",
        ".png",
        ".jpg",
        ".jpeg",
        ".txt",
        ".csv",
        ".md",
        ".json",
        ".docx",
        ".xlsx",
        ".html",
    )
    banner: str = "UNCLASSIFIED"
    session_idle_minutes: int = 30
    session_max_hours: int = 12  # a browser stays signed in at most this long, however active
    lockout_threshold: int = 5  # failures of one account from one client
    client_lockout_threshold: int = 20  # failures from one client, any accounts
    account_lockout_threshold: int = 50  # failures of one account from all clients together
    lockout_minutes: int = 15
    client_address_header: str | None = None
    sso_require_email_verified: bool = True  # admit an identity only when the provider says its e-mail is verified  # e.g. X-Forwarded-For behind a reverse proxy you run
    min_password_length: int = 12
    stale_after_days: int = 90
    earliest_date: date = date(1800, 1, 1)  # evidence may speak to history (the timeline starts in 1823)
    target_date_earliest: date = date(2000, 1, 1)
    target_date_years_ahead: int = 30
    # the installation's Ed25519 signing key (checkpoints, bundle manifests): kept outside the
    # database, so write access to the store is not enough to sign a rewritten trail
    key_file: Path | None = None  # default: <data dir>/keys/installation-ed25519.pem (mode 0600)
    # a bundle to verify is read only within these, checked on the zip's directory before any byte
    # is decompressed (a 1.2 MB zip bomb once took the dashboard to 2.3 GB)
    bundle_max_total_mb: int = Field(default=4096, ge=1)
    bundle_max_entry_mb: int = Field(default=2048, ge=1)
    bundle_max_entries: int = Field(default=200_000, ge=1)

    @property
    def max_upload_bytes(self) -> int:
        """Largest evidence file."""
        return self.upload_limit_mb * 1024 * 1024

    @property
    def max_import_bytes(self) -> int:
        """Largest import or bulk-edit file."""
        return self.upload_limit_mb * 1024 * 1024

    @property
    def upload_transfer_mb(self) -> int:
        """What the server and the evidence uploaders let through: twice the limit, so a file over the
        limit still reaches the server and is refused by name, with its size, in words."""
        return 2 * self.upload_limit_mb

    @property
    def upload_limit_words(self) -> str:
        return f"{self.upload_limit_mb} MB"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'rectrack.db'}"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / "keys" / "installation-ed25519.pem"

    @property
    def checkpoint_dir(self) -> Path:
        return self.data_dir / "checkpoints"


@lru_cache
def get_settings() -> Settings:
    return Settings()
