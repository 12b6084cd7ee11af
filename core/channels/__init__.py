"""Delivery channels besides Telegram: WeCom and DingTalk group robots, and e-mail."""
