"""What a person reads in a Discord message: its markdown rendered to plain text."""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)\s]*)\)")


def plain(content: str) -> str:
    """``content`` without markdown: escapes resolved, style markers dropped, a masked
    link shown as its label, code as it is."""
    out: list[str] = []
    i = 0
    while i < len(content):
        char = content[i]
        nxt = content[i + 1] if i + 1 < len(content) else ""
        if char == "\\" and nxt and not nxt.isalnum() and not nxt.isspace():
            out.append(nxt)
            i += 2
        elif char == "`" and (end := content.find("`", i + 1)) > i:
            out.append(content[i + 1 : end])
            i = end + 1
        elif char == "[" and (link := _LINK.match(content, i)):
            out.append(plain(link.group(1)))
            i = link.end()
        elif content.startswith(("**", "__", "~~", "||"), i):
            i += 2
        elif char in "*_" or char == ZERO_WIDTH_SPACE:
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)
