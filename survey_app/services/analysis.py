"""A campaign's responses as a DataFrame, and its indices computed by ``scoring``.

Phân tích kết quả khảo sát. Everything numeric comes from :mod:`scoring`; this
module only loads the answers, describes the design and the domains (the
period, the officer's agency subtree, a desk, a respondent group) and caches
the result. An officer's view is a *domain* of the whole campaign design, never
a design built on fewer rows, so its standard errors match R's ``subset()``.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import BigInteger, Select, create_engine, func, null, or_, select
from sqlalchemy.pool import NullPool

from scoring.compare import Difference, difference_test
from scoring.questionnaire import IndexNode, Questionnaire
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, QuestionnaireVersion, Submission
from survey_app.questions import kind_of
from survey_app.services.questionnaires import definition
from survey_app.services.weighting_settings import WeightingSettings
from survey_app.services.weighting_settings import current as current_settings
from survey_app.settings import settings

# Columns of the analysis frame besides the item and respondent codes.
META_COLUMNS = ("submission_id", "desk", "agency", "route", "submitted_at")


# ------------------------------------------------------------------ loading
def choice_columns(questionnaire: Questionnaire) -> list[str]:
    """Item and respondent codes whose answers are single choices (index and domain inputs)."""
    codes = [item.code for item in questionnaire.items if kind_of(item).analysed]
    codes += [item.code for item in questionnaire.respondent if kind_of(item).analysed]
    return list(dict.fromkeys(codes))


@dataclass
class Responses:
    """A campaign's responses: the wide frame and its free-text answers."""

    frame: pd.DataFrame  # one row per submission (META_COLUMNS + choice item codes)
    comments: pd.DataFrame  # submission_id, text


# On PostgreSQL a load of more rows than this is read in LOAD_PARTS concurrent parts.
PARALLEL_LOAD_ROWS = 20_000
LOAD_PARTS = 4


