"""Charts for the review UI as inline SVG, rendered on the server (no JS chart library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup
from markupsafe import escape as _escape


def escape(value: object) -> str:
    """HTML-escaped text as a plain ``str`` (a Markup would escape what it is added to)."""
    return str(_escape(value))


PALETTE = ("#2f6fde", "#3b8fd9", "#23a08a", "#e09a23", "#7b5cd6", "#d0493f")
GRID = "#e3e7ee"
INK = "#1d2330"
MUTED = "#6b7489"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    note: str = ""
    secondary: str = ""
    """A second, smaller label line (e.g. the English beside a Chinese one)."""


def funnel(stages: Sequence[Bar], width: int = 980) -> Markup:
    """Horizontal bars, widest first, each with its count and share of the first stage."""
    row, left, right = 46, 190, 130
    height = row * len(stages) + 10
    top = max((s.value for s in stages), default=0) or 1
    parts = [_svg_open(width, height, "funnel")]
    for index, stage in enumerate(stages):
        y = 6 + index * row
        span = (width - left - right) * stage.value / top
        x = left + ((width - left - right) - span) / 2
        colour = PALETTE[index % len(PALETTE)]
        parts.append(_label(stage, 0, y + 17, anchor="start"))
        parts.append(
            f'<rect x="{left}" y="{y}" width="{width - left - right}" height="32" rx="6" '
            f'fill="{GRID}"/>'
        )
        if span > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(span, 3):.1f}" height="32" rx="6" '
                f'fill="{colour}"><title>{escape(stage.label)}: {stage.value:g}</title></rect>'
            )
        parts.append(
            f'<text x="{width - right + 10}" y="{y + 21}" font-size="15" font-weight="600" '
            f'fill="{INK}">{stage.value:g}'
            f'<tspan font-size="12" font-weight="400" fill="{MUTED}"> {escape(stage.note)}'
            "</tspan></text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bars(bars: Sequence[Bar], width: int = 520, empty: str = "—") -> Markup:
    """Horizontal bars of shares (0..1), e.g. reviewer precision; ``note`` is printed after."""
    row, left, right = 34, 170, 100
    height = max(row * len(bars), row) + 6
    parts = [_svg_open(width, height, "shares")]
    if not bars:
        parts.append(f'<text x="0" y="22" fill="{MUTED}" font-size="13">{escape(empty)}</text>')
    span = width - left - right
    for index, bar in enumerate(bars):
        y = 4 + index * row
        value = min(max(bar.value, 0.0), 1.0)
        colour = "#23a08a" if value >= 0.8 else "#e09a23" if value >= 0.5 else "#d0493f"
        parts.append(_label(bar, 0, y + 14, anchor="start", size=13))
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{span}" height="18" rx="4" fill="{GRID}"/>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{span * value:.1f}" height="18" rx="4" '
            f'fill="{colour}"><title>{escape(bar.label)}: {value:.0%}</title></rect>'
        )
        parts.append(
            f'<text x="{left + span + 8}" y="{y + 18}" font-size="13" fill="{INK}">'
            f'{value:.0%}<tspan fill="{MUTED}" font-size="11"> {escape(bar.note)}</tspan></text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(bars: Sequence[Bar], width: int = 1000, height: int = 210, every: int = 3) -> Markup:
    """Vertical bars (e.g. events per hour); every ``every``-th label is printed."""
    left, bottom, top_pad = 34, 26, 14
    top = max((b.value for b in bars), default=0)
    scale_top = _nice(top)
    plot_h = height - bottom - top_pad
    plot_w = width - left - 6
    parts = [_svg_open(width, height, "columns")]
    for tick in (0, scale_top / 2, scale_top):
        y = top_pad + plot_h - plot_h * (tick / scale_top if scale_top else 0)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}" '
            f'text-anchor="end">{tick:g}</text>'
        )
    slot = plot_w / max(len(bars), 1)
    for index, bar in enumerate(bars):
        h = plot_h * (bar.value / scale_top) if scale_top else 0
        x = left + index * slot + slot * 0.15
        y = top_pad + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" rx="2" '
            f'fill="{PALETTE[0]}"><title>{escape(bar.label)}: {bar.value:g}</title></rect>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" font-size="11" '
                f'fill="{MUTED}" text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class Span:
    row: str
    start: float
    end: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    at: float
    label: str


def timeline(
    spans: Sequence[Span], marks: Sequence[Mark], t0: float, t1: float, width: int = 900
) -> Markup:
    """Rows of time spans (events per camera) with marks (transitions) along a shared axis;
    times are seconds since any fixed origin."""
    rows = list(dict.fromkeys(s.row for s in spans))
    left, row_h, axis = 120, 26, 40
    height = row_h * max(len(rows), 1) + axis + 22
    span_t = max(t1 - t0, 1.0)
    plot = width - left - 10

    def x_of(t: float) -> float:
        return left + plot * (t - t0) / span_t

    parts = [_svg_open(width, height, "timeline")]
    for index, row in enumerate(rows):
        y = 4 + index * row_h
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="12" fill="{INK}">{escape(row)}</text>'
            f'<line x1="{left}" x2="{width - 10}" y1="{y + 12}" y2="{y + 12}" stroke="{GRID}"/>'
        )
        for span in (s for s in spans if s.row == row):
            x1, x2 = x_of(span.start), x_of(span.end)
            parts.append(
                f'<rect x="{x1:.1f}" y="{y + 4}" width="{max(x2 - x1, 4):.1f}" height="16" rx="4" '
                f'fill="{PALETTE[0]}"><title>{escape(span.label)}</title></rect>'
            )
    base = 4 + len(rows) * row_h
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{base}" y2="{base}" stroke="{MUTED}"/>')
    last_label_x = [-1e9] * 3  # three label rows; a label too close to the last is left out
    for mark in marks:
        x = x_of(min(max(mark.at, t0), t1))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{base + 6}" stroke="{PALETTE[3]}" '
            f'stroke-dasharray="3 3"><title>{escape(mark.label)}</title></line>'
            f'<circle cx="{x:.1f}" cy="{base}" r="4" fill="{PALETTE[3]}">'
            f"<title>{escape(mark.label)}</title></circle>"
        )
        row = next((r for r in range(3) if x - last_label_x[r] >= 64), None)
        if row is None:
            continue
        last_label_x[row] = x
        parts.append(
            f'<text x="{x:.1f}" y="{base + 18 + row * 13}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{escape(mark.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _label(bar: Bar, x: float, y: float, *, anchor: str, size: int = 14) -> str:
    text = f'<text x="{x}" y="{y}" font-size="{size}" fill="{INK}" text-anchor="{anchor}">'
    text += escape(bar.label)
    if bar.secondary:
        text += (
            f'<tspan x="{x}" dy="{size}" font-size="{size - 3}" fill="{MUTED}">'
            f"{escape(bar.secondary)}</tspan>"
        )
    return text + "</text>"


def _svg_open(width: int, height: int, kind: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img">'
    )


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return float(step)
    return float(value)
