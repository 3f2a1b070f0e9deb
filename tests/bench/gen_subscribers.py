#!/usr/bin/python3
"""Writes the benchmark's CSV: N rows with 5 attribute columns, about 3%
invalid rows and 2% duplicates of earlier rows. Deterministic (seeded)."""
import random
import sys

n = int(sys.argv[1])
out = open(sys.argv[2], "w", newline="")
rnd = random.Random(20260101)
domains = ["example.com", "example.org", "docomo.ne.jp", "ezweb.ne.jp", "mail.example.net",
           "gmail.example", "corp.example.co.jp", "softbank.ne.jp"]
cities = ["Tokyo", "Osaka", "Kyoto", "Sapporo", "Fukuoka", "Nagoya", "Sendai", "Kobe"]
plans = ["free", "basic", "pro", "team"]
out.write("email,name,city,plan,age,score,tag\r\n")
written = []
for i in range(n):
    r = rnd.random()
    if r < 0.03:
        email = rnd.choice(["no-at-sign-%d" % i, "a..b%d@example.com" % i, "x%d@" % i,
                            "sp ace%d@example.com" % i])
    elif r < 0.05 and written:
        email = written[rnd.randrange(len(written))]
    else:
        email = "user%d.%x@%s" % (i, rnd.getrandbits(24), rnd.choice(domains))
        if len(written) < 200000:
            written.append(email)
        else:
            written[rnd.randrange(len(written))] = email
    out.write("%s,Person %d,%s,%s,%d,%d,t%d\r\n" % (
        email, i, rnd.choice(cities), rnd.choice(plans), rnd.randrange(18, 90),
        rnd.randrange(1000), rnd.randrange(50)))
out.close()
