#!/usr/bin/env python3
"""demo-volunteers.py — the demo county's roster as the CSV a county office would import
(登记造册): N volunteers (default 300) spread over the villages given, each with a valid
GB 11643 ID number (born in the region, the checksum computed), a distinct phone, skills and
service categories. The same N gives the same file, so importing it again creates nothing.

    scripts/demo-volunteers.py 300 431022100201 431022100202 ... > roster.csv
"""
import random
import sys

SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "明华秀英志强芳建国玉兰小红丽娟海燕晓东春梅桂英德胜文静雪梅永红金凤俊杰婷婷子涵浩然思远一鸣家豪"
SKILLS = ["急救", "驾驶", "维修", "理发", "书法", "法律", "手语", "教育", "厨艺", "电工", "护理", "摄影"]
CATEGORIES = ["elderly", "children", "health", "culture", "legal", "education", "environment", "civility"]
WEIGHTS = [7, 9, 10, 8, 6, 5, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]


def id_number(region, birth, sequence, female):
    """An ID number: the 6-digit area, the birth date, a 3-digit order (odd for men), and
    the ISO 7064 MOD 11-2 check character."""
    order = sequence * 2 + (0 if female else 1)
    body = "%s%s%03d" % (region[:6], birth, order % 1000)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


def main():
    count = int(sys.argv[1])
    villages = sys.argv[2:]
    rng = random.Random(20261207)
    print("姓名,身份证号,手机号,区划代码,技能,服务类别,党员")
    for n in range(count):
        female = rng.random() < 0.55
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        birth = "%04d%02d%02d" % (rng.randint(1955, 2005), rng.randint(1, 12), rng.randint(1, 28))
        # Distinct by construction: n in the order digits and in the phone.
        number = id_number("431022", birth, n % 500, female)
        phone = "1587%07d" % (3510000 + n)
        skills = ";".join(rng.sample(SKILLS, rng.choice([0, 1, 1, 2, 2, 3])))
        categories = ";".join(rng.sample(CATEGORIES, rng.choice([1, 1, 2, 3])))
        party = "是" if rng.random() < 0.3 else "否"
        print(",".join([name, number, phone, villages[n % len(villages)], skills, categories, party]))


if __name__ == "__main__":
    main()
