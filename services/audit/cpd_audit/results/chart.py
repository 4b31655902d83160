"""The results as a picture: the "rhetoric v reality" chart (two lines, values and
practice, across the items) for paired instruments, and a bar chart (percent agree, or the
mean) for the others. Plain SVG, readable at a glance, with a title and description for
screen readers. Withheld items appear as gaps, labelled."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from cpd_audit.results import schemas

WIDTH = 800
HEIGHT = 440
LEFT, RIGHT, TOP, BOTTOM = 70, 30, 70, 90
VALUES_COLOUR = "#1b5e9e"
PRACTICE_COLOUR = "#d9480f"
BAR_COLOUR = "#2f7d4f"
FONT = "font-family='Helvetica, Arial, sans-serif'"


def _text(
    x: float,
    y: float,
    body: str,
    *,
    size: int = 12,
    anchor: str = "middle",
    weight: str = "normal",
    extra: str = "",
) -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' "
        f"font-weight='{weight}' {FONT} {extra}>{escape(body)}</text>"
    )


def _frame(width: int, title: str, desc: str) -> list[str]:
    return [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{HEIGHT}' "
        f"viewBox='0 0 {width} {HEIGHT}' role='img' aria-labelledby='chart-title chart-desc'>",
        f"<title id='chart-title'>{escape(title)}</title>",
        f"<desc id='chart-desc'>{escape(desc)}</desc>",
        f"<rect x='0' y='0' width='{width}' height='{HEIGHT}' fill='white'/>",
        _text(width / 2, 28, title, size=16, weight="bold"),
    ]


def _y_axis(lines: list[str], width: int, lo: float, hi: float, step: float, label: str) -> None:
    plot_h = HEIGHT - TOP - BOTTOM
    lines.append("<g id='y-axis' class='axis'>")
    value = lo
    while value <= hi + 1e-9:
        y = TOP + plot_h - (value - lo) / (hi - lo) * plot_h
        lines.append(
            f"<line x1='{LEFT}' y1='{y:.1f}' x2='{width - RIGHT}' y2='{y:.1f}' "
            "stroke='#e3e3e3' stroke-width='1'/>"
        )
        lines.append(_text(LEFT - 8, y + 4, f"{value:g}", size=11, anchor="end"))
        value += step
    lines.append(f"<line x1='{LEFT}' y1='{TOP}' x2='{LEFT}' y2='{TOP + plot_h}' stroke='#333'/>")
    cx, cy = 20, TOP + plot_h / 2
    lines.append(_text(cx, cy, label, size=12, extra=f"transform='rotate(-90 {cx} {cy:.1f})'"))
    lines.append("</g>")


def _x_axis(lines: list[str], width: int, xs: list[float], keys: list[str], label: str) -> None:
    base = HEIGHT - BOTTOM
    lines.append("<g id='x-axis' class='axis'>")
    lines.append(f"<line x1='{LEFT}' y1='{base}' x2='{width - RIGHT}' y2='{base}' stroke='#333'/>")
    for x, key in zip(xs, keys, strict=True):
        lines.append(f"<line x1='{x:.1f}' y1='{base}' x2='{x:.1f}' y2='{base + 5}' stroke='#333'/>")
        lines.append(_text(x, base + 20, key, size=12))
    lines.append(_text((LEFT + width - RIGHT) / 2, base + 45, label, size=12))
    lines.append("</g>")


def _xs(count: int, width: int) -> list[float]:
    plot_w = width - LEFT - RIGHT
    step = plot_w / max(count, 1)
    return [LEFT + step * (i + 0.5) for i in range(count)]


def _withheld_marks(lines: list[str], xs: list[float], items: list[schemas.ItemResult]) -> None:
    for x, item in zip(xs, items, strict=True):
        if item.withheld:
            lines.append(
                _text(x, TOP + 14, "withheld", size=10, extra="fill='#777' class='withheld'")
            )


def paired_chart(results: schemas.Results) -> str:
    items = [i for i in results.items if i.type == "paired_scale"]
    top = max([5, *(i.scale_max or 5 for i in items)])
    width = max(WIDTH, LEFT + RIGHT + 60 * len(items))
    title = f"Rhetoric v reality: {results.title}"
    desc = "Mean scores per item on a 1 to 5 scale. " + " ".join(
        f"Item {i.item_key}: values {i.mean_values}, practice {i.mean_practice}."
        if not i.withheld
        else f"Item {i.item_key}: withheld."
        for i in items
    )
    lines = _frame(width, title, desc)
    lo, hi = 1.0, float(top)
    plot_h = HEIGHT - TOP - BOTTOM
    _y_axis(lines, width, lo, hi, 1.0, f"Mean score (1 = not at all, {top} = completely)")
    xs = _xs(len(items), width)
    _x_axis(lines, width, xs, [i.item_key for i in items], "Principle (item)")

    def y_of(v: float) -> float:
        return TOP + plot_h - (v - lo) / (hi - lo) * plot_h

    for name, field, colour, dash, label in (
        ("values", "mean_values", VALUES_COLOUR, "", "Values: fits our aims and values"),
        (
            "practice",
            "mean_practice",
            PRACTICE_COLOUR,
            " stroke-dasharray='7 4'",
            "Practice: what actually happens here",
        ),
    ):
        lines.append(f"<g id='series-{name}' class='series {name}' aria-label={quoteattr(label)}>")
        segment: list[str] = []
        points: list[str] = []
        for x, item in zip(xs, items, strict=True):
            value = getattr(item, field)
            if value is None:
                if len(segment) > 1:
                    lines.append(
                        f"<polyline points='{' '.join(segment)}' fill='none' stroke='{colour}' "
                        f"stroke-width='2.5'{dash}/>"
                    )
                segment = []
                continue
            y = y_of(value)
            segment.append(f"{x:.1f},{y:.1f}")
            shape = (
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4.5' fill='{colour}'>"
                if name == "values"
                else f"<rect x='{x - 4:.1f}' y='{y - 4:.1f}' width='8' height='8' fill='{colour}'>"
            )
            closing = "</circle>" if name == "values" else "</rect>"
            tip = escape(f"{item.item_key}: {label.split(':')[0]} {value}")
            points.append(f"{shape}<title>{tip}</title>{closing}")
        if len(segment) > 1:
            lines.append(
                f"<polyline points='{' '.join(segment)}' fill='none' stroke='{colour}' "
                f"stroke-width='2.5'{dash}/>"
            )
        lines += points
        lines.append("</g>")
    _withheld_marks(lines, xs, items)
    # Legend, top right.
    lx = width - RIGHT - 270
    ly = 48
    lines.append("<g id='legend' class='legend'>")
    lines.append(
        f"<line x1='{lx}' y1='{ly}' x2='{lx + 26}' y2='{ly}' stroke='{VALUES_COLOUR}' "
        "stroke-width='2.5'/>"
    )
    lines.append(f"<circle cx='{lx + 13}' cy='{ly}' r='4' fill='{VALUES_COLOUR}'/>")
    lines.append(_text(lx + 32, ly + 4, "Values (fits our aims)", size=12, anchor="start"))
    lx2 = lx + 150
    lines.append(
        f"<line x1='{lx2}' y1='{ly}' x2='{lx2 + 26}' y2='{ly}' stroke='{PRACTICE_COLOUR}' "
        "stroke-width='2.5' stroke-dasharray='7 4'/>"
    )
    lines.append(
        f"<rect x='{lx2 + 9}' y='{ly - 4}' width='8' height='8' fill='{PRACTICE_COLOUR}'/>"
    )
    lines.append(_text(lx2 + 32, ly + 4, "Practice (reality)", size=12, anchor="start"))
    lines.append("</g>")
    lines.append(_footnote(results, width))
    lines.append("</svg>")
    return "\n".join(lines)


def _footnote(results: schemas.Results, width: int) -> str:
    n = results.respondents
    who = (
        f"{n} respondents" if n is not None else f"fewer than {results.min_group_size} respondents"
    )
    return _text(
        width - RIGHT,
        HEIGHT - 12,
        f"{who}; groups under {results.min_group_size} withheld",
        size=10,
        anchor="end",
        extra="fill='#555'",
    )


def bar_chart(results: schemas.Results) -> str:
    items = [i for i in results.items if i.type in ("agreement", "paired_scale")]
    agreement = bool(items) and all(i.type == "agreement" for i in items)
    width = max(WIDTH, LEFT + RIGHT + 26 * len(items))
    title = f"{'Percent agree' if agreement else 'Mean score'}: {results.title}"
    field = "percent_agree" if agreement else "mean"
    desc = " ".join(
        f"Item {i.item_key}: {getattr(i, field)}."
        if not i.withheld
        else f"Item {i.item_key}: withheld."
        for i in items
    )
    lines = _frame(width, title, desc or "No items to chart.")
    top = max([5, *(i.scale_max or 5 for i in items)])
    lo, hi, step = (0.0, 100.0, 20.0) if agreement else (0.0, float(top), 1.0)
    plot_h = HEIGHT - TOP - BOTTOM
    _y_axis(
        lines,
        width,
        lo,
        hi,
        step,
        "Agree or strongly agree (% of those with a view)" if agreement else "Mean score",
    )
    xs = _xs(len(items), width)
    _x_axis(lines, width, xs, [i.item_key for i in items], "Item")
    bar_w = max(6.0, min(40.0, (width - LEFT - RIGHT) / max(len(items), 1) * 0.6))
    lines.append(f"<g id='series-{field}' class='series bars'>")
    for x, item in zip(xs, items, strict=True):
        value = getattr(item, field)
        if value is None:
            continue
        h = (value - lo) / (hi - lo) * plot_h
        lines.append(
            f"<rect x='{x - bar_w / 2:.1f}' y='{TOP + plot_h - h:.1f}' width='{bar_w:.1f}' "
            f"height='{h:.1f}' fill='{BAR_COLOUR}'><title>{escape(f'{item.item_key}: {value}')}"
            "</title></rect>"
        )
    lines.append("</g>")
    _withheld_marks(lines, xs, items)
    lines.append(_footnote(results, width))
    lines.append("</svg>")
    return "\n".join(lines)


def render(results: schemas.Results) -> str:
    return paired_chart(results) if results.paired else bar_chart(results)
