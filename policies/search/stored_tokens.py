"""Index documents from the tokens stored with each row, without running the segmenter.

`PolicyRevision.tokens` holds the search-mode tokens of "title\\nbody" (policies.lifecycle),
`Interpretation.tokens` those of the interpretation elements, FAQ rows their own. The title
must count more than the body, so its tokens are recovered from the front of the revision's
tokens: jieba segments the title line on its own, so the title's tokens come first and are
all substrings of the title, in order. Re-segmenting 10,000 titles at start-up would cost
seconds; this costs a string search per token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from policies.search.document import Field, IndexedDocument
from policies.search.normalize import normalize_query
from policies.text.docno import DocNoError, parse_doc_no

# Search mode emits sub-words before the word that contains them, so a title token may
# start up to this many characters before the end of the previous one.
_SUBWORD_BACKTRACK = 16
_TRAILING_NON_WORD = re.compile(r"[^\w\u3400-\u9fff]+$")


def split_title_tokens(title: str, tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    """(title tokens, body tokens) of a revision's stored tokens."""
    title_text = title.lower()
    # The last word of the title comes after its own sub-words, so reaching the end of the
    # title (trailing punctuation aside) means the title's tokens are all consumed.
    end = len(_TRAILING_NON_WORD.sub("", title_text))
    covered = 0
    cut = 0
    for i, token in enumerate(tokens):
        if covered >= end:
            break
        found = title_text.find(token, max(0, covered - _SUBWORD_BACKTRACK))
        if found < 0:
            break
        covered = max(covered, found + len(token))
        cut = i + 1
    return list(tokens[:cut]), list(tokens[cut:])


def doc_no_tokens(doc_no: str | None) -> list[str]:
    """The 文号 as a whole and as issuer and year, the way a question mentions it."""
    if not doc_no:
        return []
    try:
        parsed = parse_doc_no(doc_no, max_year=9999)
    except DocNoError:
        return [normalize_query(doc_no).text]
    return [parsed.normalized.lower(), parsed.issuer.lower(), str(parsed.year)]


def indexed_document(
    *,
    policy_id: int,
    title: str,
    doc_no: str | None,
    revision_tokens: str,
    interpretation_tokens: str = "",
    keywords: Sequence[str] = (),
    faq_tokens: Sequence[str] = (),
    status: str,
    agency: str = "",
    topics: Sequence[str] = (),
    audience: str = "",
    year: int | None = None,
) -> IndexedDocument:
    title_tokens, body_tokens = split_title_tokens(title, revision_tokens.split())
    fields = {
        Field.TITLE: title_tokens,
        Field.DOC_NO: doc_no_tokens(doc_no),
        Field.KEYWORDS: [k.strip().lower() for k in keywords if k.strip()],
        Field.BODY: body_tokens,
        Field.INTERPRETATION: interpretation_tokens.split(),
        Field.FAQ: list(faq_tokens),
    }
    return IndexedDocument(policy_id=policy_id, fields=fields, status=status, agency=agency,
                           topics=tuple(topics), audience=audience, year=year)
