from tests.bot.test_search import *  # noqa

def dump(driver):
    for s in driver.requests:
        if s.method in ("sendMessage", "editMessageText"):
            print("=====", s.method, s.params.get("chat_id"))
            print(s.text)
            m = s.reply_markup
            if m is not None and hasattr(m, "inline_keyboard"):
                print("  BUTTONS:", [[(b.text, b.callback_data) for b in r] for r in m.inline_keyboard])
        elif s.method == "answerCallbackQuery" and s.params.get("text"):
            print("----- toast:", s.params.get("text"))

async def test_show(driver, services, clock, people):
    await test_a_foreman_narrows_idle_postings_by_city_trade_and_price(driver, services, clock, people)
    dump(driver)

async def test_show2(driver, services, clock, people):
    await test_a_dispatcher_searches_shortages_in_english_and_can_switch_to_idle_workers(driver, services, clock, people)
    dump(driver)