def _read_postgresql(
    campaign_id: int, codes: list[str], text_codes: list[str], after_id: int, until_id: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Single choices and free texts of the submissions with ids in (after_id, until_id].

    The database writes each part as one CSV text (``string_agg`` of
    ``concat_ws``), with the part's free texts beside it as one JSON array, in
    one pass over the part's rows: its cores extract ``answers ->> code`` in
    parallel, and Python receives a few large strings for pandas to parse, not
    200,000 rows. The CSV values are integers and route codes: no quoting needed.
    Each column is read with its own dtype, and the submission time as whole
    microseconds since 1970 (the stored UTC instant): the text PostgreSQL writes
    for a timestamp drops a zero fraction ("17:00:00" beside "11:13:09.292294"),
    and pandas, inferring one format from the first value, failed on the other.
    """
    answers = Submission.answers
    line = func.concat_ws(
        ",",
        Submission.id,
        Submission.desk_id,
        Submission.route,
        _epoch_microseconds(Submission.submitted_at),
        *[func.coalesce(answers[code].as_string(), "") for code in codes],
    )
    texts = [answers[code].as_string() for code in text_codes]
    text_rows = (
        func.json_agg(func.json_build_array(Submission.id, *texts)).filter(
            or_(*[t.is_not(None) for t in texts])
        )
        if texts
        else null()
    )
    parts = LOAD_PARTS if until_id - after_id > PARALLEL_LOAD_ROWS else 1
    bounds = [after_id + (until_id - after_id) * k // parts for k in range(parts + 1)]
    queries = [
        select(func.string_agg(line, "\n"), text_rows).where(
            Submission.campaign_id == campaign_id, Submission.id > low, Submission.id <= high
        )
        for low, high in itertools.pairwise(bounds)
    ]
    if parts == 1:
        results = [db.session.execute(queries[0]).one()]
    else:
        # Connections of their own, outside the request pool: requests holding one pooled
        # connection each and waiting for four more could otherwise wait for each other.
        engine = current_app.extensions.get("analysis_load_engine")
        if engine is None:
            engine = create_engine(db.engine.url, poolclass=NullPool)
            current_app.extensions["analysis_load_engine"] = engine

        def read(query: Select[Any]) -> Any:
            with engine.connect() as connection:
                return connection.execute(query).one()

        with ThreadPoolExecutor(parts) as pool:
            results = list(pool.map(read, queries))
    text = "\n".join(csv for csv, _ in results if csv)
    dtypes = {
        "submission_id": "int64",
        "desk_id": "int64",
        "route": "object",
        "submitted_at": "int64",
        **dict.fromkeys(codes, "float64"),
    }
    wide = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=list(dtypes),
        keep_default_na=False,
        na_values=[""],
        dtype=dtypes,
    )
    wide["submitted_at"] = pd.to_datetime(wide["submitted_at"], unit="us")
    comments = [
        (row[0], value)
        for _, rows in results
        for row in rows or ()
        for value in row[1:]
        if value is not None
    ]
    return wide, _comment_frame(comments)


def _epoch_microseconds(column: Any) -> Any:
    """A stored instant (naive UTC) as whole microseconds since 1970, in SQL."""
    return func.round(func.extract("epoch", column) * 1_000_000).cast(BigInteger)


def _read(
    campaign_id: int, codes: list[str], text_codes: list[str], after_id: int, until_id: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """As :func:`_read_postgresql`, through plain rows (SQLite and others)."""
    answers = Submission.answers
    in_range = (
        Submission.campaign_id == campaign_id,
        Submission.id > after_id,
        Submission.id <= until_id,
    )
    rows = db.session.execute(
        select(
            Submission.id,
            Submission.desk_id,
            Submission.route,
            Submission.submitted_at,
            *[answers[code].as_integer() for code in codes],
        ).where(*in_range)
    ).all()
    comments: list[tuple[int, str]] = []
    for code in text_codes:
        text = answers[code].as_string()
        comments += [
            (sid, value)
            for sid, value in db.session.execute(
                select(Submission.id, text).where(*in_range, text.is_not(None))
            )
        ]
    wide = pd.DataFrame(
        {
            "submission_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "desk_id": pd.Series([r[1] for r in rows], dtype="int64"),
            "route": pd.Series([r[2] for r in rows], dtype="object"),
            # datetime objects, converted by SQLAlchemy's DateTime type: nothing to parse.
            "submitted_at": pd.Series([r[3] for r in rows], dtype="datetime64[us]"),
            **{
                code: pd.Series([r[4 + k] for r in rows], dtype="float64")
                for k, code in enumerate(codes)
            },
        }
    )
    return wide, _comment_frame(comments)


def _comment_frame(comments: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": pd.Series([sid for sid, _ in comments], dtype=np.int64),
            "text": pd.Series([text for _, text in comments], dtype=object),
        }
    )


def load_responses(campaign: Campaign, after_id: int = 0, until_id: int | None = None) -> Responses:
    """One row per submission: desk, agency, route, submitted_at and a column per choice item.

    Single choices are read out of the answers documents by the database
    (``answers ->> code``), one row per submission, in id order; item columns
    are floats with NaN for "not answered". Only submissions with ids in
    (``after_id``, ``until_id``] are read (the cache's increments; ``until_id``
    None: all).
    """
    questionnaire = definition(campaign.questionnaire_version)
    codes = choice_columns(questionnaire)
    text_codes = [i.code for i in questionnaire.items if kind_of(i).comment]
    if until_id is None:
        until_id = (
            db.session.scalar(
                select(func.max(Submission.id)).where(Submission.campaign_id == campaign.id)
            )
            or 0
        )
    read = _read_postgresql if db.engine.dialect.name == "postgresql" else _read
    wide, comments = read(campaign.id, codes, text_codes, after_id, until_id)
    wide = wide.sort_values("submission_id", ignore_index=True)
    desks = {
        desk_id: (desk, agency)
        for desk_id, desk, agency in db.session.execute(
            select(Desk.id, Desk.code, Agency.code).join(Agency, Agency.id == Desk.agency_id)
        )
    }
    desk_ids = wide["desk_id"].astype(np.int64)
    frame = pd.DataFrame(
        {
            "submission_id": wide["submission_id"].to_numpy(dtype=np.int64),
            "desk": desk_ids.map({d: desk for d, (desk, _) in desks.items()}).astype(object),
            "agency": desk_ids.map({d: agency for d, (_, agency) in desks.items()}).astype(object),
            "route": wide["route"].astype(object),
            "submitted_at": localtime.local_series(wide["submitted_at"]),
        }
    )
    values = wide[codes].to_numpy(dtype=np.float64, na_value=np.nan)
    frame = pd.concat([frame, pd.DataFrame(values, columns=codes)], axis=1)
    return Responses(frame, comments)


def data_version(campaign: Campaign) -> tuple[int, int, str]:
    """(newest id, count, newest uid) of the campaign's submissions: the cache key.

    The random uid of the newest submission tells a rebuilt database from the
    one a cached frame came from, even when ids and counts happen to agree.
    """
    latest, count = db.session.execute(
        select(func.max(Submission.id), func.count(Submission.id)).where(
            Submission.campaign_id == campaign.id
        )
    ).one()
    uid = ""
    if latest is not None:
        uid = db.session.scalar(select(Submission.uid).where(Submission.id == latest)) or ""
    return int(latest or 0), int(count or 0), uid


Version = tuple[int, int, str]

_campaign_locks: dict[int, threading.RLock] = {}
_campaign_locks_guard = threading.Lock()


def campaign_lock(campaign_id: int) -> threading.RLock:
    """One lock per campaign: concurrent requests wait for one load or computation
    instead of each doing it (gunicorn runs many threads per worker)."""
    with _campaign_locks_guard:
        return _campaign_locks.setdefault(campaign_id, threading.RLock())


class FrameCache:
    """The responses of the last few campaigns, kept in step with the database.

    Checked on every use against :func:`data_version`: unchanged data reuse the
    frame; new submissions only (ids above the cached newest, count grown by as
    many, the cached newest still there) are loaded and appended; anything else
    (a deletion) reloads all. A new frame object means new designs and results,
    so nothing stale is shown.

    With ``ANALYSIS_CACHE_DIR`` set (the app sets it to ``instance/analysis-cache``
    outside tests) the responses are also kept on disk, so a restarted server
    reads a pickle and the few submissions since, not millions of answer rows.
    """

    # Rewrite the disk copy when this many submissions were appended since (or 5%).
    DISK_REWRITE_ROWS = 1000

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[Version, Responses]] = OrderedDict()
        self._written: dict[int, int] = {}
        self._lock = threading.Lock()

    def responses(self, campaign: Campaign) -> Responses:
        with campaign_lock(campaign.id):
            return self._responses(campaign)

    def _responses(self, campaign: Campaign) -> Responses:
        version = data_version(campaign)
        with self._lock:
            cached = self._items.get(campaign.id)
            if cached is not None:
                self._items.move_to_end(campaign.id)
        if cached is None:
            cached = self._read_disk(campaign)
        if cached is not None and cached[0] == version:
            self._remember(campaign, version, cached[1])
            return cached[1]
        loaded = None
        if cached is not None and version[0] > cached[0][0] and self._still_there(cached[0]):
            (old_latest, old_count, _), old = cached
            new = load_responses(campaign, after_id=old_latest, until_id=version[0])
            if old_count + len(new.frame) == version[1]:
                loaded = Responses(
                    pd.concat([old.frame, new.frame], ignore_index=True),
                    pd.concat([old.comments, new.comments], ignore_index=True),
                )
        if loaded is None:
            loaded = load_responses(campaign, until_id=version[0])
            self._written.pop(campaign.id, None)
        self._remember(campaign, version, loaded)
        return loaded

    def get(self, campaign: Campaign) -> pd.DataFrame:
        return self.responses(campaign).frame

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._written.clear()

    # -------------------------------------------------------------- internals
    @staticmethod
    def _still_there(version: Version) -> bool:
        latest, _, uid = version
        found = db.session.scalar(select(Submission.uid).where(Submission.id == latest))
        return found == uid

    def _remember(self, campaign: Campaign, version: Version, responses: Responses) -> None:
        with self._lock:
            self._items[campaign.id] = (version, responses)
            self._items.move_to_end(campaign.id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        written = self._written.get(campaign.id)
        rows = len(responses.frame)
        if written is None or rows - written >= max(self.DISK_REWRITE_ROWS, written // 20):
            self._write_disk(campaign, version, responses)

    @staticmethod
    def _path(campaign: Campaign) -> Any:
        from pathlib import Path

        from flask import has_app_context

        if not has_app_context():
            return None
        directory = settings().analysis_cache_dir
        if not directory:
            return None
        return Path(str(directory)) / f"campaign-{campaign.id}.pkl"

    def _read_disk(self, campaign: Campaign) -> tuple[Version, Responses] | None:
        import pickle

        path = self._path(campaign)
        if path is None or not path.exists():
            return None
        try:
            with path.open("rb") as handle:
                stored = pickle.load(handle)
        except Exception:  # noqa: BLE001  (a damaged cache file is simply ignored)
            return None
        content = campaign.questionnaire_version.content_hash
        if stored.get("content_hash") != content:
            return None
        self._written[campaign.id] = len(stored["responses"].frame)
        return tuple(stored["version"]), stored["responses"]  # type: ignore[return-value]

    def _write_disk(self, campaign: Campaign, version: Version, responses: Responses) -> None:
        import os
        import pickle

        path = self._path(campaign)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(
                {
                    "version": version,
                    "responses": responses,
                    "content_hash": campaign.questionnaire_version.content_hash,
                },
                handle,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        os.replace(temporary, path)
        self._written[campaign.id] = len(responses.frame)


frames = FrameCache()


# ------------------------------------------------------------------ periods
@dataclass(frozen=True)
class Period:
    """A bucket of submitted_at: the whole campaign, a year, a quarter or a month."""

    code: str
    label: str
    start: dt.date
    end: dt.date  # inclusive
    kind: str  # campaign | year | quarter | month


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def campaign_periods(campaign: Campaign) -> list[Period]:
    """The campaign, its years, quarters and months (clipped to the campaign's dates)."""
    start, end = campaign.starts_on, campaign.ends_on
    out = [Period("all", "Toàn đợt khảo sát", start, end, "campaign")]
    years = range(start.year, end.year + 1)
    if len(years) > 1:
        for y in years:
            out.append(
                Period(
                    str(y),
                    f"Năm {y}",
                    max(start, dt.date(y, 1, 1)),
                    min(end, dt.date(y, 12, 31)),
                    "year",
                )
            )
    for y in years:
        for q in range(1, 5):
            q_start, q_end = dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
            if q_end >= start and q_start <= end:
                out.append(
                    Period(
                        f"{y}-Q{q}", f"Quý {q}/{y}", max(start, q_start), min(end, q_end), "quarter"
                    )
                )
    for y in years:
        for m in range(1, 13):
            m_start, m_end = dt.date(y, m, 1), _month_end(y, m)
            if m_end >= start and m_start <= end:
                out.append(
                    Period(
                        f"{y}-{m:02d}",
                        f"Tháng {m}/{y}",
                        max(start, m_start),
                        min(end, m_end),
                        "month",
                    )
                )
    return out


def find_period(campaign: Campaign, code: str | None) -> Period | None:
    """The period with this code; None if the code is unknown."""
    for period in campaign_periods(campaign):
        if period.code == (code or "all"):
            return period
    return None


@dataclass(frozen=True)
class Comparison:
    """What a period is compared with: an earlier bucket, or the previous campaign."""

    campaign: Campaign
    period: Period
    same_campaign: bool

    @property
    def label(self) -> str:
        if self.same_campaign:
            return self.period.label
        return f"{self.campaign.name} ({self.period.label.lower()})"


def previous_period(campaign: Campaign, period: Period) -> Comparison | None:
    """The bucket before ``period`` in this campaign, else the previous campaign.

    The previous campaign is the same scope's previous period (kỳ trước): the
    latest campaign of the same agency with the same questionnaire (any version)
    that ended before this one started. Another agency's campaign is never
    compared with, whoever looks; an officer sees the previous one only through
    the same domain rules as this one.
    """
    if period.kind != "campaign":
        same_kind = [p for p in campaign_periods(campaign) if p.kind == period.kind]
        earlier = [p for p in same_kind if p.end < period.start]
        if earlier:
            return Comparison(campaign, earlier[-1], True)
    other = db.session.scalar(
        select(Campaign)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Campaign.questionnaire_version_id)
        .where(
            Campaign.id != campaign.id,
            Campaign.agency_id == campaign.agency_id,
            QuestionnaireVersion.questionnaire_id
            == campaign.questionnaire_version.questionnaire_id,
            Campaign.ends_on < campaign.starts_on,
        )
        .order_by(Campaign.ends_on.desc(), Campaign.id.desc())
        .limit(1)
    )
    return None if other is None else Comparison(other, campaign_periods(other)[0], False)


def in_period(frame: pd.DataFrame, period: Period) -> np.ndarray:
    """Rows submitted within the period (inclusive dates)."""
    stamps = frame["submitted_at"]
    start = pd.Timestamp(period.start)
    stop = pd.Timestamp(period.end) + pd.Timedelta(days=1)
    return ((stamps >= start) & (stamps < stop)).to_numpy()


# ------------------------------------------------------------------ results
LEVEL_NAMES = ("Tổng thể", "Nhóm", "Tiêu chí")
LEAF_LEVEL = "Câu hỏi"
# Below these, the dashboard warns that an interval is too wide to conclude.
MIN_N = 30
MAX_HALF_WIDTH = 0.05
WIDE_WARNING = "Khoảng tin cậy rộng, chưa đủ cơ sở kết luận"
BREAKDOWN_VARIABLES = ("gender", "age_group", "field")
VIEW = "_view"


@dataclass
class NodeResult:
    """One index node in one domain, as scoring computed it (shares in [0, 1])."""

    code: str
    label: str
    depth: int
    is_leaf: bool
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    df: int
    deff: float
    note: str = ""
    children: list[NodeResult] = field(default_factory=list)

    @property
    def level_name(self) -> str:
        if self.is_leaf:
            return LEAF_LEVEL
        return LEVEL_NAMES[min(self.depth, len(LEVEL_NAMES) - 1)]

    @property
    def is_criterion(self) -> bool:
        """Tiêu chí: a node whose children are items."""
        return not self.is_leaf and bool(self.children) and all(c.is_leaf for c in self.children)

    @property
    def wide(self) -> bool:
        """Too uncertain to conclude: n < 30 or a half-width above 5 points."""
        if self.n < MIN_N or not (np.isfinite(self.ci_low) and np.isfinite(self.ci_high)):
            return True
        return (self.ci_high - self.ci_low) / 2 > MAX_HALF_WIDTH

    def pct(self, name: str = "estimate") -> float:
        return float(getattr(self, name)) * 100.0

    def walk(self) -> Iterable[NodeResult]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, code: str) -> NodeResult | None:
        return next((n for n in self.walk() if n.code == code), None)


