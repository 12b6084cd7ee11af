"""Latency of the paste parser per message, over every labelled case we hold.

    .venv/bin/python -m bench.parse            # 20 rounds over tests/data/paste_*.jsonl
    .venv/bin/python -m bench.parse -r 50

Each message is parsed once per round after a warm-up round (the word lists are built once per
process). Prints n, mean, p50, p95 and max in milliseconds, and the accuracy on the same cases.
Target: p95 < 5 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from core.paste import parse_paste

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FILES = ("paste_examples.jsonl", "paste_cases.jsonl")


def load_texts() -> list[tuple[str, dict[str, object]]]:
    cases = []
    for name in FILES:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                cases.append((record["text"], record["expect"]))
    return cases


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--rounds", type=int, default=20, help="passes over all cases")
    args = parser.parse_args()

    cases = load_texts()
    for text, _ in cases:  # warm-up: word lists, cn2an, regex caches
        parse_paste(text)
    timings: list[float] = []
    for _ in range(args.rounds):
        for text, _ in cases:
            started = time.perf_counter()
            parse_paste(text)
            timings.append((time.perf_counter() - started) * 1000)

    right = 0
    for text, expect in cases:
        drafts = parse_paste(text)
        right += (drafts[0].as_dict() if drafts else {"kind": None}) == expect
    print(f"paste parser: {len(cases)} messages × {args.rounds} rounds = {len(timings)} parses")
    print(
        f"  ms per message: mean {statistics.fmean(timings):.3f}  "
        f"p50 {percentile(timings, 0.50):.3f}  p95 {percentile(timings, 0.95):.3f}  "
        f"max {max(timings):.3f}   (target p95 < 5 ms)"
    )
    print(f"  posts entirely right: {right}/{len(cases)}")


if __name__ == "__main__":
    main()
