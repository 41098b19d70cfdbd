"""How much the citizen form takes, and from whom (the ``RATELIMIT_*`` settings).

A centre's Wi-Fi or a carrier's NAT puts many phones behind one public address, so the
limits count what a script does and a busy centre does not:

- ``RATELIMIT_FORM``: the POSTs of one form, by its submission id. A citizen posts each
  page once or a few times (back, another language, a forgotten answer); a script
  replaying one form is stopped;
- ``RATELIMIT_REFUSED``: per address, the POSTs no page of the form sends: no valid
  submission id, no valid CSRF token, more fields than the form has, answers to questions
  it does not have or values outside their options, answers missing from pages already
  passed. Once an address has used them up, its POSTs are refused for the window;
- ``RATELIMIT_DESK``: the submissions a desk *stored* (junk posted to its form never
  closes it to citizens), against stuffing one desk;
- ``RATELIMIT_SUBMIT`` (final POSTs) and ``RATELIMIT_CLIENT`` (every POST) per address:
  generous ceilings, a flood guard only (the defaults let some 600 complete forms an hour
  through one address);
- ``RATELIMIT_CODE_MISSES``: per address, dossier codes opened or typed that do not exist
  (guessing codes); typos caught by the check character are not counted.

Counters live in flask-limiter's storage (``RATELIMIT_STORAGE_URI``), under its key prefix.
A limit reached raises ``TooManyRequests``; the citizen blueprint then shows the same page
again with the answers posted and a message, never a page that loses them.
"""

from __future__ import annotations

from flask import Response, g
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from scoring.questionnaire import Questionnaire
from survey_app.caching import Cache
from survey_app.extensions import limiter
from survey_app.privacy import client_key
from survey_app.services.citizen_form import FormState, ShowStep
from survey_app.services.desk_surveys import DeskRef
from survey_app.settings import settings

# Counter scopes in the limiter's storage.
FORM_SCOPE = "citizen-form-posts"
REFUSED_SCOPE = "citizen-refused-posts"
DESK_SCOPE = "citizen-desk-stored"

#: Problems of values no page of the form can send: options are radio buttons and
#: checkboxes, and the form only has the questionnaire's items.
IMPOSSIBLE_ANSWERS = frozenset(
    {
        "answer.unknown",
        "answer.not_option",
        "answer.unknown_code",
        "answer.not_a_code",
        "answer.one_choice",
        "answer.one_code",
    }
)

_PARSED: Cache[str, list[RateLimitItem]] = Cache(size=16)


def _limits(text: str) -> list[RateLimitItem]:
    return _PARSED.get_or_make(text, lambda: parse_many(text))


def _key(scope: str, value: str) -> tuple[str, ...]:
    # flask-limiter's own keys start with RATELIMIT_KEY_PREFIX when one is set.
    prefix = settings().rate_limit_key_prefix
    return (prefix, scope, value) if prefix else (scope, value)


def _room(limits: str, key: tuple[str, ...]) -> bool:
    """Whether every limit of ``limits`` has room for one more under ``key``."""
    return all(limiter.limiter.test(item, *key) for item in _limits(limits))


def _hit(limits: str, key: tuple[str, ...]) -> bool:
    """Count one under ``key``; False when a limit was already reached."""
    return all([limiter.limiter.hit(item, *key) for item in _limits(limits)])


# --------------------------------------------------------------------------- decorators

client_limit = limiter.limit(lambda: settings().rate_limit_client, methods=["POST"])
submit_limit = limiter.limit(
    lambda: settings().rate_limit_submit,
    key_func=lambda: f"submit:{client_key()}",
    methods=["POST"],
)


def _missed_code(response: Response) -> bool:
    return bool(g.get("dossier_code_missed"))


# Opening a dossier code that does not exist, typed or in a link: what guessing looks like
# (``RATELIMIT_CODE_MISSES``). One count for both ways in (typed, and /c/<code>), hence a
# shared limit; a view sets ``g.dossier_code_missed`` when the code was not found.
code_miss_limit = limiter.shared_limit(
    lambda: settings().rate_limit_code_misses,
    scope="dossier-code-misses",
    key_func=client_key,
    methods=["GET"],
    deduct_when=_missed_code,
)


# --------------------------------------------------------------------------- forms, addresses


def check_address() -> None:
    """Refuse (429) a POST from an address that used up its refused posts."""
    if limiter.enabled and not _room(
        settings().rate_limit_refused, _key(REFUSED_SCOPE, client_key())
    ):
        raise TooManyRequests()


def count_refused() -> None:
    """Count one POST of this address that no page of the form sends."""
    if limiter.enabled:
        _hit(settings().rate_limit_refused, _key(REFUSED_SCOPE, client_key()))


def count_form_post(uid: str) -> None:
    """Count one POST of form ``uid``; 429 once the form has used up ``RATELIMIT_FORM``."""
    if limiter.enabled and not _hit(settings().rate_limit_form, _key(FORM_SCOPE, uid)):
        raise TooManyRequests()


def is_refused_post(
    questionnaire: Questionnaire,
    posted: FormState,
    shown: ShowStep,
) -> bool:
    """Whether a POST is one no page of the form sends: answers to a question the form
    does not have or values outside the options, or a problem on a page before the one
    posted (pages are checked as they are left, and later pages carry the earlier
    answers). A page's own answers missing or mistyped are a citizen's, never counted."""
    if any(p.code in IMPOSSIBLE_ANSWERS for p in shown.problems.values()):
        return True
    if shown.problems and shown.step < posted.step:
        return True
    known = {item.code for item in questionnaire.items}
    return any(code not in known for code in posted.raw)


# --------------------------------------------------------------------------- desks


class LimiterDeskLimit:
    """The desks' limit (``RATELIMIT_DESK``) kept by flask-limiter's storage.

    A desk's count is of stored submissions only, so junk posted to its form, which the
    per-address limits refuse, never closes it to genuine citizens. The count is checked
    before the INSERT and raised after it, so submissions in flight when the limit is
    reached are all stored: the overshoot is at most the requests in flight.
    """

    def open(self, desk: DeskRef) -> bool:
        if not limiter.enabled:
            return True
        return _room(settings().rate_limit_desk, _key(DESK_SCOPE, desk.public_id))

    def count(self, desk: DeskRef) -> None:
        if limiter.enabled:
            _hit(settings().rate_limit_desk, _key(DESK_SCOPE, desk.public_id))


DESK_LIMIT = LimiterDeskLimit()
