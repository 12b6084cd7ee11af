"""The Bot API methods the sandbox emulates, with Telegram's checks and error wording."""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sandbox.entities import (
    EntityParseError,
    parse_html,
    sort_entities,
    strip_text,
    utf16_len,
)
from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.media import sniff_image
from sandbox.params import Params, Upload
from sandbox.state import (
    DEFAULT_ALLOWED_UPDATES,
    MAX_CAPTION,
    MAX_TEXT,
    UPDATE_TYPES,
    ChatState,
    SandboxState,
    StoredFile,
    StoredMessage,
    WebhookConfig,
)
from sandbox.webhook import WEBHOOK_TASK, deliver_webhooks

log = logging.getLogger(__name__)

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
INLINE_BUTTON_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
REPLY_BUTTON_FIELDS = (
    "text", "request_contact", "request_location", "request_users", "request_chat",
    "request_poll", "web_app",
)  # fmt: skip
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_KEEP = object()  # "leave the chat's reply keyboard as it is"


@dataclass
class Described:
    """A result that Telegram sends with a description, e.g. "Webhook was set"."""

    result: Any
    description: str


Method = Callable[[SandboxState, Params], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(func: Method) -> Method:
        METHODS[name] = func
        return func

    return register


_BY_LOWER: dict[str, str] = {}


def canonical_name(name: str) -> str | None:
    """Telegram matches method names case-insensitively."""
    if len(_BY_LOWER) != len(METHODS):
        _BY_LOWER.clear()
        _BY_LOWER.update({n.lower(): n for n in METHODS})
    return _BY_LOWER.get(name.lower())


async def call_method(
    state: SandboxState, name: str, params: Params
) -> tuple[int, dict[str, Any]]:
    """Run one Bot API call and give back (HTTP status, JSON body)."""
    canonical = canonical_name(name)
    if canonical is None:
        return 404, ApiError(404, "Not Found").payload()
    state.requests.append(canonical)
    try:
        result = await METHODS[canonical](state, params)
    except ApiError as error:
        return error.code, error.payload()
    except Exception as error:  # a sandbox bug must not look like a network failure
        log.exception("sandbox method %s failed", canonical)
        return 500, ApiError(500, f"Internal Server Error: {error}").payload()
    if isinstance(result, Described):
        return 200, {"ok": True, "result": result.result, "description": result.description}
    return 200, {"ok": True, "result": result}


# -- shared parameter helpers ---------------------------------------------------------------
def _chat(state: SandboxState, p: Params) -> ChatState:
    raw = p.values.get("chat_id")
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    try:
        chat_id = int(raw)
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None  # "@username" never names a private chat
    return state.chat(chat_id)


def _message_id(p: Params, name: str = "message_id") -> int:
    value = p.integer(name, error="message identifier is not specified")
    if value is None:
        raise bad_request("message identifier is not specified")
    return value


def _formatted(
    p: Params,
    text_key: str,
    entities_key: str,
    *,
    limit: int,
    empty_error: str | None,
    long_error: str,
) -> tuple[str, list[dict[str, Any]]]:
    """Text after entity parsing and trimming; Telegram's limits apply to this, not the markup."""
    raw = p.text(text_key) or ""
    explicit = p.json(entities_key, error="can't parse entities JSON object")
    mode = (p.text("parse_mode") or "").strip()
    if explicit is not None:
        text, entities = raw, _checked_entities(explicit)
    elif not mode:
        text, entities = raw, []
    elif mode.lower() == "html":
        try:
            text, entities = parse_html(raw)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode.lower() in ("markdown", "markdownv2"):
        raise bad_request(
            "can't parse entities: the sandbox emulates parse_mode HTML only, not " + mode
        )
    else:
        raise bad_request("unsupported parse_mode")
    text, entities = strip_text(text, entities)
    if not text and empty_error is not None:
        raise bad_request(empty_error)
    if utf16_len(text) > limit:
        raise bad_request(long_error)
    return text, entities


def _checked_entities(value: Any) -> list[dict[str, Any]]:
    ok = isinstance(value, list) and all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in value
    )
    if not ok:
        raise bad_request("can't parse entities JSON object")
    return sort_entities([e for e in value if e["length"] > 0])


