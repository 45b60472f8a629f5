"""What an email's reader should take in at a glance, marked once in the plain-text template.

A template wraps lines in ``{% call block("facts") %}…{% endcall %}`` and a fact's label in
``label(_("Region:"))``. The plain-text part is the text with the marks removed; the HTML part
lays out the same lines by kind (a table of facts, a highlighted deadline, ...). So both parts
come from one source and never disagree.

A mark carries a random part made per ``Marks`` (one per renderer), so text that a customer or
partner wrote can never pass for a mark, whatever it contains. A template without marks (an
admin's override written before them) is all plain paragraphs, as before.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property

# The kinds a block may be; the layout knows how to show each.
KINDS = ("facts", "deadline", "contact", "quote", "commands", "footer")


@dataclass(frozen=True)
class Block:
    kind: str  # "paragraph" or one of KINDS
    lines: tuple[str, ...]  # plain lines; in facts and contact a line may carry a label mark


@dataclass(frozen=True)
class Fact:
    label: str  # "" when the line has no label
    value: str


@dataclass(frozen=True)
class View:
    """A block as the HTML layout shows it: its lines, and its facts as label and value.

    An object rather than a dict: the layout asks each block for its kind several times, and
    Jinja2 finds an attribute at once where a dict's key costs it a failed attribute lookup
    first. A layout that writes ``block["kind"]`` still works (Jinja2 then falls back to the
    attribute)."""

    kind: str
    lines: list[str]
    marks: "Marks"
    marked: tuple[str, ...]  # the lines as the block holds them, labels marked

    @cached_property
    def facts(self) -> list[Fact]:
        """Only facts and contact blocks are shown as facts: worked out when a layout asks."""
        return [self.marks.fact(line) for line in self.marked]


class Marks:
    def __init__(self) -> None:
        nonce = secrets.token_hex(8)
        self._open = f"\x1b[{nonce}:"
        self._close = "]\x1b"
        self._label_start, self._label_end = f"\x1b<{nonce}>", f"\x1b</{nonce}>"
        self._end = f"{self._open}end{self._close}"

    # Template globals -------------------------------------------------------------------

    def block(self, kind: str, caller) -> str:
        """``{% call block("facts") %}`` lines ``{% endcall %}``: the lines, marked as ``kind``."""
        if kind not in KINDS:
            raise ValueError(f"block({kind!r}): not one of {', '.join(KINDS)}")
        body = caller().strip("\n")
        return f"{self._open}{kind}{self._close}\n{body}\n{self._end}\n" if body.strip() else ""

    def label(self, text: str) -> str:
        """The label of a fact ("Region:"), so that the HTML can set it in a column of its own."""
        return f"{self._label_start}{text}{self._label_end}"

    # Reading a rendered text --------------------------------------------------------------

    def plain(self, text: str) -> str:
        """The text as the plain-text part shows it: every mark removed."""
        if self._open not in text:  # an override written without marks
            return self.unlabelled(text)
        return self.unlabelled("\n".join(line for line in text.split("\n") if not self._kind(line)))

    def blocks(self, text: str) -> list[Block]:
        """The text as blocks: marked blocks as marked, the rest as paragraphs (split at blank lines)."""
        found: list[Block] = []
        kind, lines = None, []

        def flush_paragraphs(chunk: list[str]) -> None:
            paragraph: list[str] = []
            for line in chunk + [""]:
                if line.strip():
                    paragraph.append(line)
                elif paragraph:
                    found.append(Block("paragraph", tuple(self.unlabelled(p) for p in paragraph)))
                    paragraph = []

        def add_block(kind: str, chunk: list[str]) -> None:
            while chunk and not chunk[0].strip():
                chunk = chunk[1:]
            while chunk and not chunk[-1].strip():
                chunk = chunk[:-1]
            if chunk:  # blank lines inside a block stay: a quoted need may have paragraphs
                found.append(Block(kind, tuple(chunk)))

        is_mark, kind_of = self._open, self._kind
        for line in text.split("\n"):
            mark = kind_of(line) if line.startswith(is_mark) else None  # most lines: no mark, no call
            if mark is None:
                lines.append(line)
            elif mark == "end" and kind is not None:
                add_block(kind, lines)
                kind, lines = None, []
            elif mark != "end":
                if kind is None:
                    flush_paragraphs(lines)
                else:  # a block inside a block: the outer one ends here
                    add_block(kind, lines)
                kind, lines = mark, []
        if kind is None:
            flush_paragraphs(lines)
        else:
            add_block(kind, lines)
        return found

    def view(self, block: Block) -> View:
        return View(block.kind, [self.unlabelled(line) for line in block.lines], self, block.lines)

    def fact(self, line: str) -> Fact:
        """A line of a facts or contact block as its label and its value."""
        start = line.find(self._label_start)
        end = line.find(self._label_end, start + 1)
        if start == -1 or end == -1:
            return Fact("", self.unlabelled(line).strip())
        label = line[start + len(self._label_start):end]
        return Fact(label.strip(), self.unlabelled(line[:start] + line[end + len(self._label_end):]).strip())

    def _kind(self, line: str) -> str | None:
        if line.startswith(self._open) and line.endswith(self._close):
            return line[len(self._open):-len(self._close)]
        return None

    def unlabelled(self, line: str) -> str:
        if "\x1b" not in line:  # most lines carry no label
            return line
        return line.replace(self._label_start, "").replace(self._label_end, "")
