"""The one typed settings object, read from the environment when first asked for."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration from environment variables (names in the README).

    ``NEO4J_URI`` unset means "use the local server of ``OUROBOROS_HOME``, starting it
    when needed"; set, it means "connect there and start nothing".
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    neo4j_uri: str | None = Field(default=None, alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", alias="NEO4J_USER")
    neo4j_password: SecretStr | None = Field(default=None, alias="NEO4J_PASSWORD")
    home: Path = Field(default=Path(".ouroboros"), alias="OUROBOROS_HOME")
    # Downloads shared by every home (the Neo4j jars from Maven Central).
    cache: Path = Field(default=Path("~/.cache/ouroboros"), alias="OUROBOROS_CACHE")
    llm: str | None = Field(default=None, alias="OUROBOROS_LLM")
    llm_base_url: str | None = Field(default=None, alias="OUROBOROS_LLM_BASE_URL")
    # How long a run waits for another run on the same home to release the writer lock.
    lock_wait_s: float = Field(default=300.0, ge=0, alias="OUROBOROS_LOCK_WAIT")

    @property
    def home_dir(self) -> Path:
        """The data folder as an absolute path (it may not exist yet)."""
        return self.home.expanduser().resolve()

    @property
    def cache_dir(self) -> Path:
        """The shared download cache as an absolute path (it may not exist yet)."""
        return self.cache.expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once per process; tests call ``get_settings.cache_clear()``."""
    return Settings()