def _inline_keyboard(markup: dict[str, Any]) -> dict[str, Any] | None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard markup JSON object")
    clean_rows = []
    total = 0
    for row in rows:
        clean_row = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            actions = [key for key in INLINE_BUTTON_ACTIONS if button.get(key) is not None]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            action = actions[0]
            value = button[action]
            if action == "callback_data":
                size = len(value.encode("utf-8")) if isinstance(value, str) else 0
                if not 1 <= size <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif action == "url":
                scheme = urlsplit(str(value)).scheme.lower()
                if scheme not in ("http", "https", "tg") or " " in str(value):
                    raise bad_request("BUTTON_URL_INVALID")
            clean_row.append({"text": button["text"], action: value})
            total += 1
        if clean_row:
            clean_rows.append(clean_row)
    if total > 100:
        raise bad_request("reply markup is too long")
    return {"inline_keyboard": clean_rows} if clean_rows else None


def _reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse reply keyboard markup JSON object")
    clean_rows = []
    for row in rows:
        clean_row = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
            if not button["text"].strip():
                raise bad_request("keyboard button text must be non-empty")
            clean_row.append({k: button[k] for k in REPLY_BUTTON_FIELDS if button.get(k)})
        if clean_row:
            clean_rows.append(clean_row)
    if not clean_rows:
        raise bad_request("keyboard must be non-empty")
    options = ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective")
    keyboard: dict[str, Any] = {"keyboard": clean_rows}
    keyboard.update({k: True for k in options if markup.get(k)})
    if markup.get("input_field_placeholder"):
        keyboard["input_field_placeholder"] = str(markup["input_field_placeholder"])
    return keyboard


def _reply_markup(p: Params, *, inline_only: bool = False) -> tuple[dict[str, Any] | None, Any]:
    """(inline keyboard for the message, new reply keyboard for the chat or _KEEP)."""
    markup = p.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    if markup is None:
        return None, _KEEP
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return _inline_keyboard(markup), _KEEP
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        return None, _reply_keyboard(markup)
    if markup.get("remove_keyboard"):
        return None, None
    if markup.get("force_reply"):
        return None, _KEEP
    raise bad_request("can't parse reply keyboard markup JSON object")


def _reply_to(chat: ChatState, p: Params) -> StoredMessage | None:
    params = p.json("reply_parameters", error="can't parse reply parameters JSON object")
    if isinstance(params, dict):
        message_id, allow = (
            params.get("message_id"),
            bool(params.get("allow_sending_without_reply")),
        )
    else:
        message_id = p.integer("reply_to_message_id")
        allow = p.boolean("allow_sending_without_reply")
    if message_id is None:
        return None
    target = chat.messages.get(int(message_id))
    if target is None or target.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return target


def _input_file(state: SandboxState, p: Params, name: str) -> Upload | StoredFile:
    value = p.values.get(name)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = p.uploads.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"there is no {name} in the request")
        return upload
    if name in p.uploads:
        return p.uploads[name]
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {name} in the request")
    if value.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # the sandbox has no internet
    stored = state.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def _send_new(
    state: SandboxState, chat: ChatState, reply_keyboard: Any, **fields: Any
) -> dict[str, Any]:
    state.check_flood(chat)
    message = state.new_message(chat, state.bot_user, **fields)
    if reply_keyboard is not _KEEP:
        state.set_reply_keyboard(chat, reply_keyboard)
    return message.to_api()


def _edit_target(state: SandboxState, p: Params) -> tuple[ChatState, StoredMessage]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not emulated
    chat = _chat(state, p)
    message = chat.messages.get(_message_id(p))
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    if chat.user.blocked_bot:
        raise forbidden("bot was blocked by the user")
    return chat, message


def _apply_edit(state: SandboxState, chat: ChatState, message: StoredMessage) -> dict[str, Any]:
    message.edit_date = state.now()
    state.publish(chat, {"type": "edited", "message": message.view()})
    return message.to_api()


