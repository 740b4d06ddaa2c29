#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py — writes the seed corpora tests/fuzz/corpus/<target>/
from the unit tests' inputs, the sample data and hand-written cases, each
file named by the SHA-1 of its bytes (as libFuzzer names its own). Each seed
carries the option bytes its target reads first (see the fuzz_*.cpp file
comments). Rerun after adding cases; existing files are kept, so inputs the
fuzzers found and were committed stay too.

  python3 tests/fuzz/make_seeds.py [--shared ../shared/data]
"""
import argparse
import hashlib
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seed32(n):
    return struct.pack("<I", n)


def c_strings(path, pattern):
    """The first C string argument of calls matching `pattern` in a test file,
    with C escapes resolved (enough for the tests' literals)."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(pattern + r'\(\s*"((?:[^"\\]|\\.)*)"', text):
        raw = m.group(1)
        out.append(raw.encode("utf-8").decode("unicode_escape").encode("latin-1", "surrogateescape"))
    return out


CSV_CASES = [
    b"a,b,c\n1,2,3\n4,5,6\n",
    b"a,b\r\n1,2\r\n3,4",
    b"\xef\xbb\xbfid;name\n1;Z\xc3\xbcrich\n2;\"quoted;semi\"\n",
    b"x\ty\n\"multi\nline\"\t2\n3\t\"a\"\"b\"\n",
    b"h1|h2\n5'11\"|x\n\"ab\"c|d\n",
    b"a,b\n1\n1,2,3\n\n\n4,5\n",
    b"a,b\n\"unterminated,1\n2,3\n",
    b"name,city\nJos\xe9,S\xe3o Paulo\n",
    b"only,a,header\n",
    b"",
    b"\n\n\r\n\r\r\n",
    b"a,b\r1,2\n3,4\r\n5,6",
    b"a,b\n1,\xef\xbb\xbf2\n",
    b"a,a,A,_row,,b\n1,2,3,4,5,6\n",
    b"d,n,f\n2024-01-31,12,1.5e3\n2024-02-29 10:00:00,-7,.5\n,,\n",
    b"'q',x\n'a''b',2\n",
    b"a,b\n\x00,1\n2,\x00\n",
]


def csv_seeds(shared):
    cases = list(CSV_CASES)
    for name in ("titanic.csv", "plays_small.csv"):
        p = os.path.join(shared, name)
        if os.path.exists(p):
            cases.append(open(p, "rb").read()[:3000])
    for i, c in enumerate(cases):
        for mode in (0x00, 0x04 | (i & 0x10), 0x20 | (i % 4)):
            write("csv", bytes([mode]) + seed32(0x9E3779B9 * (i + 1) & 0xFFFFFFFF) + bytes([7 * i % 256]) + c)


def multipart_body(boundary, parts, close=True, preamble=b""):
    b = boundary.encode()
    out = preamble
    for headers, data in parts:
        out += b"--" + b + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n"
    if close:
        out += b"--" + b + b"--\r\n"
    return out


def multipart_seeds():
    boundaries = ["b", "XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "------------------------d74496d66958873e",
                  "a'b(c)+_,-./:=?"]
    for k, bnd in enumerate(boundaries):
        file_part = (b'Content-Disposition: form-data; name="file"; filename="t.csv"\r\nContent-Type: text/csv',
                     b"a,b\r\n1,2\r\n")
        field = (b'Content-Disposition: form-data; name="table"', b"plays")
        ext = (b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''Z%C3%BCrich.csv", b"x\r\n--" +
               bnd.encode()[:3] + b"y")
        bodies = [
            multipart_body(bnd, [field, file_part]),
            multipart_body(bnd, [file_part], close=False),
            multipart_body(bnd, [ext], preamble=b"preamble\r\n"),
            multipart_body(bnd, [(b"Content-Type: text/plain", b"no disposition")]),
            b"--" + bnd.encode() + b"--\r\n",
            multipart_body(bnd, [field]) + b"epilogue",
        ]
        for i, body in enumerate(bodies):
            ct = ("multipart/form-data; boundary=" + bnd + "\n").encode()
            write("multipart", bytes([k]) + seed32(1 + 77 * i) + (ct if i == 0 else b"") + body)


