"""Which notifications also go to an account's delivery channels.

A Telegram outbox kind listed in FOR_CHANNELS is copied, row for row, to every active channel
of the recipient by `UnitOfWork.notify`, in the same transaction. The daily digest is the
exception: Telegram gets it as several rows (text chunks, chart, workbook), a channel as ONE
message, so `digest_schedule` queues that copy itself (kind DIGEST) beside the digest row.
Each kind here needs a renderer in `core.channels.render`.
"""

from __future__ import annotations

DIGEST = "digest"  # payload {region_code, day, locale}
WEEKLY = "weekly_digest"  # a labour company's Monday digest: payload {enterprise_id, day, locale}
ESCALATION = "escalation"  # payload {posting_kind, posting_id}
TEST = "channel_test"  # `jingong channel test`, the test button in ⚙️ 设置

# Telegram outbox kinds copied to channels as they are. The arrears alerts of the
# after-the-deal issue join by adding their kind here and a renderer in core.channels.render.
FOR_CHANNELS: frozenset[str] = frozenset({ESCALATION})
