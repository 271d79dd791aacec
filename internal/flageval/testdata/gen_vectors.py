#!/usr/bin/env python3
"""Generate bucketing v1 test vectors (docs/bucketing.md).

This is a second, independent implementation of bucketing v1, written only from
the published algorithm (it does not read or call internal/flag/bucket.go):

    h      = SHA-256("v1" 0x1F purpose 0x1F salt 0x1F flag_key 0x1F unit_id)   # UTF-8 bytes
    bucket = uint64_big_endian(h[0:8]) mod 100000
    in_rollout(pct) = bucket < pct_in_thousandths                             # integer math

Deterministic: a fixed-seed RNG, no clock, no environment, same bytes on every run.

Regenerate (from the repository root):

    python3 internal/flag/testdata/gen_vectors.py

which rewrites internal/flag/testdata/bucketing_vectors.json; then check it with

    go test ./internal/flag -run TestBucketVectors
"""

import hashlib
import json
import os
import random
import sys
from decimal import Decimal

BUCKETS = 100_000
SEP = b"\x1f"
SEED = 20250601
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bucketing_vectors.json")


def bucket(purpose: str, salt: str, flag_key: str, unit_id: str) -> int:
    msg = SEP.join(s.encode("utf-8") for s in ("v1", purpose, salt, flag_key, unit_id))
    h = hashlib.sha256(msg).digest()
    return int.from_bytes(h[:8], "big") % BUCKETS


def thousandths(pct: str) -> int:
    """Decimal percentage with at most 3 decimals -> whole thousandths of a percent."""
    d = Decimal(pct)
    t = d * 1000
    assert t == t.to_integral_value(), pct
    t = int(t)
    assert 0 <= t <= BUCKETS, pct
    return t


def pct_number(t: int):
    """Thousandths -> a JSON number whose text has at most 3 decimals (100, 12.5, 0.001)."""
    if t % 1000 == 0:
        return t // 1000
    f = t / 1000
    # repr of a float is the shortest round-trip text; for k/1000 that is the <=3-decimal form.
    assert Decimal(repr(f)) * 1000 == t, (t, repr(f))
    return f


rng = random.Random(SEED)