class AnalysisError(ValueError):
    """The campaign's data cannot be analysed as set (message in Vietnamese)."""


def _index_table(
    design: Any, questionnaire: Questionnaire, bys: list[str], settings: WeightingSettings
) -> pd.DataFrame:
    """The index tree of every domain of each ``bys`` column: a row per (node, domain, value).

    Columns: node, domain, level, estimate, se, ci_low, ci_high, df, n, deff, note.
    """
    from scoring.errors import ScoringError
    from scoring.index_tree import compute_index_tree

    try:
        return compute_index_tree(
            questionnaire,
            design,
            bys,
            level=settings.level,
            method=settings.ci_method,  # type: ignore[arg-type]
        )
    except ScoringError as error:
        raise AnalysisError(f"Không tính được chỉ số: {error}") from None


def build_design(frame: pd.DataFrame, settings: WeightingSettings) -> Any:
    """The campaign's survey design with the analysts' strata, clusters and calibration."""
    from scoring.design import SurveyDesign
    from scoring.errors import ScoringError
    from scoring.weighting import post_stratify, rake

    if len(frame) < 2:
        raise AnalysisError("Đợt khảo sát chưa có đủ phiếu để tính chỉ số (cần ít nhất 2 phiếu).")
    try:
        design = SurveyDesign.from_dataframe(
            frame, strata=settings.strata, psu=settings.cluster, lonely_psu="adjust"
        )
        if settings.calibration == "poststratify" and settings.margins:
            margin = settings.margins[0]
            population = {
                (cell if len(cell) > 1 else cell[0]): count for cell, count in margin.cells.items()
            }
            by = list(margin.variables) if len(margin.variables) > 1 else margin.variables[0]
            design = post_stratify(design, by, population)
        elif settings.calibration == "rake" and settings.margins:
            design = rake(
                design,
                [(m.variables[0], {c[0]: v for c, v in m.cells.items()}) for m in settings.margins],
            )
    except ScoringError as error:
        raise AnalysisError(f"Không tính được trọng số với cài đặt hiện tại: {error}") from None
    return design


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


