"""Why a row was rejected: the one list of reason codes, and the columns that carry them.

Codes are stable snake_case strings, so counts per reason do not split on values inside a message; the
free-text `detail` says what exactly was wrong (the row's type, the token limit, an exception's message).
"""

from __future__ import annotations

from enum import StrEnum

REJECT_STAGE = "reject_stage"  # the stage that rejected the row ("" while it is live)
REJECT_REASON = "reject_reason"  # a `Reason`
REJECT_DETAIL = "reject_detail"  # free text
REJECT_COLUMNS = (REJECT_STAGE, REJECT_REASON, REJECT_DETAIL)


class Reason(StrEnum):
    UNREADABLE_ROW = "unreadable_row"  # the corpus row is not a mapping, or not valid JSON
    TEXT_MISSING = "text_missing"  # the text is None
    TEXT_NOT_STRING = "text_not_string"
    TEXT_EMPTY = "text_empty"
    TEXT_BINARY = "text_binary"  # NUL bytes, or mostly non-printable
    PASSAGE_TOO_LONG = "passage_too_long"  # over max_passage_tokens, with long_passages="skip"
    SENTENCE_TOO_LONG = "sentence_too_long"  # truncation impossible: the first sentence is over the limit
    NO_SEGMENT = "no_segment"  # no segment within the output token limits
    OUTPUT_EMPTY = "output_empty"  # the output to write instructions for is empty or not a string
    NO_USABLE_CANDIDATE = "no_usable_candidate"  # every sampled candidate was cleaned away
    NO_CANDIDATES = "no_candidates"  # a live row reached the filter without candidates
    NONFINITE_PERPLEXITY = "nonfinite_perplexity"  # no candidate could be scored
    INSTRUCTION_DOES_NOT_HELP = "instruction_does_not_help"  # IFD above max_ifd
    STAGE_ERROR = "stage_error"  # the stage raised on this row; the detail holds the exception
    LANGUAGE_MISMATCH = "language_mismatch"  # the passage is not in the `--language` asked for
    EXACT_DUPLICATE = "exact_duplicate"  # same normalised (instruction, input, output) as a kept row
    NEAR_DUPLICATE = "near_duplicate"  # MinHash-similar to a kept row
    CONTAMINATED = "contaminated"  # shares a long n-gram with an evaluation set
    UNSUPPORTED_TERMS = "unsupported_terms"  # the instruction asserts terms its output and passage lack (gate on)
