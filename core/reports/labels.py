"""The few labels of digests, charts and workbooks, in zh and en.

Core must not depend on the bot's gettext catalogs, so reports carry their own small tables.
Templates use str.format fields; `label()` escapes every value for Telegram HTML when asked.
"""

from __future__ import annotations

import html
from decimal import Decimal

LOCALES = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        # text digest
        "title": "📊 {region} 用工调度日报",
        "covers": "{report_day} 全天数据 · 未满数截至 {day} 0:00（北京时间）",
        "sec_new": "昨日新增",
        "new_shortage": "缺工 {postings} 条 · {headcount} 人",
        "new_idle": "赋闲 {postings} 条 · {headcount} 人",
        "sec_open": "未满缺工 vs 赋闲（人）",
        "sub_line": "{region}：缺 {shortage} · 闲 {idle}",
        "sub_quiet": "其余 {n} 个地区：无",
        "total_line": (
            "合计：缺 {shortage} 人（{postings} 条）· 闲 {idle} 人（{idle_postings} 条）"
        ),
        "sec_reporting": "采集上报率（近 {days} 天更新过用工情况的在建项目）",
        "reporting_line": "{region}：{rate}（{reported}/{live}）",
        "reporting_total": (
            "合计：{rate}（{reported}/{live}）· {silent} 个项目已 {silent_days} 天未上报"
        ),
        "sec_trades": "缺口最大的工种",
        "trade_line": "{rank}. {trade} {headcount} 人（{postings} 条）",
        "sec_deals": "昨日成交",
        "deals_line": "{count} 笔 · {headcount} 人 · 均价 {price} 元/月",
        "vs_guide": "（较指导价 {pct}）",
        "deal_trade_line": "• {trade}：{count} 笔 {headcount} 人，均价 {price}",
        "none": "无",
        "sec_ratings": "昨日评价",
        "ratings_line": "{count} 条 · 平均 {stars} 星",
        "sec_alerts": "⚠️ 提醒",
        "no_alerts": "无",
        "stale_head": "⏳ 超过 {days} 天未满的缺工 {count} 条，最久的：",
        "stale_line": "• {enterprise} · {project} · {trade} {headcount} 人 · 已 {days} 天",
        "price_head": "💰 成交价偏离指导价超过 {pct}%：",
        "price_below": (
            "• {enterprise} {trade}{grade} {headcount} 人 {price} 元/月，"
            "比指导价 {guide} 低 {pct}%"
        ),
        "price_above": (
            "• {enterprise} {trade}{grade} {headcount} 人 {price} 元/月，"
            "比指导价 {guide} 高 {pct}%"
        ),
        "cover_head": "🔁 可由邻近地区调剂：",
        "cover_line": "• {region} 缺 {trade} {shortage} 人，邻近 {neighbour} 有 {idle} 人赋闲",
        "more": "…另有 {n} 条",
        # company weekly
        "weekly_title": "📊 {enterprise} 用工周报",
        "weekly_covers": "{start} 至 {end}",
        "weekly_posted": "本周发布",
        "weekly_open": "目前未满",
        "weekly_received": "调入（我方缺工）",
        "weekly_supplied": "调出（我方赋闲工人）",
        "weekly_ratings_received": "我方工人获评",
        "weekly_ratings_given": "我方给出评价",
        "weekly_workers": "工人：赋闲 {idle} 人 · 在岗 {busy} 人",
        "weekly_idle_trade": "• {trade} 赋闲 {workers} 人",
        # chart
        "chart_title": "{region} 未满缺工与赋闲人数",
        "chart_subtitle": (
            "截至 {day} 0:00 · 合计缺工 {shortage} 人、赋闲 {idle} 人 · 缺工最多的 {n} 个地区"
        ),
        "chart_shortage": "缺工",
        "chart_idle": "赋闲",
        "chart_xlabel": "人数",
        "chart_empty": "暂无未满缺工或赋闲",
        # workbook
        "sheet_summary": "概况",
        "sheet_regions": "分区",
        "sheet_trade_grades": "工种×等级",
        "sheet_deals": "昨日成交",
        "sheet_stale": "超期缺工",
        "sheet_price": "价格偏离",
        "sheet_cover": "邻近调剂",
        "col_item": "项目",
        "col_value": "数值",
        "col_code": "代码",
        "col_region": "地区",
        "col_shortage_postings": "缺工条数",
        "col_shortage": "缺工人数",
        "col_idle_postings": "赋闲条数",
        "col_idle": "赋闲人数",
        "col_trade": "工种",
        "col_grade": "等级",
        "col_time": "成交时间",
        "col_enterprise": "用工企业",
        "col_supplier": "派出企业",
        "col_project": "项目名称",
        "col_headcount": "人数",
        "col_price": "成交价（元/月）",
        "col_guide": "指导价（元/月）",
        "col_vs_guide": "较指导价",
        "col_days": "已挂天数",
        "col_neighbour": "邻近地区",
        "col_neighbour_idle": "邻近可调剂人数",
        "sum_region": "地区",
        "sum_day": "日报日期",
        "sum_report_day": "统计日期",
        "sum_new_shortage_postings": "昨日新增缺工（条）",
        "sum_new_shortage": "昨日新增缺工（人）",
        "sum_new_idle_postings": "昨日新增赋闲（条）",
        "sum_new_idle": "昨日新增赋闲（人）",
        "sum_open_shortage": "未满缺工（人）",
        "sum_open_idle": "未满赋闲（人）",
        "sum_deals": "昨日成交（笔）",
        "sum_deal_headcount": "昨日成交（人）",
        "sum_avg_price": "成交均价（元/月）",
        "sum_vs_guide": "较指导价",
        "sum_ratings": "昨日评价（条）",
        "sum_avg_stars": "平均星级",
        "sum_stale": "超过 {days} 天未满缺工（条）",
    },
    "en": {
        "title": "📊 {region} labour dispatch digest",
        "covers": "Figures for {report_day} · open as of {day} 00:00 (Beijing time)",
        "sec_new": "New yesterday",
        "new_shortage": "Shortages: {postings} postings · {headcount} workers",
        "new_idle": "Idle: {postings} postings · {headcount} workers",
        "sec_open": "Open shortage vs idle (workers)",
        "sub_line": "{region}: short {shortage} · idle {idle}",
        "sub_quiet": "{n} other regions: none",
        "total_line": (
            "Total: short {shortage} ({postings} postings) · "
            "idle {idle} ({idle_postings} postings)"
        ),
        "sec_reporting": "Reporting rate (live projects that updated labor status in {days} days)",
        "reporting_line": "{region}: {rate} ({reported}/{live})",
        "reporting_total": (
            "Total: {rate} ({reported}/{live}) · {silent} projects silent for {silent_days} days"
        ),
        "sec_trades": "Largest shortages by trade",
        "trade_line": "{rank}. {trade}: {headcount} workers ({postings} postings)",
        "sec_deals": "Deals yesterday",
        "deals_line": "{count} deals · {headcount} workers · avg {price} CNY/month",
        "vs_guide": " ({pct} vs guide price)",
        "deal_trade_line": "• {trade}: {count} deals, {headcount} workers, avg {price}",
        "none": "none",
        "sec_ratings": "Ratings yesterday",
        "ratings_line": "{count} ratings · average {stars} stars",
        "sec_alerts": "⚠️ Alerts",
        "no_alerts": "none",
        "stale_head": "⏳ {count} shortages open more than {days} days; the oldest:",
        "stale_line": "• {enterprise} · {project} · {trade} ×{headcount} · {days} days",
        "price_head": "💰 Deal prices more than {pct}% off the guide price:",
        "price_below": (
            "• {enterprise}: {trade} {grade} ×{headcount} at {price} CNY/month, "
            "{pct}% below the guide price {guide}"
        ),
        "price_above": (
            "• {enterprise}: {trade} {grade} ×{headcount} at {price} CNY/month, "
            "{pct}% above the guide price {guide}"
        ),
        "cover_head": "🔁 Neighbours could cover:",
        "cover_line": (
            "• {region} needs {trade} ×{shortage}; neighbouring {neighbour} has {idle} idle"
        ),
        "more": "…and {n} more",
        "weekly_title": "📊 {enterprise} weekly digest",
        "weekly_covers": "{start} to {end}",
        "weekly_posted": "Posted this week",
        "weekly_open": "Open now",
        "weekly_received": "Workers in (your shortages)",
        "weekly_supplied": "Workers out (your idle workers)",
        "weekly_ratings_received": "Ratings of your workers",
        "weekly_ratings_given": "Ratings you gave",
        "weekly_workers": "Workers: {idle} idle · {busy} on duty",
        "weekly_idle_trade": "• {trade}: {workers} idle",
        "chart_title": "{region}: open shortage vs idle workers",
        "chart_subtitle": (
            "As of {day} 00:00 · open shortage {shortage}, idle {idle} · "
            "top {n} regions by shortage"
        ),
        "chart_shortage": "Shortage",
        "chart_idle": "Idle",
        "chart_xlabel": "Workers",
        "chart_empty": "No open shortages or idle workers",
        "sheet_summary": "Summary",
        "sheet_regions": "Sub-regions",
        "sheet_trade_grades": "Trades x grades",
        "sheet_deals": "Deals yesterday",
        "sheet_stale": "Stale shortages",
        "sheet_price": "Price alerts",
        "sheet_cover": "Neighbour cover",
        "col_item": "Item",
        "col_value": "Value",
        "col_code": "Code",
        "col_region": "Region",
        "col_shortage_postings": "Shortage postings",
        "col_shortage": "Shortage workers",
        "col_idle_postings": "Idle postings",
        "col_idle": "Idle workers",
        "col_trade": "Trade",
        "col_grade": "Grade",
        "col_time": "Accepted at",
        "col_enterprise": "Enterprise",
        "col_supplier": "Supplier",
        "col_project": "Project",
        "col_headcount": "Workers",
        "col_price": "Price (CNY/month)",
        "col_guide": "Guide price (CNY/month)",
        "col_vs_guide": "vs guide",
        "col_days": "Days open",
        "col_neighbour": "Neighbour",
        "col_neighbour_idle": "Neighbour spare idle",
        "sum_region": "Region",
        "sum_day": "Digest date",
        "sum_report_day": "Reporting day",
        "sum_new_shortage_postings": "New shortage postings",
        "sum_new_shortage": "New shortage workers",
        "sum_new_idle_postings": "New idle postings",
        "sum_new_idle": "New idle workers",
        "sum_open_shortage": "Open shortage workers",
        "sum_open_idle": "Open idle workers",
        "sum_deals": "Deals",
        "sum_deal_headcount": "Deal workers",
        "sum_avg_price": "Average price (CNY/month)",
        "sum_vs_guide": "vs guide",
        "sum_ratings": "Ratings",
        "sum_avg_stars": "Average stars",
        "sum_stale": "Shortages open > {days} days",
    },
}


def _locale(locale: str) -> str:
    return locale if locale in LABELS else "zh"


def _show(value: object) -> str:
    # whole numbers get thousands separators: 100,884 reads at a glance on a phone
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def label(locale: str, key: str, /, **params: object) -> str:
    """The label `key` in `locale` (zh if unknown), filled: plain text (charts, workbooks)."""
    return LABELS[_locale(locale)][key].format(**{k: _show(v) for k, v in params.items()})


def html_label(locale: str, key: str, /, **params: object) -> str:
    """The label filled with HTML-escaped values, for Telegram's HTML parse mode."""
    template = html.escape(LABELS[_locale(locale)][key], quote=False)
    return template.format(**{k: html.escape(_show(v), quote=False) for k, v in params.items()})


def signed_pct(value: Decimal) -> str:
    """+5.0% / −40.0% with a true minus sign, readable on a phone."""
    if value > 0:
        return f"+{value}%"
    if value < 0:
        return f"−{-value}%"
    return f"{value}%"