# -- identity, lifecycle --------------------------------------------------------------------
@method("getMe")
async def get_me(state: SandboxState, p: Params) -> Any:
    return {
        **state.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut")
async def log_out(state: SandboxState, p: Params) -> Any:
    return True


@method("close")
async def close(state: SandboxState, p: Params) -> Any:
    return True


# -- updates --------------------------------------------------------------------------------
def _set_allowed_updates(state: SandboxState, p: Params) -> None:
    allowed = p.json("allowed_updates", error="can't parse allowed updates JSON object")
    if allowed is None:
        return  # "if not specified, the previous setting will be used"
    if not isinstance(allowed, list):
        raise bad_request("can't parse allowed updates JSON object")
    known = frozenset(str(kind) for kind in allowed) & frozenset(UPDATE_TYPES)
    state.allowed_updates = known or DEFAULT_ALLOWED_UPDATES


WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


@method("getUpdates")
async def get_updates(state: SandboxState, p: Params) -> Any:
    if state.webhook is not None:
        raise ApiError(409, WEBHOOK_ACTIVE)
    offset = p.integer("offset") or 0
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = min(max(p.integer("timeout") or 0, 0), 600)
    _set_allowed_updates(state, p)
    state.confirm_updates(offset)
    state.poll_generation += 1
    generation = state.poll_generation
    state.updates_changed.fire()  # an older long poll learns it was replaced
    deadline = time.monotonic() + timeout
    while True:
        batch = state.pending_updates(offset, limit)
        if batch or state.closed:
            return batch
        if state.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            )
        if state.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        await state.updates_changed.wait(remaining)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@method("setWebhook")
