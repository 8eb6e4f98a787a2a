"""The JSON Schema of the moments format, made from the same description the checker walks
(:mod:`geotrigger.rules.format`), so the two cannot drift apart.

It is committed at ``rules/schema/moments.schema.json`` for editors; ``geotrigger rules
schema --out FILE`` writes it again, and a test checks the committed file is current.
"""

from __future__ import annotations

import json
from typing import Any

from geotrigger.rules.format import DOCUMENT


def moments_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a moments file, version 1."""
    body = DOCUMENT.schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "geotrigger moments file (version 1)",
        **body,
    }


def schema_text() -> str:
    """The schema as the committed file holds it: indented JSON ending in a newline."""
    return json.dumps(moments_schema(), indent=2, ensure_ascii=False) + "\n"
