#!/usr/bin/env python3
"""Writes N realistic Vietnamese articles as JSON lines for `newsdesk import`.

Bodies are about 6 KB of Markdown paragraphs made from the sample article's own vocabulary
(tests/fixtures), so text length, diacritics and word mix resemble the portal's real content.
Deterministic: the same N and seed give the same file.

    bench/gen-articles.py 100000 > /tmp/articles.jsonl
"""

import json
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests/fixtures/hanoi-home-affairs-2020-01-14.txt"

CATEGORIES = [
    "Cải cách hành chính", "Tổ chức bộ máy", "Công chức, viên chức", "Thi đua khen thưởng",
    "Tôn giáo", "Văn thư lưu trữ", "Chính quyền địa phương", "Thanh niên", "Tin tức sự kiện",
    "Văn bản pháp quy",
]
AUTHORS = [
    "Hoàng Anh", "Nguyễn Văn Bình", "Trần Thị Cúc", "Lê Minh Đức", "Phạm Thu Hà", "Vũ Quốc Huy",
    "Đặng Thị Lan", "Bùi Văn Long", "Đỗ Thị Mai", "Hồ Quang Nam", "Ngô Thị Oanh", "Dương Văn Phú",
]


def vocabulary():
    text = FIXTURE.read_text(encoding="utf-8")
    body = text.split("Các bài mới đăng")[0]
    words = re.findall(r"[^\s.,;:()“”\"…]+", body)
    return [w for w in words if not w.isdigit()]


def sentence(rng, words, lo=8, hi=22):
    chosen = [rng.choice(words) for _ in range(rng.randint(lo, hi))]
    chosen[0] = chosen[0][:1].upper() + chosen[0][1:]
    return " ".join(chosen) + "."


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 2020
    rng = random.Random(seed)
    words = vocabulary()
    tags = sorted({w.lower() for w in words if len(w) > 3})[:60]
    start = datetime(2019, 1, 1, tzinfo=timezone.utc)
    span = int(timedelta(days=5 * 365).total_seconds())
    out = sys.stdout
    for i in range(count):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(8, 14)))
        title = title[:1].upper() + title[1:]
        paragraphs = []
        size = 0
        while size < 6000:
            p = " ".join(sentence(rng, words) for _ in range(rng.randint(3, 6)))
            paragraphs.append(p)
            size += len(p.encode("utf-8"))
        when = start + timedelta(seconds=rng.randrange(span))
        record = {
            "slug": f"bai-{i + 1}",
            "title": title,
            "summary": sentence(rng, words, 20, 35),
            "source": "HNP",
            "body": "\n\n".join(paragraphs),
            "body_format": "markdown",
            "category": rng.choice(CATEGORIES),
            "tags": rng.sample(tags, 2),
            "authors": [rng.choice(AUTHORS)],
            "status": "published",
            "published_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
