"""Settings from the environment (and `.env`), built by get_settings(), never at import."""

from __future__ import annotations

import secrets
from datetime import time
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path(".jingong"), description="SQLite file and key folder")
    database_url: str = Field(default="", description="SQLAlchemy async URL; default SQLite file")
    redis_url: str = Field(default="", description="redis://… enables RedisStorage for FSM state")
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Master secret for ID-number keys; a key file is made if empty",
    )
    bot_token: SecretStr = Field(default=SecretStr(""))
    telegram_api_base: str = Field(default="https://api.telegram.org")
    webhook_secret: SecretStr = Field(default=SecretStr(""))
    webhook_base_url: str = Field(default="")
    webhook_path: str = Field(default="/telegram/webhook", pattern=r"^/[A-Za-z0-9_\-/.]*$")
    api_cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call /api/v1 from a browser"
    )
    api_rate_per_second: float = Field(default=10.0, gt=0, description="Per API key")
    api_rate_burst: int = Field(default=20, ge=1)
    api_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    bot_username: str = Field(default="JinGongDispatchBot")
    timezone: str = Field(default="Asia/Shanghai")
    default_locale: str = Field(default="zh")
    posting_ttl_days: int = Field(default=30, ge=1, le=365)
    days_per_month: int = Field(
        default=26, ge=1, le=31, description="a daily rate × this = the monthly price shown"
    )
    offer_ttl_hours: int = Field(default=48, ge=1, le=24 * 30)
    rating_prompt_days: int = Field(default=7, ge=0, le=90)
    arrival_check_time: time = Field(
        default=time(10, 0), description="Local time of the arrival check on the start date"
    )
    arrival_reminder_time: time = Field(
        default=time(9, 0), description="Local time of the one reminder the morning after"
    )
    wage_prompt_day: int = Field(
        default=5, ge=1, le=28, description="Day of the month the wage questions go out"
    )
    arrears_grace_days: int = Field(
        default=7, ge=1, le=60, description="Days after the due day a silent side is in arrears"
    )
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    sql_echo: bool = False
    # delivery channels (core.channels): e-mail through this server; robots at these hosts
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        description="smtp://user:pass@host:587[?starttls=true|false] or smtps://…:465; "
        "empty: e-mail channels wait",
    )
    smtp_from: str = Field(default="JinGong Dispatch <noreply@localhost>")
    wecom_api_base: str = Field(default="https://qyapi.weixin.qq.com")
    dingtalk_api_base: str = Field(default="https://oapi.dingtalk.com")

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("default_locale must be zh or en")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'jingong.db').as_posix()}"

    def master_secret(self) -> bytes:
        """The secret for personal-data keys; a random one is kept in data_dir on first use."""
        value = self.secret_key.get_secret_value()
        if value:
            return value.encode()
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