def http_seeds():
    reqs = [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/tables/titanic/rows?limit=0,2&sex=male&name=like:Braund&sort=name:desc HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer r3ad-token\r\nX-Request-Id: abc-123\r\n\r\n",
        b"POST /v1/uploads?filename=t.csv&table=t&mode=replace&delimiter=tab&type.a=bigint HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: text/csv\r\nContent-Length: 8\r\nExpect: 100-continue\r\n\r\na,b\n1,2\n",
        b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\n\r\nGET /readyz HTTP/1.1\r\n\r\nDELETE /v1/uploads/01J HTTP/1.1\r\n"
        b"Content-Length: 0\r\n\r\n",
        b"GET /v1/tables/%E2%82%AC/rows?a%3Db=%25&x=%zz HTTP/1.1\r\n\r\n",
        b"GET /v1/tables HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        b"eyJyb2xlIjoicmVhZCIsImV4cCI6MTkwMDAwMDAwMCwic3ViIjoiZnV6eiJ9.AAAA\r\n\r\n",
        b"PUT /healthz HTTP/1.0\r\n\r\n",
        b"GET http://x/healthz HTTP/1.1\r\n\r\n",
        b"POST /v1/tables/t/indexes HTTP/1.1\r\nContent-Length: 20\r\n\r\n{\"columns\":[\"date\"]}",
    ]
    for i, r in enumerate(reqs):
        for mode in (0, 1 + 16 * i % 256):
            write("http_request", bytes([mode % 256]) + seed32(12345 + 991 * i) + r)


def query_seeds():
    qs = set()
    for f in ("query_params_test.cpp", "sql_render_test.cpp", "cursor_codec_test.cpp"):
        p = os.path.join(ROOT, "tests", "unit", "query", f)
        if os.path.exists(p):
            for s in c_strings(p, r"(?:ParseRows|ParseAgg\w*|AggSql|Q|Rows|Agg|Refused\w*|Error\w*)"):
                qs.add(s)
    qs.update([b"limit=0,2&sex=male&name=like:Braund&sort=name:desc", b"n=in:1,2,3&t=ilike:z*ch&sort=at:desc,t",
               b"day=gte:2024-01-01&at=lt:2024-01-01%2010:00:00&dec=neq:1.5&m=is:notnull",
               b"group_by=song,date&sum=Number%20of%20Plays&format=csv", b"limit=nte:x&where.limit=eq:a,b",
               b"t=lt:10&d=gt:-1e3&count=exact", b"select=%22a,b%22,t&sort=t:asc"])
    for i, q in enumerate(sorted(qs)):
        for mode in (i % 4, 4 | (i % 4), 8 | (i % 4), 24 | (i % 4)):
            write("query", bytes([mode]) + q)


def conf_seeds():
    write("conf", open(os.path.join(ROOT, "conf", "sluice.conf"), "rb").read())
    p = os.path.join(ROOT, "tests", "unit", "config", "config_test.cpp")
    for s in c_strings(p, r"(?:Load|LoadString)"):
        write("conf", s)
    write("conf", b"[server]\nlisten = [::1]:8080, 127.0.0.1:0\nmax_upload_bytes = 2G\nheader_timeout = 250ms\n"
                  b"[auth]\ntokens = read:abc, admin:xyz\n\0\0SLUICE_S3_SECRET_KEY=s\0SLUICE_SERVER_WORKERS=3")
    write("conf", b"[log]\nlevel = debug ; c\nformat = json\n[s3]\npart_size = 5M\npath_style = yes\n")


def jsonl_seeds():
    cases = [
        b'{"a":1,"b":"x","c":null,"d":true,"e":[1,2],"f":{"g":1.50}}\n{"b":"y","a":2}\n',
        b'{"x":1}\r\n{"y":2,"x":3}\n\n{}\n{"z":"","x":4,"x":5}',
        b'{"a":1}\n[1]\n"s"\n{"a":}\n{"a":1} {"b":2}\n{"a":01}\n{"a":"\xff"}\nnope\n',
        b'\xef\xbb\xbf{"k":"\\u00e9\\n\\"q\\""}\n   \n{"k":-0.0e+1}\n',
        b'{"a":"' + b"x" * 300 + b'"}\n',
    ]
    for i, c in enumerate(cases):
        write("jsonl", seed32(31 * i + 5) + bytes([i * 40 % 256]) + c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    a = ap.parse_args()
    csv_seeds(a.shared)
    multipart_seeds()
    http_seeds()
    query_seeds()
    conf_seeds()
    jsonl_seeds()
    for t in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print(t, len(os.listdir(os.path.join(HERE, "corpus", t))))


if __name__ == "__main__":
    main()