# Designs by (frame identity, settings); results by everything that defines them.
_designs = _LRU(4)
_results = _LRU(64)


def clear_caches() -> None:
    frames.clear()
    _designs.clear()
    _results.clear()


def design_for(frame: pd.DataFrame, settings: WeightingSettings) -> Any:
    key = (id(frame), settings.key())
    cached = _designs.get(key)
    if cached is not None and cached[0] is frame:
        return cached[1]
    design = build_design(frame, settings)
    _designs.put(key, (frame, design))
    return design


def with_domains(design: Any, columns: Mapping[str, Any]) -> Any:
    """The same design (weights, calibration) with extra domain columns in its data."""
    from dataclasses import replace

    return replace(design, data=design.data.assign(**columns))


def tree_from_table(
    table: pd.DataFrame, questionnaire: Questionnaire, domain: object
) -> NodeResult:
    """The index tree of one domain, nodes in questionnaire order."""
    assert questionnaire.index is not None
    rows = table[table["level"] == domain] if domain is not None else table
    by_node = {str(r["node"]): r for r in rows.to_dict("records")}

    def build(node: IndexNode, depth: int) -> NodeResult:
        r = by_node.get(node.code, {})
        label = node.label.get("vi", node.code)
        if node.is_leaf and node.item is not None:
            label = questionnaire.item(node.item).text.get("vi", node.code)
        return NodeResult(
            code=node.code,
            label=label,
            depth=depth,
            is_leaf=node.is_leaf,
            estimate=_f(r.get("estimate")),
            se=_f(r.get("se")),
            ci_low=_f(r.get("ci_low")),
            ci_high=_f(r.get("ci_high")),
            n=_i(r.get("n")),
            df=_i(r.get("df")),
            deff=_f(r.get("deff")),
            note=str(r.get("note") or ""),
            children=[build(c, depth + 1) for c in node.children],
        )

    return build(questionnaire.index, 0)


