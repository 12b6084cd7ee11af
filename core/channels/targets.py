"""What a channel points at: the robot URL (with its key or token) or an e-mail address.

Parsed strictly, because a typo here would send a bureau's figures to a stranger's group or
silently nowhere; each refusal is a ValidationError whose message key reads as one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from core.domain.errors import ValidationError


class ChannelKind(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    EMAIL = "email"


# The webhook addresses the platforms hand out (WeCom: developer.work.weixin.qq.com/document/
# path/91770 "群机器人配置说明"; DingTalk: open.dingtalk.com/document/robots/custom-robot-access)
WECOM_HOST = "qyapi.weixin.qq.com"
WECOM_SEND_PATH = "/cgi-bin/webhook/send"
WECOM_UPLOAD_PATH = "/cgi-bin/webhook/upload_media"
DINGTALK_HOST = "oapi.dingtalk.com"
DINGTALK_SEND_PATH = "/robot/send"
_MAX_URL = 500


@dataclass(frozen=True, slots=True)
class Target:
    """A checked channel target. `credential` is the robot's key / token or the address."""

    kind: ChannelKind
    url: str  # the robot URL as the platform gave it, or the e-mail address
    credential: str
    label: str  # masked, safe to show and log


def _mask(secret: str, keep: int = 4) -> str:
    if len(secret) <= keep * 2:
        return "*" * len(secret)
    return f"{secret[:keep]}…{secret[-keep:]}"


def _robot(url: str, *, host: str, path: str, param: str, error: str) -> str:
    """The credential of a robot URL, or ValidationError(error)."""
    url = url.strip()
    if not url or len(url) > _MAX_URL or any(c.isspace() for c in url):
        raise ValidationError(error)
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname == host:
        raise ValidationError("channels.error.not_https")
    if (
        parts.scheme != "https"
        or parts.hostname != host
        or parts.port not in (None, 443)
        or parts.username
        or parts.password
        or parts.path != path
        or parts.fragment
    ):
        raise ValidationError(error)
    query = parse_qs(parts.query, keep_blank_values=True)
    values = query.get(param, [])
    if len(values) != 1 or set(query) != {param}:
        raise ValidationError(error)
    credential = values[0]
    if not (8 <= len(credential) <= 128) or not all(c.isalnum() or c in "-_" for c in credential):
        raise ValidationError(error)
    return credential


def parse_wecom_url(url: str) -> Target:
    """https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"""
    key = _robot(
        url,
        host=WECOM_HOST,
        path=WECOM_SEND_PATH,
        param="key",
        error="channels.error.wecom_url",
    )
    return Target(ChannelKind.WECOM, url.strip(), key, f"企业微信 key={_mask(key)}")


def parse_dingtalk_url(url: str) -> Target:
    """https://oapi.dingtalk.com/robot/send?access_token=…"""
    token = _robot(
        url,
        host=DINGTALK_HOST,
        path=DINGTALK_SEND_PATH,
        param="access_token",
        error="channels.error.dingtalk_url",
    )
    return Target(ChannelKind.DINGTALK, url.strip(), token, f"钉钉 token={_mask(token)}")


def check_dingtalk_secret(secret: str) -> str:
    """The signing secret DingTalk shows under 加签: "SEC" followed by hex digits."""
    secret = secret.strip()
    if not secret.startswith("SEC") or not (20 <= len(secret) <= 128) or not secret.isalnum():
        raise ValidationError("channels.error.dingtalk_secret")
    return secret


def parse_email(address: str) -> Target:
    """A deliverable-looking address (syntax only: no DNS lookup), normalized."""
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError("channels.error.email", address=address.strip()[:80]) from exc
    normalized = checked.normalized
    local, _, domain = normalized.partition("@")
    shown = local[:1] + "***" if len(local) > 1 else "*"
    return Target(ChannelKind.EMAIL, normalized, normalized, f"{shown}@{domain}")


def parse_target(kind: ChannelKind, value: str) -> Target:
    if kind is ChannelKind.WECOM:
        return parse_wecom_url(value)
    if kind is ChannelKind.DINGTALK:
        return parse_dingtalk_url(value)
    return parse_email(value)