async def set_webhook(state: SandboxState, p: Params) -> Any:
    url = (p.text("url") or "").strip()
    if not url:
        return await delete_webhook(state, p)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not _loopback(parts.hostname):
        # the sandbox never sends traffic off this machine
        raise bad_request("bad webhook: the sandbox delivers only to loopback addresses")
    secret = p.text("secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = p.integer("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    _set_allowed_updates(state, p)
    if p.boolean("drop_pending_updates"):
        state.drop_pending_updates()
    previous = state.webhook
    same = previous is not None and previous.url == url and previous.secret_token == secret
    state.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        ip_address=p.text("ip_address"),
    )
    if not state.has_task(WEBHOOK_TASK):
        state.start_task(deliver_webhooks(state, call_method), WEBHOOK_TASK)
    state.updates_changed.fire()  # long polls end with 409, the worker picks up the new URL
    return Described(True, "Webhook is already set" if same else "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(state: SandboxState, p: Params) -> Any:
    if p.boolean("drop_pending_updates"):
        state.drop_pending_updates()
    was_set = state.webhook is not None
    state.webhook = None
    state.updates_changed.fire()
    return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(state: SandboxState, p: Params) -> Any:
    hook = state.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if state.allowed_updates != DEFAULT_ALLOWED_UPDATES:
            info["allowed_updates"] = sorted(state.allowed_updates)
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


# -- sending --------------------------------------------------------------------------------
@method("sendMessage")
async def send_message(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    state.check_can_write(chat)
    text, entities = _formatted(
        p,
        "text",
        "entities",
        limit=MAX_TEXT,
        empty_error="message text is empty",
        long_error="message is too long",
    )
    inline, reply_keyboard = _reply_markup(p)
    reply_to = _reply_to(chat, p)
    return _send_new(
        state,
        chat,
        reply_keyboard,
        text=text,
        entities=entities,
        inline_markup=inline,
        reply_to=reply_to,
    )


def _caption(p: Params) -> tuple[str, list[dict[str, Any]]]:
    return _formatted(
        p,
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        empty_error=None,
        long_error="message caption is too long",
    )


@method("sendPhoto")
async def send_photo(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    state.check_can_write(chat)
    source = _input_file(state, p, "photo")
    caption, caption_entities = _caption(p)
    inline, reply_keyboard = _reply_markup(p)
    reply_to = _reply_to(chat, p)
    if isinstance(source, StoredFile):
        if source.kind != "photo":
            raise bad_request(f"can't use file of type {source.kind.title()} as Photo")
        photo = source
    else:
        photo = _store_photo(state, source)
    return _send_new(
        state,
        chat,
        reply_keyboard,
        photo=photo,
        caption=caption or None,
        caption_entities=caption_entities,
        inline_markup=inline,
        reply_to=reply_to,
    )


def _store_photo(state: SandboxState, upload: Upload) -> StoredFile:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    sniffed = sniff_image(upload.data)
    if sniffed is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    extension, width, height = sniffed
    if (
        width <= 0
        or height <= 0
        or width + height > 10000
        or max(width, height) > 20 * min(width, height)
    ):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    mime = mimetypes.types_map.get(extension, "image/jpeg")
    return state.store_file(
        "photo", upload.data, mime_type=mime, extension=extension, width=width, height=height
    )


@method("sendDocument")
async def send_document(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    state.check_can_write(chat)
    source = _input_file(state, p, "document")
    caption, caption_entities = _caption(p)
    inline, reply_keyboard = _reply_markup(p)
    reply_to = _reply_to(chat, p)
    if isinstance(source, StoredFile):
        document = source
    else:
        if not source.data:
            raise bad_request("file must be non-empty")
        if len(source.data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        name = source.filename or "document"
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        extension = "." + name.rsplit(".", 1)[1].lower() if "." in name else ""
        document = state.store_file(
            "document", source.data, mime_type=mime, extension=extension[:10], file_name=name
        )
    return _send_new(
        state,
        chat,
        reply_keyboard,
        document=document,
        caption=caption or None,
        caption_entities=caption_entities,
        inline_markup=inline,
        reply_to=reply_to,
    )


@method("sendChatAction")
async def send_chat_action(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    state.check_can_write(chat)
    action = p.text("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.publish(chat, {"type": "chat_action", "action": action})
    return True


# -- editing and deleting -------------------------------------------------------------------
@method("editMessageText")
async def edit_message_text(state: SandboxState, p: Params) -> Any:
    chat, message = _edit_target(state, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = _formatted(
        p,
        "text",
        "entities",
        limit=MAX_TEXT,
        empty_error="message text is empty",
        long_error="message is too long",
    )
    inline, _ = _reply_markup(p, inline_only=True)
    if (text, entities, inline) == (message.text, message.entities, message.inline_markup):
        raise bad_request(NOT_MODIFIED)
    state.check_flood(chat)
    message.text, message.entities, message.inline_markup = text, entities, inline
    return _apply_edit(state, chat, message)


@method("editMessageCaption")
async def edit_message_caption(state: SandboxState, p: Params) -> Any:
    chat, message = _edit_target(state, p)
    if not message.has_media:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _caption(p)
    inline, _ = _reply_markup(p, inline_only=True)
    current = (message.caption or "", message.caption_entities, message.inline_markup)
    if (caption, entities, inline) == current:
        raise bad_request(NOT_MODIFIED)
    state.check_flood(chat)
    message.caption, message.caption_entities = caption or None, entities
    message.inline_markup = inline
    return _apply_edit(state, chat, message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: SandboxState, p: Params) -> Any:
    chat, message = _edit_target(state, p)
    inline, _ = _reply_markup(p, inline_only=True)
    if inline == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    state.check_flood(chat)
    message.inline_markup = inline
    return _apply_edit(state, chat, message)


def _delete(state: SandboxState, chat: ChatState, message_id: int) -> bool:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        return False
    if state.now() - message.date > 48 * 3600:
        raise bad_request("message can't be deleted for everyone")
    message.deleted = True
    state.publish(chat, {"type": "deleted", "message_id": message_id})
    return True


@method("deleteMessage")
async def delete_message(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    if not _delete(state, chat, _message_id(p)):
        raise bad_request("message to delete not found")
    return True


@method("deleteMessages")
async def delete_messages(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    ids = p.json("message_ids", error="can't parse message identifiers JSON object")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    for message_id in ids:
        _delete(state, chat, int(message_id))
    return True


@method("answerCallbackQuery")
async def answer_callback_query(state: SandboxState, p: Params) -> Any:
    query = state.callback_queries.get(p.text("callback_query_id") or "")
    ttl = state.callback_query_ttl
    expired = query is not None and ttl is not None and time.monotonic() - query.created > ttl
    if query is None or query.answered or expired:
        raise bad_request(QUERY_TOO_OLD)
    text = p.text("text") or ""
    if utf16_len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer = {"text": text, "show_alert": p.boolean("show_alert"), "url": p.text("url")}
    state.publish(
        state.chats[query.user_id],
        {"type": "callback_answer", "query_id": query.id, **query.answer},
    )
    return True


# -- chats, commands, menu ------------------------------------------------------------------
@method("getChat")
async def get_chat(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    return {
        **chat.user.to_chat(),
        "accent_color_id": chat.user.id % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": True,
            "limited_gifts": True,
            "unique_gifts": True,
            "premium_subscription": True,
            "gifts_from_channels": True,
        },
    }


@method("getChatMember")
async def get_chat_member(state: SandboxState, p: Params) -> Any:
    chat = _chat(state, p)
    user_id = p.integer("user_id")
    if user_id == state.bot_user["id"]:
        if chat.user.blocked_bot:
            return {"status": "kicked", "user": state.bot_user, "until_date": 0}
        return {"status": "member", "user": state.bot_user}
    if user_id != chat.user.id:
        raise bad_request("user not found")
    return {"status": "member", "user": chat.user.to_api()}


def _scope_key(state: SandboxState, p: Params) -> tuple[str, str]:
    scope = p.json("scope", error="can't parse bot command scope JSON object") or {
        "type": "default"
    }
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse bot command scope JSON object")
    language = p.text("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


@method("setMyCommands")
async def set_my_commands(state: SandboxState, p: Params) -> Any:
    commands = p.json("commands", error="can't parse commands JSON object")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    clean = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse commands JSON object")
        name = str(command.get("command", ""))
        description = str(command.get("description", ""))
        if not _COMMAND.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": name, "description": description})
    state.commands[_scope_key(state, p)] = clean
    return True


@method("getMyCommands")
async def get_my_commands(state: SandboxState, p: Params) -> Any:
    return state.commands.get(_scope_key(state, p), [])


@method("deleteMyCommands")
async def delete_my_commands(state: SandboxState, p: Params) -> Any:
    state.commands.pop(_scope_key(state, p), None)
    return True


def _menu_chat(state: SandboxState, p: Params) -> int | None:
    return _chat(state, p).user.id if p.has("chat_id") else None


@method("setChatMenuButton")
async def set_chat_menu_button(state: SandboxState, p: Params) -> Any:
    button = p.json("menu_button", error="can't parse menu button JSON object") or {
        "type": "default"
    }
    if not isinstance(button, dict) or button.get("type") not in (
        "commands",
        "web_app",
        "default",
    ):
        raise bad_request("can't parse menu button JSON object")
    state.menu_buttons[_menu_chat(state, p)] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(state: SandboxState, p: Params) -> Any:
    chat_id = _menu_chat(state, p)
    return state.menu_buttons.get(chat_id) or state.menu_buttons.get(None) or {"type": "default"}


def _bot_text(kind: str, key: str, limit: int) -> tuple[Method, Method]:
    async def setter(state: SandboxState, p: Params) -> Any:
        value = p.text(key) or ""
        if len(value) > limit:
            raise bad_request(f"bot {kind} is too long")
        state.bot_texts[(kind, p.text("language_code") or "")] = value
        return True

    async def getter(state: SandboxState, p: Params) -> Any:
        texts = state.bot_texts
        language = p.text("language_code") or ""
        value = texts.get((kind, language), texts.get((kind, ""), ""))
        if kind == "name" and not value:
            value = state.bot_user["first_name"]
        return {key: value}

    return setter, getter


for _kind, _key, _limit, _suffix in (
    ("name", "name", 64, "Name"),
    ("description", "description", 512, "Description"),
    ("short description", "short_description", 120, "ShortDescription"),
):
    _setter, _getter = _bot_text(_kind, _key, _limit)
    method(f"setMy{_suffix}")(_setter)
    method(f"getMy{_suffix}")(_getter)


# -- files ----------------------------------------------------------------------------------
@method("getFile")
async def get_file(state: SandboxState, p: Params) -> Any:
    stored = state.files.get(p.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


SUPPORTED_METHODS = frozenset(METHODS)
__all__ = ["METHODS", "SUPPORTED_METHODS", "Params", "call_method", "canonical_name"]
