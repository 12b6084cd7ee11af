"""/start: redeem an invite link, share one's own phone number, land in the role's menu.
Also the account's link to the chat: blocked → deactivated, unblocked → active again."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import ChatMemberUpdated, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.handlers.common import show_menu
from bot.i18n import tr
from bot.keyboards.common import phone_keyboard
from bot.keyboards.join import guest_keyboard
from bot.states import Onboarding
from core.db.uow import UnitOfWork
from core.services import accounts
from core.services.accounts import AccountView
from core.services.enterprise_applications import pending_application_of


async def guest_greeting(uow: UnitOfWork, message: Message) -> str:
    """How to get in; an applicant also reads that the application waits for review."""
    user = message.from_user
    pending = await pending_application_of(uow, user.id) if user is not None else None
    if pending is not None:
        return tr("join.pending_status", name=pending.name)
    return _("start.no_access")  # the 🏢 申请入驻 button under it says the rest


async def start_with_token(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    state: FSMContext,
    i18n: I18n,
) -> None:
    user = message.from_user
    assert user is not None  # CommandStart only sees private messages from users
    account = await accounts.redeem_invite(
        uow,
        token=(command.args or "").strip(),
        telegram_user_id=user.id,
        chat_id=message.chat.id,
        display_name=user.full_name,
        language_code=i18n.current_locale,  # a guest's /language choice, else Telegram's
    )
    await state.clear()
    await state.set_state(Onboarding.phone)
    with i18n.use_locale(account.locale):
        await message.answer(
            tr("start.welcome", name=account.display_name), reply_markup=phone_keyboard()
        )


async def start_plain(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView | None
) -> None:
    if account is None:
        # nothing about the bot's data, only how to get in: an invite link, or 申请入驻
        await message.answer(await guest_greeting(uow, message), reply_markup=guest_keyboard())
        return
    await state.clear()
    await show_menu(message, account, tr("start.welcome_back", name=account.display_name))


async def ask_phone(message: Message, account: AccountView) -> None:
    """Anything but a contact while the phone step waits: ask again."""
    await message.answer(_("start.phone_ask"), reply_markup=phone_keyboard())


async def phone_shared(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    contact = message.contact
    assert contact is not None
    assert message.from_user is not None
    if contact.user_id != message.from_user.id:
        # someone else's card: their number must not become ours
        await message.answer(_("start.phone_not_own"), reply_markup=phone_keyboard())
        return
    account = await accounts.set_phone(uow, account.id, contact.phone_number)
    await state.clear()
    await show_menu(message, account, _("start.phone_saved"))


async def chat_member_changed(
    event: ChatMemberUpdated, uow: UnitOfWork, bound_account: AccountView | None
) -> None:
    """Blocked: the account rests (nothing is sent to it); unblocked: active again."""
    if bound_account is None:
        return
    if event.new_chat_member.status == ChatMemberStatus.KICKED:
        await accounts.deactivate(uow, bound_account.id)
    else:
        await accounts.reactivate(uow, bound_account.id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start_with_token, CommandStart(deep_link=True))
    router.message.register(start_plain, CommandStart())
    router.message.register(phone_shared, Onboarding.phone, F.contact)
    router.message.register(ask_phone, Onboarding.phone)
    router.my_chat_member.register(chat_member_changed, ChatMemberUpdatedFilter(KICKED | MEMBER))
    return router
