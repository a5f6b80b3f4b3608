"""A self-contained HTML page: inline CSS, images as data URIs, nothing fetched from the network."""

from __future__ import annotations

import base64
import html
import io

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; line-height: 1.4; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warning { background: #fff3cd; border-left: 5px solid #e0a800; padding: 0.5em 1em; margin: 0.4em 0; }
.ok { background: #e8f5e9; border-left: 5px solid #43a047; padding: 0.5em 1em; margin: 0.4em 0; }
.kept { color: #2e7d32; font-weight: bold; } .dropped { color: #c62828; font-weight: bold; }
img { max-width: 100%; } figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; }
.muted { color: #666; font-size: 0.9em; }
"""


def esc(value) -> str:
    return html.escape(str(value))


def fmt(value) -> str:
    if isinstance(value, float) and value != value:  # NaN: not applicable
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}".rstrip("0").rstrip(".")
    return esc(value)


def table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{fmt(c)}</td>'
            if isinstance(c, int | float)
            else f"<td>{c if _is_html(c) else esc(c)}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """Text that is already HTML (not escaped again by :func:`table`)."""


def _is_html(cell) -> bool:
    return isinstance(cell, Markup)


def figure(fig, caption: str) -> str:
    """A matplotlib figure as an inline PNG (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return image(buffer.getvalue(), caption)


def image(png: bytes, caption: str) -> Markup:
    """PNG bytes as an inline image with its caption."""
    data = base64.b64encode(png).decode()
    img = f'<img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
    return Markup(f"<figure>{img}<figcaption>{esc(caption)}</figcaption></figure>")


def section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, sections: list[str], subtitle: str = "") -> str:
    sub = f'<p class="muted">{esc(subtitle)}</p>' if subtitle else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>{sub}{''.join(sections)}</body></html>"
    )
