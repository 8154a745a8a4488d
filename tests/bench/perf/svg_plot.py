"""A dependency-free SVG line chart (matplotlib is not installed here): one or more panels of
named series over a shared x axis, with axes, ticks, a legend and an optional horizontal line."""
from xml.sax.saxutils import escape

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f"]


def _ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    step = (hi - lo) / n
    return [lo + i * step for i in range(n + 1)]


class Panel:
    def __init__(self, title, ylabel, series, hline=None, ylim=None):
        self.title, self.ylabel, self.series, self.hline = title, ylabel, series, hline
        ys = [y for _, pts in series for _, y in pts]
        if hline is not None:
            ys.append(hline)
        self.ylim = ylim or (min(ys), max(ys)) if ys else (0, 1)


def render(path, panels, xlabel, width=860, panel_height=300):
    margin_l, margin_r, margin_t, margin_b = 70, 190, 30, 45
    height = panel_height * len(panels)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    xs = [x for p in panels for _, pts in p.series for x, _ in pts] or [0, 1]
    xlo, xhi = min(xs), max(xs)
    for i, panel in enumerate(panels):
        box = (margin_l, i * panel_height + margin_t, width - margin_l - margin_r,
               panel_height - margin_t - margin_b)
        out += _panel(panel, box, (xlo, xhi), xlabel)
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def _panel(panel, box, xlim, xlabel):
    x0, y0, w, h = box
    (xlo, xhi), (ylo, yhi) = xlim, panel.ylim
    xhi = xhi if xhi > xlo else xlo + 1
    yhi = yhi if yhi > ylo else ylo + 1
    sx = lambda x: x0 + (x - xlo) / (xhi - xlo) * w
    sy = lambda y: y0 + h - (y - ylo) / (yhi - ylo) * h
    out = [f'<text x="{x0 + w / 2}" y="{y0 - 10}" text-anchor="middle" font-weight="bold">'
           f'{escape(panel.title)}</text>',
           f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#444"/>']
    for t in _ticks(ylo, yhi):
        out.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" '
                   f'stroke="#ddd"/><text x="{x0 - 6}" y="{sy(t) + 4:.1f}" '
                   f'text-anchor="end">{t:.3g}</text>')
    for t in _ticks(xlo, xhi, int(min(10, max(1, xhi - xlo)))):
        out.append(f'<text x="{sx(t):.1f}" y="{y0 + h + 16}" text-anchor="middle">{t:.3g}</text>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle">'
               f'{escape(xlabel)}</text>')
    out.append(f'<text transform="translate({x0 - 50},{y0 + h / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(panel.ylabel)}</text>')
    if panel.hline is not None:
        out.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{sy(panel.hline):.1f}" '
                   f'y2="{sy(panel.hline):.1f}" stroke="#000" stroke-dasharray="4 3"/>')
    for k, (name, pts) in enumerate(panel.series):
        color = COLORS[k % len(COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>')
        ly = y0 + 14 + 16 * k
        out.append(f'<line x1="{x0 + w + 12}" x2="{x0 + w + 32}" y1="{ly - 4}" y2="{ly - 4}" '
                   f'stroke="{color}" stroke-width="2"/><text x="{x0 + w + 38}" y="{ly}">'
                   f'{escape(name)}</text>')
    return out