def _f(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _i(value: object) -> int:
    v = _f(value)
    return int(v) if np.isfinite(v) else 0


# ------------------------------------------------------------------ the dashboard
@dataclass
class GroupRow:
    """A desk, an agency or a respondent group, with its overall index."""

    code: str
    label: str
    result: NodeResult
    group: int = 0  # rows with the same number do not differ significantly


@dataclass
class Change:
    """A node's change since the comparison period."""

    code: str
    label: str
    current: NodeResult
    previous: NodeResult
    test: Difference


@dataclass
class View:
    """What one user sees of one campaign in one period."""

    campaign: Campaign
    questionnaire: Questionnaire
    settings: WeightingSettings
    period: Period
    agency_codes: frozenset[str] | None  # None: every agency
    frame: pd.DataFrame
    mask: np.ndarray
    comments: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def settings_text(self) -> str:
        return self.settings.describe(self.questionnaire)

    @property
    def n(self) -> int:
        return int(self.mask.sum())

    def key(self, *parts: object) -> tuple[object, ...]:
        return (
            self.campaign.id,
            id(self.frame),
            self.settings.key(),
            self.period.code,
            None if self.agency_codes is None else tuple(sorted(self.agency_codes)),
            *parts,
        )


def visible_agency_codes(user: Any) -> frozenset[str] | None:
    """Codes of the agencies a user may see; None for every agency (admin, analyst)."""
    from survey_app.access import visible_agency_ids

    ids = visible_agency_ids(user)
    if ids is None:
        return None
    if not ids:
        return frozenset()
    return frozenset(db.session.scalars(select(Agency.code).where(Agency.id.in_(ids))))


def make_view(campaign: Campaign, user: Any, period: Period) -> View:
    responses = frames.responses(campaign)
    frame = responses.frame
    codes = visible_agency_codes(user)
    mask = in_period(frame, period)
    if codes is not None:
        mask = mask & frame["agency"].isin(codes).to_numpy()
    return View(
        campaign=campaign,
        questionnaire=definition(campaign.questionnaire_version),
        settings=current_settings(campaign),
        period=period,
        agency_codes=codes,
        frame=frame,
        mask=mask,
        comments=responses.comments,
    )


def _cached(key: tuple[object, ...], compute: Any) -> Any:
    value = _results.get(key)
    if value is None:
        value = compute()
        _results.put(key, value)
    return value


def view_tree(view: View) -> NodeResult:
    """The index tree of the view's domain (period and agency subtree) of the campaign design."""

    def compute() -> NodeResult:
        table = view_tables(view, [None])[None]
        level = table["level"].iloc[0] if len(table) else None
        return tree_from_table(table, view.questionnaire, level)

    return _cached(view.key("tree"), compute)  # type: ignore[no-any-return]


def view_table(view: View, by: str | None = None) -> pd.DataFrame:
    """Scoring's long index table for the view (and per ``by`` domain within it)."""
    return view_tables(view, [by])[by]


def view_tables(view: View, bys: Iterable[str | None]) -> dict[str | None, pd.DataFrame]:
    """Index tables of the view split by each of ``bys`` (None: the view as one domain).

    Whatever is not cached yet is computed by scoring in one call (one pass
    over the rows for all the domain partitions).
    """
    bys = list(dict.fromkeys(bys))
    out: dict[str | None, pd.DataFrame] = {}
    for by in bys:
        cached = _results.get(view.key("table", by))
        if cached is not None:
            out[by] = cached
    if len(out) == len(bys):
        return out
    with campaign_lock(view.campaign.id):
        return _compute_tables(view, bys, out)


def _compute_tables(
    view: View, bys: list[str | None], out: dict[str | None, pd.DataFrame]
) -> dict[str | None, pd.DataFrame]:
    missing = []
    for by in bys:
        cached = _results.get(view.key("table", by))  # another thread may have computed it
        if cached is None:
            missing.append(by)
        else:
            out[by] = cached
    if not missing:
        return out
    if view.n == 0:
        for by in missing:
            out[by] = _empty_table()
        return out
    inside = pd.Series(view.mask, index=view.frame.index)
    columns = {}
    for by in missing:
        column = view.frame[by] if by else pd.Series(1.0, index=view.frame.index)
        columns[f"{VIEW}:{by or ''}"] = column.where(inside)
    # One scoring call for every partition: one pass over the rows.
    design = with_domains(design_for(view.frame, view.settings), columns)
    table = _index_table(design, view.questionnaire, list(columns), view.settings)
    for by, name in zip(missing, columns, strict=True):
        part = table[table["domain"] == name].reset_index(drop=True)
        _results.put(view.key("table", by), part)
        out[by] = part
    return out


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "node",
            "domain",
            "level",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "df",
            "n",
            "deff",
            "note",
        ]
    )


