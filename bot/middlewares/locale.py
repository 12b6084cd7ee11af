"""The user's language: the account's stored locale wins over Telegram's language_code."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from core.services.accounts import AccountView, locale_for

# where /language keeps the choice of someone who has no account yet
FSM_LOCALE_KEY = "locale"


class AccountI18nMiddleware(I18nMiddleware):
    """Outer middleware on update (and on errors, so error texts are localized too)."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        account: AccountView | None = data.get("bound_account")
        if account is not None and account.locale in self.i18n.available_locales:
            return account.locale
        state: FSMContext | None = data.get("state")
        user: User | None = data.get("event_from_user")
        if state is not None and user is not None:
            chosen = (await state.get_data()).get(FSM_LOCALE_KEY)
            if chosen in self.i18n.available_locales:
                return str(chosen)
        language_code = user.language_code if user is not None else None
        return locale_for(language_code, self.i18n.default_locale)
