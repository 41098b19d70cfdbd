"""How long a questionnaire's form is (độ dài phiếu): its questions and an estimated time.

Shown on the desk's poster and the form's first page, so a citizen knows before starting
what is asked of them. Both figures come from the questionnaire itself:

- the questions are those every respondent is asked (items without skip logic);
- the time is reading plus answering. Reading counts the words (Vietnamese syllables)
  of each asked question at ``READING_WORDS_PER_MINUTE``, and the labels of each distinct
  set of options once (after the first "Rất không hài lòng … Rất hài lòng" a citizen
  knows the scale); answering adds a fixed time per question kind and per page (a
  page load on slow mobile data and the tap on "Tiếp tục"). The total is rounded up to
  whole minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scoring.questionnaire import ItemType, Questionnaire
from survey_app.caching import Cache

# Reading on a phone screen by a general public, many of them elderly; Vietnamese adult
# silent reading is about 200-250 syllables a minute, so this errs on the long side.
READING_WORDS_PER_MINUTE = 180
# Choosing and tapping, by question kind; a free text is optional and short.
ANSWER_SECONDS: dict[ItemType, float] = {"single": 4, "multiple": 8, "number": 8, "text": 30}
PAGE_SECONDS = 4


@dataclass(frozen=True)
class FormLength:
    """The questions every respondent is asked and the minutes the form takes."""

    questions: int
    minutes: int


_LENGTHS: Cache[tuple[str, str], FormLength] = Cache(size=256)


def _words(text: str) -> int:
    return len(text.split())


def form_length(questionnaire: Questionnaire, lang: str | None = None) -> FormLength:
    """The length of ``questionnaire``'s form in ``lang`` (its default language if None)."""
    language = lang if lang in questionnaire.languages else questionnaire.default_language

    def measure() -> FormLength:
        asked = [i for i in questionnaire.items if i.show_if is None]
        words = sum(_words(i.text[language]) for i in asked)
        seen: set[tuple[str, ...]] = set()
        for item in asked:
            labels = tuple(o.label[language] for o in item.options)
            if labels not in seen:
                seen.add(labels)
                words += sum(_words(label) for label in labels)
        pages = len(questionnaire.sections) + (1 if questionnaire.respondent else 0)
        seconds = (
            words * 60 / READING_WORDS_PER_MINUTE
            + sum(ANSWER_SECONDS[i.type] for i in asked)
            + pages * PAGE_SECONDS
        )
        return FormLength(questions=len(asked), minutes=max(1, math.ceil(seconds / 60)))

    return _LENGTHS.get_or_make((questionnaire.content_hash, language), measure)
