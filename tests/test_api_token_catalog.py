"""The JWT security catalog (shared/reference/jwt-security-cases.md §1.1-1.5): every case has a row.

The rows live in one file per family (tests/test_api_token_signature.py, _header, _claims, _encoding,
_transport); how they are written and sent: tests/token_cases/__init__.py.
"""
from __future__ import annotations

import re

from tests.test_api_token_claims import CASES as CLAIMS
from tests.test_api_token_encoding import CASES as ENCODING
from tests.test_api_token_header import CASES as HEADER
from tests.test_api_token_signature import CASES as SIGNATURE
from tests.test_api_token_transport import CASES as TRANSPORT

CASES = SIGNATURE + HEADER + CLAIMS + ENCODING + TRANSPORT

REQUIRED_IDS = ([f"SIG-{n:02d}" for n in range(1, 21)] + [f"HDR-{n:02d}" for n in range(1, 18)]
                + [f"CLM-{n:02d}" for n in range(1, 35)] + [f"ENC-{n:02d}" for n in range(1, 11)]
                + [f"TRN-{n:02d}" for n in range(1, 17)])


def test_every_catalog_case_is_in_the_table():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    covered = {i[:6] for i in ids}
    assert [i for i in REQUIRED_IDS if i not in covered] == []
    assert all(re.fullmatch(r"(SIG|HDR|CLM|ENC|TRN)-\d\d(-[\w]+)*", i) for i in ids)