def group_rows(view: View, by: str, labels: Mapping[object, str]) -> list[GroupRow]:
    """Overall index per desk / agency / respondent group, with overlap groups."""
    cached = _results.get(view.key("groups", by))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    table = view_table(view, by)
    assert view.questionnaire.index is not None
    root = view.questionnaire.index
    label = root.label.get("vi", root.code)
    rows = []
    # Only the overall node of each group is shown: no need to build whole trees.
    for r in table[table["node"] == root.code].to_dict("records"):
        key = _label_key(r["level"])
        node = NodeResult(
            code=root.code,
            label=label,
            depth=0,
            is_leaf=False,
            estimate=_f(r["estimate"]),
            se=_f(r["se"]),
            ci_low=_f(r["ci_low"]),
            ci_high=_f(r["ci_high"]),
            n=_i(r["n"]),
            df=_i(r["df"]),
            deff=_f(r["deff"]),
            note=str(r.get("note") or ""),
        )
        rows.append(GroupRow(str(key), labels.get(key, str(key)), node))
    rows.sort(key=lambda r: -r.result.estimate if np.isfinite(r.result.estimate) else 1e9)
    grouped = overlap_groups(rows)
    _results.put(view.key("groups", by), grouped)
    return grouped


def _label_key(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def overlap_groups(rows: list[GroupRow]) -> list[GroupRow]:
    """Number rows (best first) into groups whose intervals overlap the group's leader.

    Nhóm "không khác biệt có ý nghĩa": within a group no ranking is claimed.
    Overlapping intervals are a conservative display rule, not a test.
    """
    group, leader = 0, None
    for row in rows:
        r = row.result
        if leader is None or not (np.isfinite(r.ci_high) and r.ci_high >= leader.ci_low):
            group += 1
            leader = r
        row.group = group
    return rows


def changes(view: View, current: NodeResult, previous: NodeResult | None) -> list[Change]:
    """Change of the overall index, the groups and the criteria since the comparison period."""
    if previous is None:
        return []
    out = []
    for node in current.walk():
        if node.is_leaf:
            continue
        before = previous.find(node.code)
        if before is None:
            continue
        test = difference_test(
            node.estimate, node.se, before.estimate, before.se, node.df, before.df
        )
        out.append(Change(node.code, node.label, node, before, test))
    return out


def comparison_tree(view: View, comparison: Comparison | None, user: Any) -> NodeResult | None:
    if comparison is None:
        return None
    if comparison.same_campaign:
        other = make_view(view.campaign, user, comparison.period)
    else:
        other = make_view(comparison.campaign, user, comparison.period)
    if other.n == 0:
        return None
    try:
        return view_tree(other)
    except AnalysisError:
        return None


def timeline(view: View) -> list[tuple[str, int]]:
    """Responses per week (periods up to ~3 months) or per month."""
    stamps = view.frame.loc[view.mask, "submitted_at"]
    days = (view.period.end - view.period.start).days
    if days <= 100:
        start = pd.Timestamp(view.period.start)
        weeks = ((stamps - start).dt.days // 7).value_counts()
        count = days // 7 + 1
        return [
            ((start + pd.Timedelta(days=7 * k)).strftime("%d/%m"), int(weeks.get(k, 0)))
            for k in range(count)
        ]
    months = stamps.dt.to_period("M").value_counts()
    out = []
    for p in pd.period_range(view.period.start, view.period.end, freq="M"):
        out.append((f"{p.month:02d}/{p.year}", int(months.get(p, 0))))
    return out


def option_labels(questionnaire: Questionnaire, code: str) -> dict[object, str]:
    for item in (*questionnaire.respondent, *questionnaire.items):
        if item.code == code:
            return {o.code: o.label.get("vi", str(o.code)) for o in item.options}
    return {}


def names(model: Any, codes: Iterable[str]) -> dict[object, str]:
    rows = db.session.execute(select(model.code, model.name).where(model.code.in_(list(codes))))
    return {code: name for code, name in rows}


@dataclass
class Dashboard:
    view: View
    periods: list[Period]
    comparison: Comparison | None
    tree: NodeResult
    previous: NodeResult | None
    weakest: list[NodeResult]
    desks: list[GroupRow]
    agencies: list[GroupRow]
    breakdowns: list[tuple[str, list[GroupRow]]]
    changes: list[Change]
    timeline: list[tuple[str, int]]


def dashboard(campaign: Campaign, user: Any, period: Period) -> Dashboard:
    """Everything the dashboard page shows, from one frame and one design."""
    view = make_view(campaign, user, period)
    respondent_codes = {i.code: i for i in view.questionnaire.respondent}
    breakdown_codes = [c for c in BREAKDOWN_VARIABLES if c in respondent_codes]
    view_tables(view, [None, "desk", "agency", *breakdown_codes])
    tree = view_tree(view)
    comparison = previous_period(campaign, period)
    previous = comparison_tree(view, comparison, user)
    criteria = [n for n in tree.walk() if n.is_criterion]
    weakest = sorted(
        criteria, key=lambda n: n.estimate if np.isfinite(n.estimate) else float("inf")
    )
    frame = view.frame[view.mask]
    desks = group_rows(view, "desk", names(Desk, frame["desk"].unique())) if view.n else []
    agencies = group_rows(view, "agency", names(Agency, frame["agency"].unique())) if view.n else []
    breakdowns = []
    for code in breakdown_codes:
        if view.n:
            label = respondent_codes[code].text.get("vi", code)
            breakdowns.append(
                (label, group_rows(view, code, option_labels(view.questionnaire, code)))
            )
    return Dashboard(
        view=view,
        periods=campaign_periods(campaign),
        comparison=comparison,
        tree=tree,
        previous=previous,
        weakest=weakest,
        desks=desks,
        agencies=agencies,
        breakdowns=breakdowns,
        changes=changes(view, tree, previous),
        timeline=timeline(view),
    )


# ------------------------------------------------------------------ drill-down and comments
@dataclass
class ItemDistribution:
    node: NodeResult
    options: list[tuple[str, int, float, bool]]  # label, count, weighted share, valid


def criterion_detail(view: View, node_code: str) -> tuple[NodeResult, list[ItemDistribution]]:
    """One criterion's items, each with its index and its answers in the view.

    Each option has its count of responses and its share of the item's answers
    weighted by the design's (calibrated) weights, so the distribution agrees
    with the index beside it; without weighting every response weighs 1.
    """
    tree = view_tree(view)
    node = tree.find(node_code)
    if node is None:
        raise KeyError(node_code)
    frame = view.frame[view.mask]
    weights = design_for(view.frame, view.settings).weights[view.mask]
    items = []
    for leaf in [n for n in node.walk() if n.is_leaf]:
        item = view.questionnaire.item(leaf.code)
        codes = frame[leaf.code].to_numpy() if leaf.code in frame else np.array([])
        answered = weights[~np.isnan(codes)].sum() if codes.size else 0.0
        options = []
        for option in item.options:
            chosen = codes == option.code
            options.append(
                (
                    option.label.get("vi", str(option.code)),
                    int(chosen.sum()),
                    float(weights[chosen].sum() / answered) if answered else 0.0,
                    option.valid,
                )
            )
        items.append(ItemDistribution(leaf, options))
    return node, items


@dataclass
class Comment:
    submitted_at: dt.datetime
    desk: str
    text: str


def comments(view: View, page: int, size: int = 20) -> tuple[list[Comment], int]:
    """Free-text answers in the view, newest first; and the number of pages."""

    def compute() -> pd.DataFrame:
        inside = view.frame.loc[view.mask, ["submission_id", "desk", "submitted_at"]]
        if view.comments.empty:
            return inside.iloc[0:0].assign(text="")
        found = view.comments.merge(inside, on="submission_id")
        found = found[found["text"].fillna("").str.strip() != ""]
        return found.sort_values(["submitted_at", "submission_id"], ascending=False)

    found = _cached(view.key("comments"), compute)
    pages = max(1, -(-len(found) // size))
    page = min(max(1, page), pages)
    rows = found.iloc[(page - 1) * size : page * size]
    desk_names = names(Desk, rows["desk"].unique())
    return [
        Comment(r.submitted_at.to_pydatetime(), desk_names.get(r.desk, r.desk), r.text)
        for r in rows.itertuples()
    ], pages
