#!/usr/bin/env python3
"""demo-season.py — the demo county's past season as a station's paper records would give
it: for each of the last 12 weeks, two activities in two villages, each with the volunteers
of that village who served and their hours, one JSON body of match's activity.backfill (补录)
per line. The roster is demo-volunteers.py's: its row n (volunteer id FIRST + n) lives in
village n mod len(villages).

    scripts/demo-season.py FIRST_ID ROSTER_SIZE VILLAGE... > season.jsonl

With DEMO_PROJECTS (project ids, one for each theme of ACTIVITIES in order, made by
project.create), each activity belongs to its theme's project, so that the dashboard's
monthly theme (stats.themes) counts the season.
"""
import os
import datetime
import json
import random
import sys

ACTIVITIES = [
    ("elderly", "敬老院义务理发", "孝老爱亲"),
    ("health", "义诊进村", "健康乡村"),
    ("environment", "河道垃圾清理", "美丽乡村"),
    ("children", "留守儿童课业辅导", "关爱未成年人"),
    ("culture", "村史馆讲解", "文化惠民"),
    ("legal", "法律知识进农家", "法治宣传"),
    ("civility", "文明交通劝导", "文明创建"),
    ("education", "老年人智能手机课", "数字助老"),
]


def main():
    if sys.argv[1:] == ["--themes"]:
        for category, title, theme in ACTIVITIES:
            print("%s|%s|%s" % (category, title, theme))
        return
    first, size, villages = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    rng = random.Random(2026)
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    today = datetime.datetime.now(shanghai).date()
    projects = os.environ.get("DEMO_PROJECTS", "").split()
    for week in range(12, 0, -1):
        for slot in range(2):
            day = today - datetime.timedelta(days=7 * week - 2 * slot)
            k = (week * 2 + slot) % len(villages)
            kind = (week + slot * 3) % len(ACTIVITIES)
            category, title, theme = ACTIVITIES[kind]
            start = datetime.datetime.combine(day, datetime.time(9 if slot == 0 else 14, 0), shanghai)
            hours = rng.choice([2.0, 2.5, 3.0])
            people = [first + n for n in range(size) if n % len(villages) == k]
            served = rng.sample(people, min(len(people), rng.randint(5, 14)))
            body = {
                "title": title,
                "category": category,
                "region": villages[k],
                "starts_at": start.isoformat(),
                "ends_at": (start + datetime.timedelta(hours=hours)).isoformat(),
                "reason": "%s主题活动纸质签到表补录" % theme,
                "records": [{"volunteer_id": str(v), "hours": hours} for v in sorted(served)],
            }
            if len(projects) == len(ACTIVITIES):
                body["project_id"] = projects[kind]
            print(json.dumps(body, ensure_ascii=False))


if __name__ == "__main__":
    main()