def rand_uuid() -> str:
    b = bytearray(rng.getrandbits(128).to_bytes(16, "big"))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def rand_word(n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


CATEGORIES = ["ui", "backend", "admin", "integration", "experiment", "ops"]


def rand_flag_key() -> str:
    return f"{rng.choice(CATEGORIES)}.{rand_word(rng.randint(3, 8))}_{rand_word(rng.randint(3, 8))}"


def rand_email() -> str:
    domain = rng.choice(["example.com", "voiceassist.io", "mail.example.org", "Example.COM"])
    local = rand_word(rng.randint(1, 10))
    if rng.random() < 0.3:
        local += "." + rand_word(rng.randint(1, 6))
    if rng.random() < 0.2:
        local += "+" + rand_word(3)
    return f"{local}@{domain}"


def rand_numeric() -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return str(rng.randint(0, 9))
    if kind == 1:
        return str(rng.randint(1, 10**6))
    if kind == 2:
        return str(rng.getrandbits(63))  # int64-ish
    return str(rng.randint(0, 999)).zfill(8)  # leading zeros matter: "00000042" != "42"


cases = []

# Percentages: the edges, then (per case) a random one or one exactly at the case's bucket boundary.
EDGES = ["0", "0.001", "50", "99.999", "100"]


def add(note: str, purpose: str, salt: str, flag_key: str, unit_id: str, pct: str = None):
    b = bucket(purpose, salt, flag_key, unit_id)
    i = len(cases)
    if pct is None:
        mode = i % 9
        if mode < 5:
            t = thousandths(EDGES[mode])
        elif mode == 5:
            t = b  # bucket == threshold -> excluded (strict <)
        elif mode == 6:
            t = b + 1  # smallest percentage that includes this unit
        elif mode == 7:
            t = rng.randint(0, 100) * 1000  # whole percent
        else:
            t = rng.randint(0, BUCKETS)  # any 3-decimal percentage
    else:
        t = thousandths(pct)
    cases.append(
        {
            "note": note,
            "purpose": purpose,
            "salt": salt,
            "flag_key": flag_key,
            "unit_id": unit_id,
            "bucket": b,
            "in_rollout": {"pct": pct_number(t), "included": b < t},
        }
    )


PURPOSES = ["rollout", "variant"]

# --- Hand-picked cases (both purposes each). -------------------------------------------------
FK = "experiment.new_checkout"
hand = [
    # Worked examples for docs/bucketing.md.
    ("doc example: default salt", FK, FK, "user-42"),
    ("doc example: uuid", "ui.dark_mode", "ui.dark_mode", "3f2b9c1e-8d4a-4b6f-9e2d-7a1c5b8e0f12"),
    ("doc example: email", "backend.fast_path", "backend.fast_path", "alice@example.com"),
    # Salt.
    ("empty salt", FK, "", "user-42"),
    ("custom salt", FK, "2025-q3-reshuffle", "user-42"),
    ("empty unit id", FK, FK, ""),
    ("empty salt and unit id", FK, "", ""),
    ("all empty", "", "", ""),
    ("empty flag key", "", "s", "user-42"),
    # Unicode. No normalization: NFC and NFD of the same text are different ids.
    ("unicode CJK", FK, FK, "用户-四十二"),
    ("unicode CJK salt and key", "实验.新结账", "盐", "ユーザー"),
    ("unicode Korean", FK, FK, "사용자"),
    ("unicode emoji", FK, FK, "😀"),
    ("unicode emoji ZWJ sequence", FK, FK, "👩\u200d💻 dev"),
    ("unicode emoji flag", FK, FK, "🇩🇪"),
    ("unicode NFC e-acute", FK, FK, "caf\u00e9"),
    ("unicode NFD e + combining acute", FK, FK, "cafe\u0301"),
    ("unicode stacked combining marks", FK, FK, "Z\u0351\u036b\u0343\u036a\u0302\u036b"),
    ("unicode RTL Arabic", FK, FK, "مستخدم-٤٢"),
    ("unicode RTL Hebrew", FK, FK, "משתמש"),
    ("unicode RTL override mark", FK, FK, "user\u202e24"),
    ("unicode BOM prefix", FK, FK, "\ufeffuser-42"),
    ("unicode astral plane", FK, FK, "\U0001d538\U0001d539\U00010348"),
    ("unicode max code point", FK, FK, "\U0010ffff"),
    ("unicode non-breaking space", FK, FK, "user\u00a042"),
    # Whitespace and case are significant.
    ("trailing space", FK, FK, "user-42 "),
    ("uppercase", FK, FK, "USER-42"),
    ("newline and tab", FK, FK, "user\n\t42"),
    # Control bytes hashed as bytes.
    ("NUL in unit id", FK, FK, "user\x0042"),
    ("only NUL", FK, FK, "\x00"),
    ("NUL in salt", FK, "s\x00alt", "user-42"),
    ("0x1F in unit id", FK, FK, "user\x1f42"),
    ("0x1F only", FK, FK, "\x1f"),
    # Field-separator collision (documented limitation): A, B and C all hash the same byte string
    # "v1" 0x1F purpose 0x1F "s" 0x1F "a" 0x1F "b" 0x1F "c".
    ("0x1F collision A: key 'a\\x1fb' unit 'c'", "a\x1fb", "s", "c"),
    ("0x1F collision B: key 'a' unit 'b\\x1fc'", "a", "s", "b\x1fc"),
    ("0x1F collision C: salt 's\\x1fa' key 'b' unit 'c'", "b", "s\x1fa", "c"),
    ("trailing 0x1F in unit id", FK, FK, "user-42\x1f"),
]
for note, key, salt, unit in hand:
    for p in PURPOSES:
        add(note, p, salt, key, unit)

# --- Very long ids (10 KB). --------------------------------------------------------------------
long_ascii = "".join(rng.choice("0123456789abcdef") for _ in range(10 * 1024))
long_cjk = "長" * (10 * 1024 // 3)  # 3 bytes each in UTF-8 -> 10,239 bytes
long_emoji = "🚀" * (10 * 1024 // 4)  # 4 bytes each -> 10,240 bytes
long_nul = "\x00" * 10 * 1024
for note, key, salt, unit in [
    ("10 KB ascii unit id", FK, FK, long_ascii),
    ("10 KB ascii unit id, last byte changed", FK, FK, long_ascii[:-1] + ("0" if long_ascii[-1] != "0" else "1")),
    ("10 KB CJK unit id", FK, FK, long_cjk),
    ("10 KB emoji unit id", FK, FK, long_emoji),
    ("10 KB NUL unit id", FK, FK, long_nul),
    ("10 KB salt", FK, long_ascii, "user-42"),
]:
    for p in PURPOSES:
        add(note, p, salt, key, unit)

# --- Every fixed percentage edge on the same units (so each edge appears for both purposes). -----
for unit in ["user-1", "user-2", "3f2b9c1e-8d4a-4b6f-9e2d-7a1c5b8e0f12"]:
    for p in PURPOSES:
        for e in EDGES + ["0.5", "1", "12.345", "33.333", "66.667", "99"]:
            add(f"pct edge {e}", p, FK, FK, unit, pct=e)

# --- Random bulk: typical UUIDs, emails, numeric ids, mixed salts. ------------------------------
gen = [("uuid", rand_uuid), ("email", rand_email), ("numeric id", rand_numeric)]
flag_keys = [rand_flag_key() for _ in range(20)]
while len(cases) < 1200:
    note, f = gen[len(cases) % 3]
    key = rng.choice(flag_keys)
    r = rng.random()
    if r < 0.6:
        salt, salt_note = key, "default salt"
    elif r < 0.8:
        salt, salt_note = "", "empty salt"
    else:
        salt, salt_note = rand_word(rng.randint(4, 12)), "custom salt"
    add(f"{note}, {salt_note}", rng.choice(PURPOSES), salt, key, f())

# Sanity: the collision pairs really collide.
by_note = {(c["note"], c["purpose"]): c["bucket"] for c in cases}
for p in PURPOSES:
    assert by_note[("0x1F collision A: key 'a\\x1fb' unit 'c'", p)] == by_note[("0x1F collision B: key 'a' unit 'b\\x1fc'", p)]
    assert by_note[("0x1F collision A: key 'a\\x1fb' unit 'c'", p)] == by_note[("0x1F collision C: salt 's\\x1fa' key 'b' unit 'c'", p)]

doc = {
    "algorithm": "bucketing v1: bucket = uint64_be(SHA-256(\"v1\" 0x1F purpose 0x1F salt 0x1F flag_key 0x1F unit_id)[0:8]) mod 100000; "
    "strings are UTF-8, hashed as bytes, no normalization; in_rollout.included = bucket < pct*1000 (integer thousandths)",
    "spec": "docs/bucketing.md",
    "generator": "internal/flag/testdata/gen_vectors.py (independent Python/hashlib implementation, seed %d)" % SEED,
    "regenerate": "python3 internal/flag/testdata/gen_vectors.py",
    "check": "go test ./internal/flag -run TestBucketVectors",
    "buckets": BUCKETS,
    "count": len(cases),
    "cases": cases,
}

# One case per line keeps diffs readable; everything else is plain json.dumps.
with open(OUT, "w", encoding="utf-8", newline="\n") as fh:
    fh.write("{\n")
    for k, v in doc.items():
        if k != "cases":
            fh.write(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n")
    fh.write(' "cases": [\n')
    fh.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
    fh.write("\n ]\n}\n")
print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)
