"""Make text safe to publish: no access token and no absolute path of the user's machine.

Cards quote command lines and settings, which may hold `--token hf_...` or `/home/<user>/...`; every card
goes through `sanitize` before it is written or pushed.
"""

from __future__ import annotations

import os
import re

REDACTED = "<redacted>"
_TOKEN = re.compile(r"\b(?:hf_|api_org_)[A-Za-z0-9]{16,}\b")
_TOKEN_FLAG = re.compile(r"(--token[= ])(\S+)")
# An absolute path: `/a/b...` (two segments at least), `~/...` or `C:\...`, not inside a URL or a word.
_ABS_PATH = re.compile(
    r"(?<![\w:/.~-])(?:~/[^\s'\"`<>|)\]]+|/[^\s/'\"`<>|)\]]+(?:/[^\s/'\"`<>|)\]]*)+"
    r"|[A-Za-z]:\\[^\s'\"`<>|)\]]+)"
)


def known_secrets() -> list[str]:
    """Token values text must never show: the environment's and the one stored by `hf auth login`."""
    from huggingface_hub import get_token

    values = [os.environ.get(name) for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")]
    values.append(get_token())
    return [v for v in values if v and len(v) >= 8]


def _basename(match: re.Match) -> str:
    path = match.group(0).rstrip("/\\")
    return re.split(r"[/\\]", path)[-1] or path


def sanitize(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with tokens redacted and absolute local paths replaced by their basename."""
    for secret in (*secrets, *known_secrets()):
        text = text.replace(secret, REDACTED)
    text = _TOKEN_FLAG.sub(rf"\1{REDACTED}", text)
    text = _TOKEN.sub(REDACTED, text)
    return _ABS_PATH.sub(_basename, text)
